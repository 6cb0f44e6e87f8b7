"""The shake lottery: activities, draws, refusals, CRM failures, odds and concurrency."""

import math
import random
import threading
import time

import pytest

from jobs.runner import run_job
from tests import samples
from tests.conftest import STAFF_TOKEN, WeChat, database_of
from tests.crm_helpers import Member, Sim, create_activity
from wxmember.shake.draws import ShakeDraws, ShakeRefused

AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}
CASH = "CQL201404010004"  # 返店券, total 2000 on the simulator
VIP = "CQL201408010005"  # VIP专享券, total 100


@pytest.fixture
def shake_app(make_app):
    app = make_app(crm={"timeout_s": 1, "retries": 0})
    run_job(app.extensions["wxmember"], "activities")  # lavico/activity from the CRM
    return app


@pytest.fixture
def sim(shake_app):
    return Sim(shake_app)


def member_with_points(app, sim, openid, points, index=0):
    card = sim.a_member(index=index)
    member = Member(app, openid, sim)
    assert member.bind(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    app.extensions["wxmember"].background.shutdown()  # the opening row from the CRM first
    system = app.extensions["wxmember"].members
    current = system.points.balance(card["MEMBER_ID"])
    if current != points:
        system.points.adjust(card["MEMBER_ID"], points - current, "测试", f"SET-{openid}")
    member.member_id = card["MEMBER_ID"]
    return member


def shake(member, aid, shake_id=None):
    body = {"aid": aid, **({"shakeId": shake_id} if shake_id else {})}
    return member.client.post("/m/api/shake", json=body)


def points_of(app, member):
    return app.extensions["wxmember"].members.points.balance(member.member_id)


def stock_of(app, aid, code=CASH):
    activity = app.extensions["wxmember"].shake_activities.get(aid)
    return next(p["stock"] for p in activity["prizes"] if p["promotion_code"] == code)


# -- activities ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "word"),
    [
        (
            {
                "prizes": [
                    {"promotion_code": CASH, "lottery_chance": 70, "stock": 5},
                    {"promotion_code": VIP, "lottery_chance": 40, "stock": 5},
                ]
            },
            "100",
        ),
        ({"prizes": [{"promotion_code": "NOPE", "lottery_chance": 10, "stock": 5}]}, "NOPE"),
        ({"end": 1}, "end"),
        ({"cycle": "year"}, "cycle"),
        ({"prizes": []}, "prizes"),
        ({"limit": -1}, "limit"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_activity_is_400_naming_the_problem(shake_app, change, word):
    now = int(time.time() * 1000)
    body = {
        "name": "x",
        "start": now,
        "end": now + 1000,
        "points": 1,
        "cycle": "day",
        "prizes": [{"promotion_code": CASH, "lottery_chance": 10, "stock": 1}],
        **change,
    }
    response = shake_app.test_client().post("/api/activities", json=body, headers=AUTH)
    assert response.status_code == 400 and word in response.json["message"]


def test_activity_is_listed_paused_and_resumed(shake_app):
    aid = create_activity(shake_app, [{"promotion_code": CASH, "lottery_chance": 10, "stock": 3}])
    client = shake_app.test_client()
    assert client.get("/api/activities", headers=AUTH).json["items"][0]["aid"] == aid
    assert (
        client.post(f"/api/activities/{aid}/pause", headers=AUTH).json["activity"]["active"]
        is False
    )
    assert client.post(f"/api/activities/{aid}/resume", headers=AUTH).json["activity"]["active"]
    assert client.post("/api/activities/nope/pause", headers=AUTH).status_code == 404


# -- draws ---------------------------------------------------------------------------


def test_a_win_takes_points_and_stock_and_records_everything(shake_app, sim):
    aid = create_activity(
        shake_app,
        [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5, "display_name": "现金券"}],
    )
    member = member_with_points(shake_app, sim, "oWinner", 50)

    response = shake(member, aid)

    body = response.json
    assert response.status_code == 200 and body["ok"] and body["win"] is True
    assert body["prize"] == "现金券" and body["coupon_no"] and body["points"] == 10
    assert points_of(shake_app, member) == 40 and stock_of(shake_app, aid) == 4
    database = database_of(shake_app)
    [record] = database["welab/customers"].find_one({"wechatid": "oWinner"})["shake"]
    assert record["aid"] == aid and record["uid"] == "oWinner" and record["points"] == 10
    assert record["memberID"] == member.member_id and record["coupon_no"] == body["coupon_no"]
    assert record["promotion_code"] == CASH and record["promotion_name"] == "返店券"
    assert record["promotion_qty"] == "500" and record["lottery_chance"] == "100"
    assert record["display_name"] == "现金券" and record["createDate"] > 10**12
    assert database["lavico/user/logs"].find_one({"action": "shake_win"})["wxid"] == "oWinner"
    assert "摇中了 现金券" in database["welab/feeds"].find_one({"action": "shake_win"})["content"]
    coupons, _ = shake_app.extensions["wxmember"].crm.coupons(openid="oWinner")
    assert [c["COUPON_NO"] for c in coupons] == [body["coupon_no"]]


def test_a_miss_takes_the_points_when_the_activity_says_so(shake_app, sim):
    charged = create_activity(
        shake_app, [{"promotion_code": CASH, "lottery_chance": 0, "stock": 5}]
    )
    member = member_with_points(shake_app, sim, "oMiss", 30)
    body = shake(member, charged).json
    assert body["win"] is False and "没有摇中" in body["message"]
    assert points_of(shake_app, member) == 20
    assert database_of(shake_app)["lavico/user/logs"].find_one({"action": "shake_miss"})

    free_miss = create_activity(
        shake_app, [{"promotion_code": CASH, "lottery_chance": 0, "stock": 5}], chargeOnMiss=False
    )
    assert shake(member, free_miss).json["points"] == 0
    assert points_of(shake_app, member) == 20


# -- refusals: a clear message, nothing taken ----------------------------------------------


def refused(response, code):
    assert response.json["ok"] is False and response.json["error"] == code, response.json
    assert response.json["message"]
    return response.status_code


def test_unbound_follower_is_refused(shake_app, sim):
    aid = create_activity(shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}])
    follower = Member(shake_app, "oFollower", sim)
    assert refused(shake(follower, aid), "not_bound") == 403
    assert stock_of(shake_app, aid) == 5


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        (
            {
                "start": int(time.time() * 1000) + 3_600_000,
                "end": int(time.time() * 1000) + 7_200_000,
            },
            "activity_not_started",
        ),
        ({"start": 1, "end": 2}, "activity_ended"),
    ],
)
def test_activity_outside_its_window_is_refused(shake_app, sim, fields, code):
    aid = create_activity(
        shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}], **fields
    )
    member = member_with_points(shake_app, sim, "oEarly", 50)
    refused(shake(member, aid), code)
    assert points_of(shake_app, member) == 50 and stock_of(shake_app, aid) == 5


def test_paused_activity_is_refused(shake_app, sim):
    aid = create_activity(shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}])
    shake_app.test_client().post(f"/api/activities/{aid}/pause", headers=AUTH)
    member = member_with_points(shake_app, sim, "oPaused", 50)
    refused(shake(member, aid), "activity_paused")
    assert points_of(shake_app, member) == 50


def test_spent_limit_is_refused(shake_app, sim):
    aid = create_activity(
        shake_app, [{"promotion_code": CASH, "lottery_chance": 0, "stock": 5}], limit=2
    )
    member = member_with_points(shake_app, sim, "oLimited", 100)
    assert [shake(member, aid, f"s{n}").status_code for n in range(2)] == [200, 200]
    refused(shake(member, aid, "s3"), "limit_reached")
    assert points_of(shake_app, member) == 80


def test_too_few_points_is_refused_and_the_shake_not_counted(shake_app, sim):
    aid = create_activity(
        shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}], limit=1
    )
    member = member_with_points(shake_app, sim, "oPoor", 9)
    refused(shake(member, aid, "a"), "points_short")
    assert points_of(shake_app, member) == 9 and stock_of(shake_app, aid) == 5
    shake_app.extensions["wxmember"].members.points.adjust(member.member_id, 1, "补", "TOPUP")
    assert shake(member, aid, "b").json["win"] is True  # the refused shake used no allowance


def test_the_shakes_left_in_the_cycle_are_shown_and_count_down(shake_app, sim):
    aid = create_activity(
        shake_app, [{"promotion_code": CASH, "lottery_chance": 0, "stock": 5}], limit=2
    )
    member = member_with_points(shake_app, sim, "oCounting", 100)
    status = member.client.get("/m/api/shake").json
    assert status["remaining"] == 2 and status["activity"]["limit"] == 2
    assert status["activity"]["cycle"] == "day"

    shake(member, aid, "one")

    assert member.client.get("/m/api/shake").json["remaining"] == 1
    shake(member, aid, "two")
    assert member.client.get("/m/api/shake").json["remaining"] == 0
    guest = Member(shake_app, "oGuest", sim)  # not bound: nothing to count
    assert guest.client.get("/m/api/shake").json["remaining"] is None


def test_a_prize_drawn_when_its_stock_is_gone_is_said_sold_out_and_costs_nothing(shake_app, sim):
    aid = create_activity(
        shake_app,
        [
            {"promotion_code": CASH, "lottery_chance": 100, "stock": 0, "display_name": "现金券"},
            {"promotion_code": VIP, "lottery_chance": 0, "stock": 5},
        ],
        limit=1,
    )
    member = member_with_points(shake_app, sim, "oTooLate", 50)

    answer = shake(member, aid, "late")

    assert answer.status_code == 200
    assert answer.json["win"] is False and answer.json["soldOut"] is True
    assert answer.json["prize"] == "现金券" and "发完" in answer.json["message"]
    assert "没有摇中" not in answer.json["message"]
    assert points_of(shake_app, member) == 50  # no points taken
    status = member.client.get("/m/api/shake").json
    assert status["remaining"] == 1 and status["activity"]["soldOut"] == ["现金券"]
    logs = database_of(shake_app)["lavico/user/logs"]
    assert logs.find_one({"action": "shake_sold_out"})["data"]["promotion_code"] == CASH
    assert logs.count_documents({"action": "shake_miss"}) == 0


def test_when_every_prize_is_gone_the_shake_is_refused_before_anything_is_taken(shake_app, sim):
    aid = create_activity(shake_app, [{"promotion_code": CASH, "lottery_chance": 50, "stock": 0}])
    member = member_with_points(shake_app, sim, "oAllGone", 50)

    answer = shake(member, aid, "none-left")

    assert refused(answer, "sold_out") == 409 and "全部发完" in answer.json["message"]
    assert points_of(shake_app, member) == 50


# -- retries and double taps ----------------------------------------------------------------


def test_double_tap_is_one_shake(shake_app, sim):
    aid = create_activity(shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}])
    member = member_with_points(shake_app, sim, "oTapper", 50)
    first, second = shake(member, aid, "tap-1"), shake(member, aid, "tap-1")
    assert first.json == second.json
    assert points_of(shake_app, member) == 40 and stock_of(shake_app, aid) == 4


def test_shake_event_from_wechat_draws_once_and_replies_with_the_result(shake_app, sim):
    create_activity(
        shake_app,
        [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5, "display_name": "现金券"}],
    )
    member = member_with_points(shake_app, sim, "oUser0001", 50)
    wechat = WeChat(shake_app.test_client())
    xml = samples.fill(samples.SHAKE_ONE_BEACON)

    replies = [wechat.reply(wechat.post(xml))["Content"] for _ in range(3)]

    assert len(set(replies)) == 1 and "恭喜您摇中了现金券" in replies[0]
    assert points_of(shake_app, member) == 40


def test_shake_event_of_an_unbound_follower_is_answered_with_the_reason(shake_app):
    create_activity(shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}])
    wechat = WeChat(shake_app.test_client())
    reply = wechat.reply(wechat.post(samples.fill(samples.SHAKE, openid="oStranger")))
    assert "请先绑定会员卡" in reply["Content"]


# -- the CRM failing to issue ----------------------------------------------------------------


def unreachable_crm(shake_app, monkeypatch):
    """The CRM's address refuses connections: a request that certainly never arrived."""
    monkeypatch.setattr(shake_app.extensions["wxmember"].crm, "base_url", "http://127.0.0.1:9/v1")


@pytest.mark.parametrize("cause", ["connection-refused", "503"])
def test_a_crm_that_never_handled_the_request_gives_points_stock_and_limit_back(
    shake_app, sim, monkeypatch, cause
):
    aid = create_activity(
        shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}], limit=1
    )
    member = member_with_points(shake_app, sim, "oUnlucky", 50)
    if cause == "503":
        sim.faults(down=True)
    else:
        unreachable_crm(shake_app, monkeypatch)

    status = refused(shake(member, aid, "x"), "coupon_failed")

    assert status == 503 and "积分已退回" in shake(member, aid, "x").json["message"]
    assert points_of(shake_app, member) == 50 and stock_of(shake_app, aid) == 5
    assert "shake" not in database_of(shake_app)["welab/customers"].find_one(
        {"wechatid": "oUnlucky"}
    )
    monkeypatch.undo()
    sim.faults(down=False)
    assert shake(member, aid, "y").json["win"] is True  # the limit was given back too


def coupons_on_the_crm(app, openid):
    return app.extensions["wxmember"].crm.coupons(openid=openid)[1]


def sweep(app):
    database_of(app)["shake/draws"].update_many({}, {"$set": {"createDate": 0}})
    return run_job(app.extensions["wxmember"], "shake_sweep")["counts"]


@pytest.mark.parametrize(
    "fault",
    [{"error_rate": 1.0}, {"latency_ms": 1500}, {"slow_answer_ms": 1500}, {"garbage": True}],
    ids=["500", "timeout-work-after", "timeout-work-before", "garbage"],
)
def test_a_lost_crm_answer_leaves_the_draw_open_until_the_crm_says(shake_app, sim, fault):
    aid = create_activity(
        shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}], limit=1
    )
    member = member_with_points(shake_app, sim, "oWaiting", 50)
    sim.faults(**fault)

    assert refused(shake(member, aid, "x"), "coupon_pending") == 503
    assert refused(shake(member, aid, "x"), "coupon_pending") == 503  # the same draw, still open
    assert points_of(shake_app, member) == 40 and stock_of(shake_app, aid) == 4  # held, not lost
    sim.faults(error_rate=0, latency_ms=0, slow_answer_ms=0, garbage=False)
    time.sleep(sum(fault.get(k, 0) for k in ("latency_ms", "slow_answer_ms")) / 1000)

    assert sweep(shake_app) == {"won": 1, "returned": 0, "interrupted": 0, "open": 0}
    won = shake(member, aid, "x").json  # the draw's answer, now settled
    assert won["win"] is True and won["coupon_no"]
    customer = database_of(shake_app)["welab/customers"].find_one({"wechatid": "oWaiting"})
    assert [record["coupon_no"] for record in customer["shake"]] == [won["coupon_no"]]
    assert coupons_on_the_crm(shake_app, "oWaiting") == 1  # issued once, and known to us
    assert points_of(shake_app, member) == 40 and stock_of(shake_app, aid) == 4
    assert sweep(shake_app)["won"] == 0


def test_an_open_draw_the_crm_then_refuses_gives_everything_back(shake_app, sim):
    aid = create_activity(shake_app, [{"promotion_code": VIP, "lottery_chance": 100, "stock": 5}])
    member = member_with_points(shake_app, sim, "oRefusedLater", 50)
    sim.faults(error_rate=1.0)
    assert refused(shake(member, aid, "x"), "coupon_pending") == 503
    state = shake_app.extensions["wxmember"].crm_simulator.app.extensions["crm_state"]
    state.promotions[VIP]["USED"] = state.promotions[VIP]["TOTAL"]  # sold out meanwhile
    sim.faults(error_rate=0)

    assert sweep(shake_app) == {"won": 0, "returned": 1, "interrupted": 0, "open": 0}
    assert refused(shake(member, aid, "x"), "sold_out") == 409
    assert points_of(shake_app, member) == 50 and stock_of(shake_app, aid, VIP) == 5
    assert shake_app.extensions["wxmember"].members.ledger.audit() == []


def test_coupon_sold_out_on_the_crm_gives_everything_back(shake_app, sim):
    aid = create_activity(shake_app, [{"promotion_code": VIP, "lottery_chance": 100, "stock": 5}])
    state = shake_app.extensions["wxmember"].crm_simulator.app.extensions["crm_state"]
    state.promotions[VIP]["USED"] = state.promotions[VIP]["TOTAL"]
    member = member_with_points(shake_app, sim, "oTooLate", 50)
    refused(shake(member, aid), "sold_out")
    assert points_of(shake_app, member) == 50 and stock_of(shake_app, aid, VIP) == 5


# -- odds ------------------------------------------------------------------------------------


def test_observed_rates_match_lottery_chance():
    draws = ShakeDraws(None, None, None, None, None, None, None, rng=random.Random(20261122))
    activity = {
        "prizes": [
            {"promotion_code": "A", "lottery_chance": 20},
            {"promotion_code": "B", "lottery_chance": 5.5},
            {"promotion_code": "C", "lottery_chance": 30},
        ]
    }
    n = 20000
    counts = {"A": 0, "B": 0, "C": 0, None: 0}
    for _ in range(n):
        prize = draws._pick(activity)
        counts[prize["promotion_code"] if prize else None] += 1
    for code, percent in (("A", 20), ("B", 5.5), ("C", 30), (None, 44.5)):
        p = percent / 100
        sigma = math.sqrt(n * p * (1 - p))
        assert abs(counts[code] - n * p) < 4 * sigma, (code, counts[code])


def test_the_default_random_source_is_cryptographic():
    import secrets

    assert isinstance(
        ShakeDraws(None, None, None, None, None, None, None).rng, secrets.SystemRandom
    )


# -- concurrency -------------------------------------------------------------------------------


@pytest.mark.mongo  # races need a real server; mongomock is not atomic
def test_200_shakes_from_50_members_never_oversell(shake_app, sim):
    aid = create_activity(
        shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 20}], limit=3, points=2
    )
    services = shake_app.extensions["wxmember"]
    members = [member_with_points(shake_app, sim, f"oCrowd{n:02d}", 5, index=0) for n in range(50)]
    outcomes = []
    barrier = threading.Barrier(40)

    def one_shake(member, n):
        if n < 40:
            barrier.wait()
        try:
            outcomes.append(services.shakes.shake(member.openid, aid, nonce=f"c{n}"))
        except ShakeRefused as refusal:
            outcomes.append(refusal.code)

    threads = [threading.Thread(target=one_shake, args=(members[n % 50], n)) for n in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    wins = [o for o in outcomes if isinstance(o, dict) and o["win"]]
    assert len(outcomes) == 200 and len(wins) == 20  # exactly the stock
    assert stock_of(shake_app, aid) == 0
    assert len({w["coupon_no"] for w in wins}) == 20
    for member in members:
        balance = points_of(shake_app, member)
        assert balance >= 0  # 5 points, 2 a shake: at most 2 paid shakes each
        done = {"openid": member.openid, "state": "done"}
        draws = database_of(shake_app)["shake/draws"].count_documents(done)
        paid = database_of(shake_app)["shake/draws"].count_documents(
            {**done, "result.soldOut": {"$ne": True}}  # a prize gone when drawn costs nothing
        )
        assert draws <= 3 and balance == 5 - 2 * paid
    assert services.members.ledger.audit() == []
    stats = shake_app.test_client().get(f"/api/activities/{aid}/stats", headers=AUTH).json
    assert stats["wins"] == {CASH: 20} and stats["stock"] == {CASH: 0}
    assert stats["members"] == 50 and stats["shakes"] == sum(
        1 for o in outcomes if isinstance(o, dict)
    )
    assert stats["days"][0]["shakes"] == stats["shakes"]


class CrashingRandom:
    """A random source whose draw dies with the process (after the points were taken)."""

    def random(self):
        raise SystemExit("process killed while drawing")


def test_a_draw_a_crash_cut_before_the_crm_is_swept_and_its_points_returned(shake_app, sim):
    aid = create_activity(shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}])
    member = member_with_points(shake_app, sim, "oCrashed", 50)
    services = shake_app.extensions["wxmember"]
    real_random, services.shakes.rng = services.shakes.rng, CrashingRandom()
    with pytest.raises(SystemExit):
        services.shakes.shake("oCrashed", aid, nonce="n1")
    services.shakes.rng = real_random
    assert points_of(shake_app, member) == 40  # taken, and the draw left "drawing"
    assert refused(shake(member, aid, "n1"), "in_progress") == 409

    assert sweep(shake_app) == {"won": 0, "returned": 0, "interrupted": 1, "open": 0}
    assert points_of(shake_app, member) == 50
    assert refused(shake(member, aid, "n1"), "interrupted")
    assert sweep(shake_app)["interrupted"] == 0
    assert services.members.ledger.audit() == []


def test_a_draw_a_crash_cut_while_asking_the_crm_gets_its_coupon_from_the_sweep(
    shake_app, sim, monkeypatch
):
    aid = create_activity(shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}])
    member = member_with_points(shake_app, sim, "oCutOff", 50)
    services = shake_app.extensions["wxmember"]

    def killed(*args, **kwargs):
        raise SystemExit("process killed while asking the CRM")

    monkeypatch.setattr(services.crm, "fetch_coupon", killed)
    with pytest.raises(SystemExit):
        services.shakes.shake("oCutOff", aid, nonce="n1")
    monkeypatch.undo()

    assert sweep(shake_app)["won"] == 1
    assert shake(member, aid, "n1").json["win"] is True
    assert points_of(shake_app, member) == 40 and coupons_on_the_crm(shake_app, "oCutOff") == 1


@pytest.mark.mongo  # a transaction: the engine or a replica set
def test_a_give_back_cut_short_leaves_the_draw_whole_for_the_sweep(shake_app, sim, monkeypatch):
    aid = create_activity(shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}])
    member = member_with_points(shake_app, sim, "oCutShort", 50)
    services = shake_app.extensions["wxmember"]
    unreachable_crm(shake_app, monkeypatch)
    post = services.members.ledger.post

    def dies_on_refund(kind, member_id, amount, *args, **kwargs):
        if amount > 0:
            raise SystemExit("process killed while giving the points back")
        return post(kind, member_id, amount, *args, **kwargs)

    monkeypatch.setattr(services.members.ledger, "post", dies_on_refund)
    with pytest.raises(SystemExit):
        services.shakes.shake("oCutShort", aid, nonce="n1")
    monkeypatch.undo()

    # nothing of the give-back happened: not the stock alone, nor a closed draw without points
    assert stock_of(shake_app, aid) == 4 and points_of(shake_app, member) == 40
    assert refused(shake(member, aid, "n1"), "coupon_pending") == 503  # open, for the sweep
    assert sweep(shake_app)["won"] == 1  # the CRM is back: the member gets the prize paid for
    assert points_of(shake_app, member) == 40 and services.members.ledger.audit() == []


@pytest.mark.parametrize("chance", ["NaN", "Infinity", "-Infinity", "1e308", "101"])
def test_a_chance_that_is_not_a_percentage_is_refused_and_nothing_stored(shake_app, chance):
    now = int(time.time() * 1000)
    body = (
        f'{{"name": "x", "start": {now}, "end": {now + 1000}, "points": 1, "cycle": "day",'
        f' "prizes": [{{"promotion_code": "{CASH}", "lottery_chance": {chance}, "stock": 1}}]}}'
    )
    client = shake_app.test_client()
    response = client.post(
        "/api/activities", data=body, content_type="application/json", headers=AUTH
    )
    assert response.status_code == 400 and response.json["ok"] is False
    listed = client.get("/api/activities", headers=AUTH)
    assert listed.status_code == 200 and listed.json["items"] == []  # still valid JSON
