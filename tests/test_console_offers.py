"""Console offers: 积分兑换 items (admins put them on offer, take them off, restock; members
see the change) and 结算规则 (admins change the order, the points rate and cap; everyone
tries a quote, which writes nothing). Refusals in Chinese, nothing written."""

import pytest

from tests.conftest import database_of
from tests.console_audit import audit_actions
from tests.coupon_helpers import DAY, HOUR, MEMBER, MemberSession, Staff

ITEM = {"name": "保温杯", "points": "2000", "stock": "5", "couponId": "", "description": "限量款"}
SETTINGS = {"order_coupon": "1", "order_grade": "2", "order_points": "3"}
SETTINGS.update(pointsPerYuan="100", pointsCap="50")
WRITES = ("member/member_coupons", "member/checkouts", "member/integral", "member/redemptions")


@pytest.fixture
def member(app):
    """A bound member with 10,000 points, signed in to the member pages."""
    session = MemberSession(app)
    body = {"amount": 10_000, "reason": "测试", "formId": "P1"}
    Staff(app).ok("POST", f"/api/members/{MEMBER}/points", body)
    return session


def _members(app):
    return app.extensions["wxmember"].members


def _item(app, **fields):
    return _members(app).redemptions.create(
        {"name": "保温杯", "points": 2000, "stock": 5, **fields}
    )


def _coupon(app, **fields):
    """A coupon defined through the staff API, issuing from now (the app's real clock)."""
    now = app.extensions["wxmember"].clock.now_ms()
    return Staff(app).coupon(start=now - HOUR, end=now + DAY, **fields)


def _changes(app):
    """What a quote must never write: the documents of coupons, checkouts, points."""
    database = database_of(app)
    return {name: list(database[name].find()) for name in WRITES}


# -- 积分兑换 ---------------------------------------------------------------------------


def test_an_admin_puts_an_item_on_offer_and_a_member_sees_it(app, admin, viewer, member):
    coupon_id = _coupon(
        app, name="兑换券", kind="cash", threshold=0, value=10, purpose="redemption"
    )
    form = {**ITEM, "name": "10元券", "points": "1500", "couponId": coupon_id}

    answer = admin.post("/console/redemptions", form, page="/console/redemptions")

    assert answer.headers["Location"] == "/console/redemptions?done=created"
    [item] = member("GET", "/m/api/redemptions")[1]["items"]
    assert (item["name"], item["points"], item["stock"], item["couponId"]) == (
        "10元券",
        1500,
        5,
        coupon_id,
    )
    assert audit_actions(app) == ["redemption.create"]
    html = viewer.get("/console/redemptions").get_data(as_text=True)
    assert "10元券" in html and "1,500" in html and "兑换券" in html and "兑换中" in html
    assert 'id="redemption-form"' not in html and "只有管理员可以上架" in html
    assert "下架" not in html.split('id="redemption-table"')[1].split("</table>")[0]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "请填写名称"),
        ({"points": "0"}, "所需积分须在1到"),
        ({"points": "1.5"}, "所需积分须为整数"),
        ({"stock": "abc"}, "库存须为整数"),
        ({"couponId": "nope"}, "没有券 nope"),
    ],
)
def test_a_bad_item_is_refused_in_chinese_and_nothing_is_written(app, admin, changes, message):
    answer = admin.post("/console/redemptions", {**ITEM, **changes}, page="/console/redemptions")

    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and message in html
    assert 'value="限量款"' in html  # what was typed is kept
    assert _members(app).redemptions.all() == []
    assert audit_actions(app) == []


def test_an_item_taken_off_offer_is_hidden_from_members_until_put_back(app, admin, member):
    item_id = _item(app)["_id"]

    answer = admin.post(f"/console/redemptions/{item_id}/off", page="/console/redemptions")

    assert answer.headers["Location"] == "/console/redemptions?done=off"
    assert member("GET", "/m/api/redemptions")[1]["items"] == []
    status, refused = member("POST", f"/m/api/redemptions/{item_id}")
    assert (status, refused["message"]) == (409, "该礼品已下架")
    html = admin.get("/console/redemptions?done=off").get_data(as_text=True)
    assert "已下架：会员看不到也不能兑换该礼品" in html and "已下架</span>" in html
    assert ">上架</button>" in html
    admin.post(f"/console/redemptions/{item_id}/on", page="/console/redemptions")
    assert [i["itemId"] for i in member("GET", "/m/api/redemptions")[1]["items"]] == [item_id]
    assert member("POST", f"/m/api/redemptions/{item_id}")[0] == 200
    assert audit_actions(app) == ["redemption.active", "redemption.active"]


def test_an_admin_adds_stock_and_a_bad_count_changes_nothing(app, admin):
    item_id = _item(app, stock=1)["_id"]
    path = f"/console/redemptions/{item_id}/stock"

    refused = admin.post(path, {"add": "0"}, page="/console/redemptions")
    assert refused.status_code == 400
    assert "「保温杯」补库存未成功：补充数量须在1到" in refused.get_data(as_text=True)
    assert _members(app).redemptions.all()[0]["stock"] == 1

    answer = admin.post(path, {"add": "1200"}, page="/console/redemptions")

    assert answer.headers["Location"] == "/console/redemptions?done=stocked"
    assert _members(app).redemptions.all()[0]["stock"] == 1201
    assert '<td class="num">1,201</td>' in admin.get("/console/redemptions").get_data(as_text=True)
    assert audit_actions(app) == ["redemption.stock"]
    unknown = admin.post("/console/redemptions/nope/stock", {"add": "1"}, page="/console")
    assert unknown.status_code == 404


# -- roles ------------------------------------------------------------------------------


def test_only_admins_change_items_and_settings(app, operator, viewer):
    item_id = _item(app)["_id"]
    for console in (operator, viewer):
        for path, form in (
            ("/console/redemptions", ITEM),
            (f"/console/redemptions/{item_id}/off", {}),
            (f"/console/redemptions/{item_id}/stock", {"add": "5"}),
            ("/console/checkout", SETTINGS),
        ):
            answer = console.post(path, form)
            assert answer.status_code == 403, path
            assert "需要“管理员”" in answer.get_data(as_text=True)
    [item] = _members(app).redemptions.all()
    assert (item["active"], item["stock"]) == (True, 5)
    assert _members(app).checkout.settings.get()["order"] == {"coupon": 1, "grade": 1, "points": 2}
    assert audit_actions(app) == []


def test_an_offers_form_without_the_session_token_changes_nothing(app, admin):
    assert admin.post("/console/redemptions", ITEM, csrf=False).status_code == 400
    assert admin.post("/console/checkout", SETTINGS, csrf=False).status_code == 400
    assert _members(app).redemptions.all() == []
    assert _members(app).checkout.settings.get()["pointsCap"] == 0.5


# -- 结算规则 and 试算 -------------------------------------------------------------------


def _give(app, **fields):
    """A coupon defined and issued to the member; its coupon number."""
    coupon_id = _coupon(app, **fields)
    body = {"memberID": MEMBER, "formId": f"G-{coupon_id}"}
    return Staff(app).ok("POST", f"/api/coupons/{coupon_id}/issue", body)["couponNo"]


def _quote(console, **fields):
    form = {"memberID": str(MEMBER), "amount": "200", "coupons": "", "points": "", "useGrade": "1"}
    return console.post("/console/checkout/quote", {**form, **fields}, page="/console/checkout")


def _total(html):
    return html.split('id="quote-total">')[1].split("<")[0]


def test_the_settings_page_explains_the_order_in_force(app, viewer):
    html = viewer.get("/console/checkout").get_data(as_text=True)

    stages = html.split('id="stages">')[1].split("</ol>")[0]
    assert "第 1 轮</span>优惠券 + 会员等级折扣" in stages and "同一基数" in stages
    assert "第 2 轮</span>积分抵现" in stages
    assert "100 积分抵 1 元" in html and "基数的 50%" in html
    assert "顺序相同的优惠都以同一个金额为基数" in html and "例：订单 200 元" in html
    assert 'id="checkout-settings-form"' not in html and 'id="quote-form"' in html


def test_settings_saved_by_an_admin_change_the_next_quote(app, admin, viewer, member):
    _members(app).grades.save({"level": 0, "name": "银卡", "discount": 0.9})
    number = _give(app, name="满100减20", kind="minus", threshold=100, value=20)
    before = _quote(viewer, coupons=number).get_data(as_text=True)
    assert _total(before) == "160.00"  # 20 and 20 off the same 200

    answer = admin.post(
        "/console/checkout", {**SETTINGS, "pointsCap": "30"}, page="/console/checkout"
    )

    assert answer.headers["Location"] == "/console/checkout?done=saved"
    settings = _members(app).checkout.settings.get()
    assert settings == {
        "order": {"coupon": 1, "grade": 2, "points": 3},
        "pointsPerYuan": 100,
        "pointsCap": 0.3,
    }
    assert audit_actions(app) == ["checkout.settings"]
    html = viewer.get("/console/checkout").get_data(as_text=True)
    assert "第 2 轮</span>会员等级折扣" in html and "基数的 30%" in html
    after = _quote(viewer, coupons=number, points="10000").get_data(as_text=True)
    rows = [row.split("</tr>")[0] for row in after.split('<tr class="step">')[1:]]
    assert ["满减券" in rows[0], "会员等级折扣" in rows[1], "积分抵现" in rows[2]] == [True] * 3
    assert "200.00" in rows[0] and "180.00" in rows[1] and "−18.00" in rows[1]
    assert "162.00" in rows[2] and "−48.60" in rows[2] and "用 4,860 积分" in rows[2]
    assert _total(after) == "113.40"  # 200 − 20 = 180, 9折 → 162, 30% in points → 113.40


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"order_grade": "4"}, "请选择会员等级折扣的顺序"),
        ({"pointsCap": "0"}, "积分最多抵扣比例（%）须在0.01到100之间"),
        ({"pointsCap": "150"}, "积分最多抵扣比例（%）须在0.01到100之间"),
        ({"pointsPerYuan": "0"}, "每抵扣1元所需积分须在1到1,000,000之间"),
    ],
)
def test_bad_settings_are_refused_in_chinese_and_nothing_is_saved(app, admin, changes, message):
    answer = admin.post("/console/checkout", {**SETTINGS, **changes}, page="/console/checkout")

    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and message in html
    assert _members(app).checkout.settings.get()["order"]["grade"] == 1
    assert audit_actions(app) == []


def test_a_viewer_tries_a_quote_and_nothing_is_written(app, viewer, member):
    number = _give(app, name="10元代金券", kind="cash", threshold=0, value=10)
    before = _changes(app)

    answer = _quote(viewer, amount="1288.5", coupons=f" {number}，", points="5000", useGrade="")

    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    assert "10元代金券" in html and number in html and "用 5,000 积分" in html
    assert 'id="quote-subtotal">1,288.50<' in html and _total(html) == "1,228.50"
    assert _changes(app) == before  # the coupon still valid, no points spent
    assert audit_actions(app) == []
    assert f'value="{MEMBER}"' in html and 'value="5000"' in html  # the form as typed


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"coupons": "CP-NOPE"}, "没有优惠券CP-NOPE"),
        (
            {"amount": "50", "coupons": "MINE"},
            "优惠券「满100减20」需满100元使用，本单可用金额为50元",
        ),
        ({"points": "999999"}, "积分不足"),
        ({"memberID": "99"}, "平台上没有会员 99"),
        ({"amount": "1.234"}, "订单金额须为不超过"),
        ({"coupons": "A A"}, "同一张券号填写了两次"),
    ],
)
def test_a_refused_quote_shows_why_in_chinese(app, viewer, member, fields, message):
    number = _give(app, name="满100减20", kind="minus", threshold=100, value=20)
    if fields.get("coupons") == "MINE":
        fields = {**fields, "coupons": number}

    answer = _quote(viewer, **fields)

    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert message in html.split('id="quote-error">')[1].split("</p>")[0]
    assert 'id="quote-table"' not in html


def test_the_audit_page_names_the_offers_changes_in_chinese(app, admin):
    item_id = _item(app)["_id"]
    admin.post(f"/console/redemptions/{item_id}/off", page="/console/redemptions")
    admin.post("/console/checkout", SETTINGS, page="/console/checkout")

    html = admin.get("/console/audit").get_data(as_text=True)

    assert "兑换品上架/下架" in html and "修改结算规则" in html
    assert f"redemption:{item_id}" in html and "checkout:settings" in html


def test_an_admin_renames_and_reprices_an_item_its_stock_and_coupon_stay(
    app, admin, operator, member
):
    item = _item(app, description="限量款")
    page = "/console/redemptions"
    refused = operator.post(f"{page}/{item['_id']}", {"name": "x", "points": "1"}, page=page)
    assert refused.status_code == 403
    editing = admin.get(f"{page}?edit={item['_id']}").get_data(as_text=True)
    assert "修改兑换品：保温杯" in editing and 'value="2000"' in editing
    assert "库存 5 件" in editing and 'name="stock"' not in editing
    bad = admin.post(f"{page}/{item['_id']}", {"name": "保温杯", "points": "0"}, page=page)
    assert bad.status_code == 400 and "所需积分须在1到" in bad.get_data(as_text=True)
    assert "修改兑换品：保温杯" in bad.get_data(as_text=True)  # still the change, as typed

    answer = admin.post(
        f"{page}/{item['_id']}", {"name": "保温杯（大）", "points": "1500"}, page=page
    )

    assert answer.headers["Location"] == f"{page}?done=changed"
    (changed,) = _members(app).redemptions.all()
    assert (changed["name"], changed["points"], changed["stock"]) == ("保温杯（大）", 1500, 5)
    assert changed["description"] == ""  # the form sent it empty
    offered = member("GET", "/m/api/redemptions")[1]["items"]
    assert [(i["name"], i["points"]) for i in offered] == [("保温杯（大）", 1500)]
    assert audit_actions(app) == ["redemption.change"]
