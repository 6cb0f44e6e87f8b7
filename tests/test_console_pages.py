"""Console pages: logs (filters, paging, exports), customers (search, record, staff actions),
audit; each role sees and may do what it should, and a refusal changes nothing."""

import csv
import io
import json
import tracemalloc

import openpyxl
import pytest

from tests.conftest import database_of
from tests.console_helpers import MEMBER, Console, bind_member
from wxmember.members.transactions import parse
from wxmember.web.console import exports

LOGS = "lavico/user/logs"
BASE = 1_780_000_000_000  # 2026-05-29 04:26:40 in Shanghai: the first generated record


def _seed_logs(app, count=30):
    """Records at BASE + i minutes: even i by oAlice (text), odd by oBob (click), one bind."""
    rows = [
        {
            "createTime": BASE + i * 60_000,
            "wxid": "oAlice" if i % 2 == 0 else "oBob",
            "action": "text" if i % 2 == 0 else "click",
            "data": {"Content": f"留言{i}"} if i % 2 == 0 else {"EventKey": f"KEY_{i}"},
        }
        for i in range(count)
    ]
    rows.append(
        {
            "createTime": BASE + count * 60_000,
            "wxid": "oMember",
            "action": "bind",
            "data": {
                "memberID": MEMBER,
                "memberCardNumber": "V0016426780",
                "mobile": "13912340000",
            },
        }
    )
    database_of(app)[LOGS].insert_many(rows)


# -- logs --------------------------------------------------------------------------


def test_logs_newest_first_with_chinese_action_names_and_a_link_to_the_customer(app, admin):
    _seed_logs(app)
    html = admin.get("/console/logs").get_data(as_text=True)
    assert html.index("绑定会员卡") < html.index("留言28") < html.index("KEY_27")
    assert 'href="/console/customers/oAlice"' in html
    assert "V0016426780" in html and "13912340000" in html  # admins see them whole


def test_logs_filter_by_wxid_action_and_time(app, viewer):
    _seed_logs(app)
    html = viewer.get("/console/logs?wxid=oBob&limit=100").get_data(as_text=True)
    assert "KEY_1<" in html and "留言" not in html
    html = viewer.get("/console/logs?action=text&limit=100").get_data(as_text=True)
    assert html.count("留言") == 15
    # BASE is 2026-05-29 04:26:40 in Shanghai: minutes 10 to 14
    html = viewer.get(
        "/console/logs?since=2026-05-29T04:36:40&until=2026-05-29T04:41:40&limit=100"
    ).get_data(as_text=True)
    assert [n for n in range(30) if f"留言{n}<" in html or f"KEY_{n}<" in html] == [
        10,
        11,
        12,
        13,
        14,
    ]


def test_logs_are_paged_with_a_next_link(app, viewer):
    _seed_logs(app)
    first = viewer.get("/console/logs?limit=20").get_data(as_text=True)
    assert 'id="next-page"' in first and 'id="first-page"' not in first
    next_url = first.split('id="next-page"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = viewer.get(next_url.replace("&amp;", "&")).get_data(as_text=True)
    assert "留言0<" in second and "留言28" not in second
    assert 'id="first-page"' in second and 'id="next-page"' not in second


def test_a_bad_time_or_cursor_is_a_chinese_400(viewer):
    answer = viewer.get("/console/logs?since=yesterday")
    assert answer.status_code == 400
    assert "开始时间格式不正确" in answer.get_data(as_text=True)
    assert viewer.get("/console/logs?cursor=garbage").status_code == 400


def test_viewers_see_mobiles_and_card_numbers_masked(app, viewer):
    _seed_logs(app)
    html = viewer.get("/console/logs?wxid=oMember").get_data(as_text=True)
    assert "13912340000" not in html and "139****0000" in html
    assert "V0016426780" not in html and "V00****6780" in html


def test_csv_export_has_every_row_of_the_filter(app, viewer):
    _seed_logs(app)
    answer = viewer.get("/console/logs.csv?action=text")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in answer.headers["Content-Disposition"]
    text = answer.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == exports.HEADER
    assert len(rows) == 16
    assert rows[1][1:4] == ["oAlice", "text", "文本消息"]
    assert json.loads(rows[1][4]) == {"Content": "留言28"}


def test_xlsx_export_opens_in_openpyxl_with_every_row_and_masked_for_viewers(app, viewer):
    _seed_logs(app)
    answer = viewer.get("/console/logs.xlsx?progress=test-export-1")
    assert answer.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(answer.get_data()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert list(rows[0]) == exports.HEADER
    assert len(rows) == 32
    assert rows[1][2] == "bind" and "139****0000" in rows[1][4]
    progress = viewer.get("/console/exports/test-export-1").json
    assert progress == {"ok": True, "state": "done", "done": 31, "total": 31}
    assert Console(app, "other", "admin").get("/console/exports/test-export-1").status_code == 404


def test_a_formula_in_a_log_is_text_in_the_exports(app, viewer):
    database_of(app)[LOGS].insert_one(
        {"createTime": BASE, "wxid": "=HYPERLINK(1)", "action": "text", "data": {}}
    )
    book = openpyxl.load_workbook(io.BytesIO(viewer.get("/console/logs.xlsx").get_data()))
    assert book.active["B2"].data_type == "s"
    text = viewer.get("/console/logs.csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text


def test_an_export_is_audited(app, admin):
    admin.get("/console/logs.csv?wxid=oAlice")
    row = database_of(app)["wxmember/audit"].find_one({"action": "logs.export"})
    assert (row["who"], row["details"]["format"], row["details"]["wxid"]) == (
        "adam",
        "csv",
        "oAlice",
    )


@pytest.mark.mongo  # mongomock sorts the whole collection in memory: a real server's cursor
def test_exports_stream_in_bounded_memory(app, viewer):
    """The peak memory of an export does not grow with the rows exported."""
    database = database_of(app)

    def peak(count, path):
        database[LOGS].delete_many({})
        records = (
            {"createTime": BASE + i, "wxid": f"o{i % 97}", "action": "text", "data": {"n": i}}
            for i in range(count)
        )
        batch = []
        for record in records:
            batch.append(record)
            if len(batch) == 5000:
                database[LOGS].insert_many(batch)
                batch = []
        if batch:
            database[LOGS].insert_many(batch)
        tracemalloc.start()
        answer = viewer.client.get(path, buffered=False)
        size = sum(len(chunk) for chunk in answer.response)
        answer.close()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top, size

    for path in ("/console/logs.csv", "/console/logs.xlsx"):
        small, small_size = peak(1_000, path)
        large, large_size = peak(5_000, path)
        assert large_size > 4 * small_size
        assert large < small * 2 + 2_000_000, (path, small, large)


# -- customers ---------------------------------------------------------------------


@pytest.fixture
def member(app):
    found = bind_member(app)
    system = app.extensions["wxmember"].members
    system.grades.save({"level": 1, "name": "普通会员", "discount": 1})
    system.grades.save({"level": 2, "name": "金卡会员", "discount": 0.9})
    system.points.adjust(MEMBER, 120, "开卡礼", "OPEN-1")
    system.money.recharge(MEMBER, 10000, "R1")
    system.transactions.apply(
        parse({"formId": "POS-1", "memberID": MEMBER, "type": "purchase", "amount": 299})
    )
    coupon = {"display_name": "满100减20券", "promotion_code": "CQL1", "coupon_no": "C-778899"}
    database_of(app)["welab/customers"].update_one(
        {"wechatid": "oMember"}, {"$push": {"shake": {**coupon, "createDate": BASE}}}
    )
    database_of(app)["welab/feeds"].insert_one(
        {"createTime": BASE, "wxid": "oMember", "action": "bind", "content": "会员绑定了VIP卡"}
    )
    return found


@pytest.mark.parametrize("query", ["oMember", "13912340000", "V0016426780", str(MEMBER)])
def test_find_a_customer_by_openid_mobile_card_or_member_id(member, viewer, query):
    answer = viewer.get(f"/console/customers?q={query}")
    assert answer.headers["Location"] == "/console/customers/oMember"


def test_no_customer_found_is_said_in_chinese(viewer):
    html = viewer.get("/console/customers?q=13900000000").get_data(as_text=True)
    assert "没有找到" in html


def test_the_customer_page_shows_binding_grade_ledgers_feeds_and_logs(app, member, admin):
    _seed_logs(app)
    html = admin.get("/console/customers/oMember").get_data(as_text=True)
    for text in ("小明", "13912340000", "V0016426780", "VIP卡", str(MEMBER), "普通会员"):
        assert text in html, text
    for ledger in ("积分", "余额", "冻结金额", "收益"):
        assert f"{ledger}明细" in html
    assert 'id="balance-points"><span>积分</span><strong>120</strong>' in html
    assert 'id="balance-money"><span>余额</span><strong>100.00</strong>' in html
    assert "POS-1" in html and "299.00" in html and "消费" in html
    assert "满100减20券" in html and "C-778899" in html
    assert "开卡礼" in html and "会员绑定了VIP卡" in html
    assert 'href="/console/logs?wxid=oMember"' in html


def test_an_unknown_customer_is_a_chinese_404(viewer):
    answer = viewer.get("/console/customers/oNobody")
    assert answer.status_code == 404 and "没有找到用户" in answer.get_data(as_text=True)


def test_a_viewer_sees_the_customer_masked_and_no_forms(member, viewer):
    html = viewer.get("/console/customers/oMember").get_data(as_text=True)
    assert "13912340000" not in html and "139****0000" in html
    assert "V0016426780" not in html
    assert 'id="adjust-form"' not in html and 'id="toggle-lock"' not in html


def _adjust(console, amount, reason="客诉补偿", form_id=None):
    page = console.get("/console/customers/oMember").get_data(as_text=True)
    form_id = form_id or page.split('name="formId" value="')[1].split('"')[0]
    return console.post(
        "/console/customers/oMember/points",
        {"amount": str(amount), "reason": reason, "formId": form_id},
        page="/console/customers/oMember",
    )


def test_an_operator_adjusts_points_with_a_reason_as_themselves(app, member, operator):
    answer = _adjust(operator, -20)
    assert answer.status_code == 302
    assert app.extensions["wxmember"].members.points.balance(MEMBER) == 100
    row = database_of(app)["member/integral"].find_one({"Integral": -20})
    assert row["CreateUser"] == operator.account["userId"] != 0
    assert row["Memo"] == "客诉补偿"
    audit = database_of(app)["wxmember/audit"].find_one({"action": "points.adjust"})
    assert (audit["who"], audit["via"], audit["target"]) == (
        "olivia",
        "console",
        f"member:{MEMBER}",
    )
    assert audit["details"]["amount"] == -20
    html = operator.get(answer.headers["Location"]).get_data(as_text=True)
    assert "积分已调整" in html and "olivia" in html  # the row names its operator


def test_the_same_form_sent_twice_adjusts_once(app, member, operator):
    assert _adjust(operator, 30, form_id="console-same").status_code == 302
    assert _adjust(operator, 30, form_id="console-same").status_code == 302
    assert app.extensions["wxmember"].members.points.balance(MEMBER) == 150
    assert database_of(app)["wxmember/audit"].count_documents({"action": "points.adjust"}) == 1


@pytest.mark.parametrize(
    ("amount", "reason", "status", "message"),
    [
        ("abc", "r", 400, "调整数量须为整数"),
        ("0", "r", 400, "非零整数"),
        ("10", "", 400, "请填写调整原因"),
        ("-500", "r", 409, "积分不足"),
    ],
)
def test_a_bad_adjustment_is_explained_and_changes_nothing(
    app, member, operator, amount, reason, status, message
):
    answer = _adjust(operator, amount, reason)
    assert answer.status_code == status
    assert message in answer.get_data(as_text=True)
    assert app.extensions["wxmember"].members.points.balance(MEMBER) == 120
    assert database_of(app)["wxmember/audit"].count_documents({"action": "points.adjust"}) == 0


def test_a_viewer_may_change_nothing(app, member, viewer):
    before = database_of(app)["member/integral"].count_documents({})
    refused = _adjust(viewer, 50, form_id="console-viewer")
    assert refused.status_code == 403
    assert "无权执行此操作" in refused.get_data(as_text=True)
    lock = viewer.post(
        "/console/customers/oMember/grade-lock", {"lock": "1"}, page="/console/customers/oMember"
    )
    assert lock.status_code == 403
    assert database_of(app)["member/integral"].count_documents({}) == before
    assert database_of(app)["member/data"].find_one({"_id": MEMBER}).get("Purview", []) == []
    audited = database_of(app)["wxmember/audit"].distinct("action", {"via": "console"})
    assert audited == ["staff.login"]


def test_an_operator_locks_and_unlocks_the_grade(app, member, operator):
    def lock(value):
        return operator.post(
            "/console/customers/oMember/grade-lock",
            {"lock": value},
            page="/console/customers/oMember",
        )

    assert lock("1").status_code == 302
    grades = app.extensions["wxmember"].members.grades
    assert "锁定等级" in grades.members.find_one({"_id": MEMBER})["Purview"]
    assert "已锁定" in operator.get("/console/customers/oMember").get_data(as_text=True)
    assert lock("0").status_code == 302
    assert grades.members.find_one({"_id": MEMBER})["Purview"] == []
    actions = [r["action"] for r in database_of(app)["wxmember/audit"].find({"via": "console"})]
    assert actions[-2:] == ["grade.lock", "grade.unlock"]


def test_viewing_a_customer_writes_nothing(app, member, viewer):
    database = database_of(app)
    before = {name: database[name].count_documents({}) for name in database.list_collection_names()}
    viewer.get("/console/customers/oMember")
    viewer.get("/console/customers?q=oMember")
    after = {name: database[name].count_documents({}) for name in database.list_collection_names()}
    assert after == before


# -- audit -------------------------------------------------------------------------


def test_only_admins_read_the_audit(operator, viewer):
    assert operator.get("/console/audit").status_code == 403
    assert viewer.get("/console/audit").status_code == 403
    assert "操作审计" not in viewer.get("/console").get_data(as_text=True)


def test_the_audit_filters_by_who_and_action(app, member, operator, admin):
    _adjust(operator, 5)
    html = admin.get("/console/audit?who=olivia&action=points.adjust").get_data(as_text=True)
    assert "积分调整" in html and f"member:{MEMBER}" in html
    assert "staff:adam" not in html
    everyone = admin.get("/console/audit").get_data(as_text=True)
    assert "staff:adam" in everyone and "积分调整" in everyone
    none = admin.get("/console/audit?since=2099-01-01").get_data(as_text=True)
    assert "没有符合条件的记录" in none
