"""Console rules (point rules, grades, recharge promotions) and staff accounts: admins
change them through the services the staff API calls, refusals in Chinese and nothing
written; operators and viewers read the rules and are refused (403) any change."""

import pytest

from tests.console_audit import audit_actions
from tests.console_helpers import Console, login

RULE = {"ruleId": "BASE-1", "type": "consumption", "grade": "", "amount": "10", "points": "1"}
GRADE = {"level": "1", "name": "普通会员", "discount": "1"}
PROMOTION = {"id": "R100", "name": "充100送30", "threshold": "100", "bonus": "30"}


def _system(app):
    return app.extensions["wxmember"].members


# -- point rules -------------------------------------------------------------------


def test_an_admin_saves_a_point_rule_and_everyone_reads_it(app, admin, viewer):
    _system(app).grades.save({"level": 2, "name": "金卡会员", "discount": 0.9})
    answer = admin.post(
        "/console/point-rules",
        {**RULE, "grade": "2", "amount": "12.5", "productIds": "P1，P2 P3"},
        page="/console/point-rules",
    )
    assert answer.headers["Location"] == "/console/point-rules?done=saved"
    (rule,) = _system(app).points.rules.all()
    assert (rule["grade"], rule["amount"], rule["points"]) == (2, 1250, 1)
    assert rule["productIds"] == ["P1", "P2", "P3"]
    assert audit_actions(app) == ["point_rule.save"]
    html = viewer.get("/console/point-rules").get_data(as_text=True)
    assert "BASE-1" in html and "金卡会员" in html and "12.50" in html and "P1、P2、P3" in html
    assert 'id="point-rule-form"' not in html and "只有管理员可以修改积分规则" in html
    editing = admin.get("/console/point-rules?edit=BASE-1").get_data(as_text=True)
    assert "修改积分规则" in editing and 'value="12.5"' in editing


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ruleId": ""}, "请填写规则编号"),
        ({"amount": "0"}, "每档金额须大于0"),
        ({"amount": "1.234"}, "最多两位小数"),
        ({"points": "0"}, "每档积分须在1到"),
        ({"type": "gift"}, "请选择规则类型"),
    ],
)
def test_a_bad_point_rule_is_refused_in_chinese(app, admin, changes, message):
    answer = admin.post("/console/point-rules", {**RULE, **changes}, page="/console/point-rules")
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    assert _system(app).points.rules.all() == []
    assert audit_actions(app) == []


def test_only_admins_change_rules(app, operator, viewer):
    for console in (operator, viewer):
        for path, form in (
            ("/console/point-rules", RULE),
            ("/console/grades", GRADE),
            ("/console/recharge-promotions", PROMOTION),
        ):
            answer = console.post(path, form, page=path)
            assert answer.status_code == 403, path
            assert "需要“管理员”" in answer.get_data(as_text=True)
    assert _system(app).points.rules.all() == []
    assert _system(app).grades.all() == []
    assert _system(app).money.all_promotions() == []
    assert audit_actions(app) == []


def test_a_rule_form_without_the_session_token_changes_nothing(app, admin):
    answer = admin.post("/console/point-rules", RULE, csrf=False)
    assert answer.status_code == 400
    assert _system(app).points.rules.all() == []


def test_an_admin_deletes_a_rule_and_purchases_no_longer_earn_by_it(app, admin, operator):
    admin.post("/console/point-rules", RULE, page="/console/point-rules")
    rules = _system(app).points.rules
    assert rules.points_for("consumption", 10_000) == 10  # 100 yuan, 1 point per 10
    page = admin.get("/console/point-rules").get_data(as_text=True)
    assert 'data-confirm="删除积分规则 BASE-1？' in page  # asked before it goes
    refused = operator.post("/console/point-rules/BASE-1/delete", page="/console/point-rules")
    assert refused.status_code == 403 and len(rules.all()) == 1
    answer = admin.post("/console/point-rules/BASE-1/delete", page="/console/point-rules")
    assert answer.headers["Location"] == "/console/point-rules?done=deleted"
    assert rules.all() == [] and rules.points_for("consumption", 10_000) == 0
    again = admin.post("/console/point-rules/BASE-1/delete", page="/console/point-rules")
    assert again.status_code == 404 and "没有这条积分规则" in again.get_data(as_text=True)
    assert audit_actions(app) == ["point_rule.save", "point_rule.delete"]


def test_an_admin_switches_a_recharge_promotion_off_and_on(app, admin, viewer):
    admin.post("/console/recharge-promotions", PROMOTION, page="/console/recharge-promotions")
    money = _system(app).money
    assert money.best_promotion(10_000)["_id"] == "R100"
    page = "/console/recharge-promotions"
    assert admin.post(f"{page}/R100/off", page=page).headers["Location"] == f"{page}?done=off"
    assert money.best_promotion(10_000) is None  # a recharge earns no bonus now
    assert "已停用" in viewer.get(page).get_data(as_text=True)
    assert viewer.post(f"{page}/R100/on", page=page).status_code == 403
    admin.post(f"{page}/R100/on", page=page)
    assert money.best_promotion(10_000)["_id"] == "R100"
    assert admin.post(f"{page}/NOPE/off", page=page).status_code == 404
    assert audit_actions(app) == [
        "recharge_promotion.save",
        "recharge_promotion.active",
        "recharge_promotion.active",
    ]


# -- grades ------------------------------------------------------------------------


def test_an_admin_saves_grades_with_rules_and_sees_the_members_of_each(app, admin):
    assert admin.post("/console/grades", GRADE, page="/console/grades").status_code == 302
    gold = {
        "level": "2",
        "name": "金卡会员",
        "discount": "0.9",
        "down_by": "spend",
        "down_months": "12",
        "down_number": "500",
        "down_to": "1",
    }
    assert admin.post("/console/grades", gold, page="/console/grades").status_code == 302
    up = {
        **GRADE,
        "up_by": "orders",
        "up_months": "6",
        "up_number": "3",
        "up_to": "2",
        "up_sub": "1",
    }
    assert admin.post("/console/grades", up, page="/console/grades").status_code == 302
    grades = {g["level"]: g for g in _system(app).grades.all()}
    assert grades[2]["down"] == {
        "by": "spend",
        "months": 12,
        "number": 50_000,
        "to": 1,
        "includeSubordinates": False,
    }
    assert grades[1]["up"]["includeSubordinates"] is True and grades[1]["up"]["number"] == 3
    _system(app).grades.member(16426780)  # a member at the lowest grade
    html = admin.get("/console/grades").get_data(as_text=True)
    assert "近 6 个月订单数（含直接下级）达到 3 → 金卡会员" in html
    assert "近 12 个月消费金额不足 500.00 元 → 普通会员" in html
    assert "9折" in html and "不打折" in html
    row = html.split("<strong>普通会员</strong>")[1].split("</tr>")[0]
    assert '<td class="num">1</td>' in row  # one member
    assert audit_actions(app) == ["grade.save"] * 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"up_by": "spend", "up_months": "12", "up_number": "1000", "up_to": "9"},
            "目标等级（级别 9）还不存在，请先添加该等级",
        ),
        ({"discount": "1.5"}, "折扣须在0.01到1之间"),
        ({"name": ""}, "请填写等级名称"),
        (
            {"up_by": "spend", "up_months": "0", "up_number": "1", "up_to": "1"},
            "升级规则的统计月数须在1到",
        ),
    ],
)
def test_a_bad_grade_is_refused_in_chinese(app, admin, changes, message):
    answer = admin.post("/console/grades", {**GRADE, **changes}, page="/console/grades")
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    assert _system(app).grades.all() == []


# -- recharge promotions -----------------------------------------------------------


def test_an_admin_saves_a_recharge_promotion(app, admin, viewer):
    answer = admin.post(
        "/console/recharge-promotions", PROMOTION, page="/console/recharge-promotions"
    )
    assert answer.status_code == 302
    (promotion,) = _system(app).money.all_promotions()
    assert (promotion["threshold"], promotion["bonus"], promotion["name"]) == (
        10_000,
        3_000,
        "充100送30",
    )
    assert audit_actions(app) == ["recharge_promotion.save"]
    html = viewer.get("/console/recharge-promotions").get_data(as_text=True)
    assert "充100送30" in html and "100.00" in html and "30.00" in html
    bad = admin.post(
        "/console/recharge-promotions",
        {**PROMOTION, "bonus": "-3"},
        page="/console/recharge-promotions",
    )
    assert bad.status_code == 400 and "赠送金额须为不超过" in bad.get_data(as_text=True)
    assert _system(app).money.all_promotions()[0]["bonus"] == 3_000


# -- staff accounts ----------------------------------------------------------------


def _save_staff(console, username, role, password="another-long-password", again=None):
    form = {
        "username": username,
        "role": role,
        "password": password,
        "password2": again or password,
    }
    return console.post("/console/staff", form, page="/console/staff")


def test_an_admin_adds_changes_and_disables_staff(app, admin):
    staff = app.extensions["wxmember"].staff
    assert _save_staff(admin, "xiaoli", "viewer").headers["Location"].endswith("done=created")
    assert staff.accounts.get("xiaoli")["role"] == "viewer"
    xiaoli = app.test_client()
    assert login(xiaoli, "xiaoli", "another-long-password").status_code == 302
    assert (
        _save_staff(admin, "XiaoLi", "operator", "a-new-password")
        .headers["Location"]
        .endswith("done=updated")
    )
    assert staff.accounts.get("xiaoli")["role"] == "operator"
    assert xiaoli.get("/console").status_code == 302  # the new password ended the session
    answer = admin.post("/console/staff/xiaoli/disable", page="/console/staff")
    assert answer.headers["Location"].endswith("done=disabled")
    assert staff.accounts.get("xiaoli")["disabled"] is True
    assert login(app.test_client(), "xiaoli", "a-new-password").status_code == 401
    assert audit_actions(app) == ["staff.create", "staff.update", "staff.disable"]
    row = staff.audit.collection.find_one({"action": "staff.disable"})
    assert (row["who"], row["via"], row["target"]) == ("adam", "console", "staff:xiaoli")
    html = admin.get("/console/staff").get_data(as_text=True)
    assert "已停用" in html and "启用 / 重设密码" in html


@pytest.mark.parametrize(
    ("username", "role", "password", "again", "message"),
    [
        ("x", "viewer", "long-enough-1", None, "用户名须为2–32位小写字母、数字或 _ . -"),
        ("xiaoli", "viewer", "short", None, "密码长度须为8–256个字符"),
        ("xiaoli", "viewer", "long-enough-1", "long-enough-2", "两次输入的密码不一致"),
        ("xiaoli", "owner", "long-enough-1", None, "请选择角色"),
        ("adam", "operator", "long-enough-1", None, "不能降低自己的角色"),
    ],
)
def test_a_bad_staff_form_is_refused_in_chinese(
    app, admin, username, role, password, again, message
):
    answer = _save_staff(admin, username, role, password, again)
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    assert [a["_id"] for a in app.extensions["wxmember"].staff.accounts.all()] == ["adam"]
    assert audit_actions(app) == []


def test_an_admin_cannot_disable_themselves_and_others_cannot_manage_staff(app, admin):
    answer = admin.post("/console/staff/adam/disable", page="/console/staff")
    assert answer.status_code == 400 and "不能停用自己的账号" in answer.get_data(as_text=True)
    assert admin.post("/console/staff/nobody/disable", page="/console/staff").status_code == 404
    olivia = Console(app, "olivia", "operator")
    assert olivia.get("/console/staff").status_code == 403
    assert _save_staff(olivia, "olivia", "admin").status_code == 403
    assert olivia.post("/console/staff/adam/disable").status_code == 403
    accounts = app.extensions["wxmember"].staff.accounts
    assert accounts.get("olivia")["role"] == "operator" and not accounts.get("adam")["disabled"]
    assert "员工账号" not in olivia.get("/console").get_data(as_text=True)


def test_edit_forms_show_large_amounts_whole_not_in_exponent_form(app, admin):
    """``{:g}`` kept six digits: a 1,000,000-yuan threshold came back as 1e+06 and a
    1,234,567.5-yuan grade rule as 1.23457e+06, and saving the form changed them."""
    _system(app).money.save_promotion("BIG", 100_000_000, 50_00, "大额充值")
    _system(app).grades.save(
        {
            "level": 1,
            "name": "黑金会员",
            "discount": 0.8,
            "up": {"by": "spend", "months": 12, "number": 1_234_567.5, "to": 1},
        }
    )
    promotion = admin.get("/console/recharge-promotions?edit=BIG").get_data(as_text=True)
    assert 'value="1000000"' in promotion and 'value="50"' in promotion
    grade = admin.get("/console/grades?edit=1").get_data(as_text=True)
    assert 'value="1234567.5"' in grade and "e+06" not in grade
