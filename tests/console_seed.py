"""A platform with a month of activity, for the console's operations pages and their tests:
follows, bindings, grades with members, two shake activities with draws, withdrawals,
binding drift. Everything is written relative to ``now`` (epoch ms)."""

from tests.conftest import database_of
from tests.console_helpers import MEMBER, bind_member
from wxmember.timeparse import DAY_MS, day_start

HOUR = 3_600_000
PRIZE_A, PRIZE_B = "CQL201404010004", "CQL201405010001"  # the CRM simulator's coupons


def pull_coupons(app):
    """The CRM simulator's coupon activities into ``lavico/activity`` (the real job)."""
    return app.extensions["wxmember"].jobs.run("activities", trigger="cli")


def seed_logs(app, now, days=30):
    """Follows, unfollows, binds and unbinds on each of the last ``days`` days."""
    today = day_start(now)
    rows = []
    for back in range(days):
        base = today - back * DAY_MS + 9 * HOUR
        counts = {
            "subscribe": 6 + (back * 7) % 11,
            "unsubscribe": back % 4,
            "bind": (back * 3) % 5,
            "unbind": 1 if back % 9 == 0 else 0,
        }
        for action, count in counts.items():
            rows += [
                {
                    "createTime": base + i * 60_000,
                    "wxid": f"oFan{back}-{i}",
                    "action": action,
                    "data": {},
                }
                for i in range(count)
            ]
    database_of(app)["lavico/user/logs"].insert_many(rows)
    return rows


def seed_grades(app):
    """Three grades, and members at each (member/data as the grades job leaves it)."""
    grades = app.extensions["wxmember"].members.grades
    grades.save({"level": 1, "name": "普通会员", "discount": 1})
    grades.save({"level": 2, "name": "金卡会员", "discount": 0.95})
    grades.save({"level": 3, "name": "钻石会员", "discount": 0.88})
    grades.save(
        {
            "level": 1,
            "name": "普通会员",
            "discount": 1,
            "up": {"by": "spend", "months": 12, "number": 3000, "to": 2},
        }
    )
    members = [(20_000_000 + i, 1 if i < 40 else 2 if i < 52 else 3) for i in range(55)]
    database_of(app)["member/data"].insert_many(
        [{"_id": m, "GradeID": level, "GradeDate": 0, "Purview": []} for m, level in members]
    )


def seed_shakes(app, now):
    """A running activity with ten days of draws, and a paused one."""
    services = app.extensions["wxmember"]
    activities = services.shake_activities
    running = activities.create(
        {
            "name": "周末摇一摇",
            "start": day_start(now) - 12 * DAY_MS,
            "end": now + 20 * DAY_MS,
            "points": 10,
            "cycle": "day",
            "limit": 3,
            "prizes": [
                {"promotion_code": PRIZE_A, "lottery_chance": 20, "stock": 200},
                {"promotion_code": PRIZE_B, "lottery_chance": 5, "stock": 30},
            ],
        }
    )
    paused = activities.create(
        {
            "name": "会员日抽奖",
            "start": day_start(now) - 5 * DAY_MS,
            "end": now + 5 * DAY_MS,
            "points": 0,
            "prizes": [{"promotion_code": PRIZE_A, "lottery_chance": 50, "stock": 10}],
        }
    )
    activities.set_active(paused["aid"], False)
    draws = []
    for back in range(10):
        base = day_start(now) - back * DAY_MS + 10 * HOUR
        for i in range(24 - 2 * back):
            prize = PRIZE_A if i % 5 == 0 else PRIZE_B if i % 11 == 3 else None
            if prize:
                activities.take_prize(running["aid"], prize)
            draws.append(
                {
                    "_id": f"{running['aid']}|oShaker{i % 9}|{back}-{i}",
                    "aid": running["aid"],
                    "openid": f"oShaker{i % 9}",
                    "state": "done",
                    "createDate": base + i * 60_000,
                    "prize": prize,
                    "result": {"win": prize is not None},
                }
            )
    database_of(app)["shake/draws"].insert_many(draws)
    return running, paused


def seed_withdrawals(app):
    """A bound member with earnings and two pending withdrawals (100 and 80.50 yuan)."""
    bind_member(app)
    system = app.extensions["wxmember"].members
    system.money.earn(MEMBER, 50_000, "EARN-1", "推荐奖励")
    first = system.withdrawals.apply(MEMBER, 10_000, "银行卡", "招商银行 6225880123456789")
    second = system.withdrawals.apply(MEMBER, 8_050)
    return first, second


def seed_drift(app):
    """Two open drift items and one the reconcile job repaired."""
    drift = app.extensions["wxmember"].drift
    drift.record("member_missing", "oMember", MEMBER, {"mobile": "13912340000"})
    drift.record("bound_elsewhere", "oOther", 16426781, {"crmOpenid": "oSomeoneElse"})
    drift.record("card_changed", "oThird", 16426782, {"card": "V0016426782"}, state="repaired")


def seed_member_coupons(app, now):
    """A 满100减10 issued to MEMBER 1–4 times a day over the last two weeks, a third used
    the day after (issued through the wallet, then dated back)."""
    members = app.extensions["wxmember"].members
    coupon = members.coupons.create(
        {
            "name": "满100减10",
            "kind": "minus",
            "threshold": 100,
            "value": 10,
            "start": now - 30 * DAY_MS,
            "end": now + 30 * DAY_MS,
            "stackGrade": True,
            "stackPoints": True,
        }
    )
    collection = members.wallet.coupons
    for day in range(14):
        for n in range(1 + day % 4):
            held = members.wallet.issue(MEMBER, coupon["_id"], f"seed:{day}:{n}", "staff")
            issued = now - (14 - day) * DAY_MS + n * 3_600_000
            used = issued + DAY_MS if n == 0 else None
            collection.update_one(
                {"_id": held["_id"]}, {"$set": {"issuedAt": issued, "usedAt": used}}
            )


def seed_everything(app, now):
    """All of the above."""
    pull_coupons(app)
    seed_logs(app, now)
    seed_grades(app)
    running, paused = seed_shakes(app, now)
    seed_withdrawals(app)
    seed_drift(app)
    seed_member_coupons(app, now)
    return running, paused
