"""Console announcements (公告): operators publish one to every member through the form,
which members then read under 消息; refusals in Chinese write nothing; viewers read only."""

import pytest

from tests.conftest import count_documents
from tests.console_audit import audit_actions
from tests.coupon_helpers import MemberSession

PAGE = "/console/announcements"


def test_an_operator_publishes_an_announcement_members_read(app, operator, viewer):
    member = MemberSession(app)
    answer = operator.post(
        PAGE,
        {"contents": "  双十二会员日：全场满200减30。 ", "url": "/m/coupons?status=claim"},
        page=PAGE,
    )
    assert answer.headers["Location"] == f"{PAGE}?done=published"
    status, inbox = member("GET", "/m/api/messages?tab=announcements")
    assert status == 200
    (item,) = inbox["items"]
    assert (
        item["contents"] == "双十二会员日：全场满200减30。"
        and item["url"] == "/m/coupons?status=claim"
    )
    assert audit_actions(app) == ["announcement.publish"]
    listed = viewer.get(PAGE).get_data(as_text=True)
    assert "双十二会员日" in listed and "olivia" in listed and "/m/coupons?status=claim" in listed
    assert 'id="publish-form"' not in listed and "只能查看公告" in listed


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"contents": "   "}, "公告内容须为1到200个字"),
        ({"contents": "字" * 201}, "公告内容须为1到200个字"),
        ({"contents": "好消息", "url": "javascript:alert(1)"}, "链接须为会员中心页面"),
        ({"contents": "好消息", "url": "http://example.com/"}, "链接须为会员中心页面"),
    ],
)
def test_a_bad_announcement_is_refused_in_chinese_and_writes_nothing(app, operator, form, message):
    before = count_documents(app)
    answer = operator.post(PAGE, form, page=PAGE)
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    assert count_documents(app) == before and audit_actions(app) == []


def test_a_viewer_cannot_publish(app, viewer):
    answer = viewer.post(PAGE, {"contents": "好消息"}, page=PAGE)
    assert answer.status_code == 403
    assert app.extensions["wxmember"].center.messages.announcements() == []


def test_an_announcement_shown_to_staff_is_escaped(app, operator):
    operator.post(PAGE, {"contents": "<script>alert(1)</script>"}, page=PAGE)
    html = operator.get(PAGE).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
