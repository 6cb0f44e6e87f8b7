"""Messages (``/m/messages``): staff announcements and the member's own notices (a grade
change, a prize won) with unread counts; and prepaid records (``/m/prepaid``, seed 001)
linked by the verified mobile, one mobile to one WeChat user, which staff can see."""

import re

import pytest

from jobs.runner import run_job
from tests.conftest import database_of
from tests.crm_helpers import Member, Sim, bound_member, create_activity, staff

CASH = "CQL201404010004"


@pytest.fixture
def app(make_app):
    app = make_app(crm={"timeout_s": 1, "retries": 0})
    run_job(app.extensions["wxmember"], "activities")
    return app


def inbox(member, tab="notices"):
    return member.client.get("/m/api/messages", query_string={"tab": tab}).json


# -- messages ------------------------------------------------------------------------------


def test_an_announcement_reaches_every_member_unread_until_read(app):
    first, second = bound_member(app, "oFirst", index=0), bound_member(app, "oSecond", index=1)
    published = staff(
        app, "POST", "/api/announcements", {"contents": "双十一会员日：积分翻倍", "url": "/m/shake"}
    )
    assert published["announcement"]["MemberID"] == 0

    assert first.me()["messages"] == {"notices": 0, "announcements": 1}
    center = first.client.get("/m/").get_data(as_text=True)
    assert re.search(
        r'id="entry-messages">\s*<div class="weui-cell__bd">消息</div>\s*'
        r'<div class="weui-cell__ft"><span class="weui-badge">1</span>',
        center,
    )
    page = first.client.get("/m/messages?tab=announcements").get_data(as_text=True)
    assert "双十一会员日：积分翻倍" in page and 'href="/m/shake"' in page and "unread-dot" in page

    read = first.client.post("/m/api/messages/read", json={"tab": "announcements"})
    assert read.json["unread"] == {"notices": 0, "announcements": 0}
    assert inbox(first, "announcements")["items"][0]["read"] is True
    assert inbox(second, "announcements")["items"][0]["read"] is False  # each their own
    assert database_of(app)["member/message"].count_documents({"MemberID": first.id}) == 1
    inbox(first, "announcements")
    assert database_of(app)["member/message"].count_documents({"MemberID": first.id}) == 1


def test_a_grade_change_and_a_prize_are_the_members_own_notices(app):
    staff(app, "POST", "/api/grades", {"level": 1, "name": "VIP会员"})
    up = {"by": "spend", "months": 12, "number": 100, "to": 1}
    staff(app, "POST", "/api/grades", {"level": 0, "name": "普通会员", "up": up})
    member = bound_member(app, "oNotices")
    other = bound_member(app, "oQuiet", index=1)
    assert member.me()["grade"]["name"] == "普通会员"
    tx = {"formId": "P1", "memberID": member.id, "type": "purchase", "amount": 150}
    staff(app, "POST", "/api/transactions", tx)
    app.extensions["wxmember"].members.points.adjust(member.id, 100, "测试", "SHAKE")
    aid = create_activity(
        app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5, "display_name": "现金券"}]
    )
    coupon = member.client.post("/m/api/shake", json={"aid": aid, "shakeId": "s"}).json["coupon_no"]

    notices = inbox(member)

    assert notices["unread"]["notices"] == 2
    texts = [(item["contents"], item["url"]) for item in notices["items"]]
    assert (f"恭喜您摇中了现金券，券号{coupon}", "/m/coupons") in texts
    assert ("会员等级由普通会员升级为VIP会员", "/m/") in texts
    assert inbox(other)["items"] == []  # never another member's
    assert coupon not in other.client.get("/m/messages").get_data(as_text=True)


def test_a_follower_without_a_card_reads_the_announcements_only(app):
    staff(app, "POST", "/api/announcements", {"contents": "新店开业"})
    guest = Member(app, "oGuest", Sim(app))

    assert inbox(guest, "announcements")["items"][0]["contents"] == "新店开业"
    assert inbox(guest)["items"] == [] and inbox(guest)["unread"] == {
        "notices": 0,
        "announcements": 0,
    }
    refused = guest.client.post("/m/api/messages/read", json={"tab": "notices"})
    assert refused.status_code == 409 and refused.json["message"] == "请先绑定会员卡"
    assert "新店开业" in guest.client.get("/m/messages?tab=announcements").get_data(as_text=True)


@pytest.mark.parametrize(
    "body",
    [
        {"contents": "  "},
        {"contents": "x" * 201},
        {"contents": "看看", "url": "javascript:alert(1)"},
    ],
)
def test_a_bad_announcement_is_refused_and_nothing_published(app, body):
    answer = staff(app, "POST", "/api/announcements", body, status=400)
    assert answer["error"] == "invalid_announcement"
    assert staff(app, "GET", "/api/announcements")["items"] == []


def test_a_tab_there_is_not_is_refused_in_chinese(app):
    member = bound_member(app, "oTabs")
    for answer in (
        member.client.get("/m/api/messages?tab=spam"),
        member.client.post("/m/api/messages/read", json={"tab": "spam"}),
    ):
        assert answer.status_code == 400 and answer.json["message"] == "请求格式不正确"


# -- prepaid (seed 001) ----------------------------------------------------------------------


def a_member_with_prepaid(app):
    state = app.extensions["wxmember"].crm_simulator.app.extensions["crm_state"]
    for member in state.members.values():
        if (
            member["MOBILE_CHECKED"]
            and member["MOBILE_TELEPHONE_NO"] in state.prepaid
            and not member["WX_OPENID"]
        ):
            return dict(member), state.prepaid[member["MOBILE_TELEPHONE_NO"]]
    raise AssertionError("the simulator has no member with prepaid records")


def test_prepaid_records_are_linked_by_the_verified_mobile_and_staff_see_the_link(app):
    card, stores = a_member_with_prepaid(app)
    member = bound_member(app, "oPrepaid", card=card)

    mine = member.client.get("/m/api/prepaid").json

    record = stores[0]["records"][0]
    assert mine["linked"] is True and mine["fresh"] is True
    assert mine["balance"] == record["balance"]
    assert mine["customers"][0]["records"][0]["amount"] == record["amount"]
    page = member.client.get("/m/prepaid").get_data(as_text=True)
    assert f"¥{record['balance']:,.2f}" in page and "现金预存" in page
    seen = staff(app, "GET", f"/api/members/{member.id}/prepaid")
    assert seen["link"]["openid"] == "oPrepaid" and seen["link"]["linkStatus"] == "linked"
    assert seen["link"]["mobile"] == card["MOBILE_TELEPHONE_NO"]


def test_the_link_ends_with_the_binding_and_moves_to_who_binds_the_mobile_next(app):
    card, _ = a_member_with_prepaid(app)
    first = bound_member(app, "oBefore", card=card)
    first.client.get("/m/api/prepaid")
    assert first.unbind(card["MOBILE_TELEPHONE_NO"]).status_code == 200

    assert first.client.get("/m/api/prepaid").status_code == 409  # shown only while bound
    assert (
        staff(app, "GET", f"/api/members/{card['MEMBER_ID']}/prepaid")["link"]["linkStatus"]
        == "unlinked"
    )
    first.a_minute_later()
    second = bound_member(app, "oAfter", card=card)
    assert second.client.get("/m/api/prepaid").json["balance"] > 0
    link = staff(app, "GET", f"/api/members/{card['MEMBER_ID']}/prepaid")["link"]
    assert (link["openid"], link["linkStatus"]) == ("oAfter", "linked")
    links = database_of(app)["member/prepaid_links"]
    assert links.count_documents({"_id": card["MOBILE_TELEPHONE_NO"]}) == 1  # one mobile, one user


def test_when_the_crm_does_not_answer_the_last_records_are_shown_as_such(app):
    card, _ = a_member_with_prepaid(app)
    member = bound_member(app, "oStale", card=card)
    before = member.client.get("/m/api/prepaid").json
    Sim(app).faults(down=True)

    later = member.client.get("/m/api/prepaid").json

    assert later["fresh"] is False and later["balance"] == before["balance"]
    assert "暂时无法连接门店系统" in member.client.get("/m/prepaid").get_data(as_text=True)


def test_a_member_without_prepaid_records_is_told_so_and_a_follower_without_a_card_why(app):
    state = app.extensions["wxmember"].crm_simulator.app.extensions["crm_state"]
    card = next(
        m
        for m in Sim(app).members()
        if m["MOBILE_CHECKED"]
        and not m["WX_OPENID"]
        and m["MOBILE_TELEPHONE_NO"] not in state.prepaid
    )
    member = bound_member(app, "oNoPrepaid", card=card)
    assert member.client.get("/m/api/prepaid").json["customers"] == []
    assert "没有预存记录" in member.client.get("/m/prepaid").get_data(as_text=True)
    guest = Member(app, "oGuest", Sim(app))
    assert "验证的手机号关联" in guest.client.get("/m/prepaid").get_data(as_text=True)
    assert staff(app, "GET", "/api/members/1/prepaid", status=404)["error"] == "unknown_member"
