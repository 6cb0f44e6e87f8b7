"""Console coupons (seed 003 §四): admins define a coupon through the form and change it
until it starts; everyone reads the list and a coupon's holders; operators issue one to a
member, from the coupon's page or the customer's. Refusals are in Chinese and write
nothing; every change is audited."""

import re
import time

import pytest

from tests.conftest import count_documents
from tests.console_audit import audit_actions
from tests.coupon_helpers import DAY, HOUR, MEMBER, MemberSession, Shop
from wxmember.web.console.present import local_input

# Now, to the minute: mongomock hides documents its TTL indexes would have removed by the
# wall clock (sign-in limits, sessions), so the console's clock may not stand in the past.
NOW = int(time.time()) // 60 * 60_000
FORM = {
    "name": "双十二满200减30",
    "kind": "minus",
    "threshold": "200",
    "value": "30",
    "stock": "500",
    "perMember": "2",
    "start": local_input(NOW - HOUR),
    "end": local_input(NOW + 30 * DAY),
    "purpose": "claim",
    "stackGrade": "1",
}


@pytest.fixture
def app(make_app, clock):
    clock.set(NOW)
    return make_app(clock=clock)


def _coupons(app):
    return app.extensions["wxmember"].members.coupons.all()


def _create(admin, **changes):
    """Send the new-coupon form; the answer."""
    return admin.post("/console/coupons", {**FORM, **changes}, page="/console/coupons")


def _created(admin, **changes):
    answer = _create(admin, **changes)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Location"].split("/console/coupons/")[1].split("?")[0]


def _text(answer):
    return answer.get_data(as_text=True)


# -- defining --------------------------------------------------------------------------


def test_an_admin_defines_a_coupon_and_everyone_reads_it(app, admin, viewer):
    coupon_id = _created(admin)
    (coupon,) = _coupons(app)
    assert coupon["_id"] == coupon_id
    assert (coupon["threshold"], coupon["value"], coupon["stock"], coupon["perMember"]) == (
        20000,
        3000,
        500,
        2,
    )
    assert NOW - HOUR - 60_000 < coupon["start"] <= NOW - HOUR  # typed to the minute
    assert (coupon["stackGrade"], coupon["stackPoints"]) == (True, False)
    assert audit_actions(app) == ["coupon.create"]

    page = _text(viewer.get(f"/console/coupons/{coupon_id}?done=created"))
    assert "优惠券已创建" in page and "满200元减30元（满减券）" in page
    assert "可与等级折扣同用，不与积分抵现同用" in page and "已发" in page
    assert 'id="issue-form"' not in page  # a viewer does not issue
    listed = _text(viewer.get("/console/coupons"))
    assert "双十二满200减30" in listed and "会员领取" in listed
    assert 'id="coupon-definition"' not in listed and "只有管理员可以新建和修改优惠券" in listed


def test_a_discount_is_typed_in_zhe_and_kept_as_a_rate(app, admin):
    _created(admin, kind="discount", value="", rate="8.5", threshold="", stock="")
    (coupon,) = _coupons(app)
    assert (coupon["kind"], coupon["value"], coupon["threshold"], coupon["stock"]) == (
        "discount",
        0.85,
        0,
        None,
    )
    assert "8.5折" in _text(admin.get("/console/coupons"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "请填写券名称"),
        ({"kind": "gift"}, "请选择券类型"),
        ({"value": "0"}, "减免金额须大于0"),
        ({"value": "12.345"}, "最多两位小数"),
        ({"value": "300"}, "减免金额不超过它"),
        ({"kind": "discount", "rate": "10"}, "折扣须在0.1到9.9之间"),
        ({"kind": "discount", "rate": "8.55"}, "折扣最多一位小数"),
        ({"stock": "0"}, "发放总量须在1到"),
        ({"perMember": "abc"}, "每人限领须为整数"),
        ({"start": "昨天"}, "开始发放时间格式不正确"),
        ({"end": local_input(NOW - DAY)}, "end 必须晚于 start"),
        ({"purpose": "upgrade", "grade": ""}, "升级到的等级须为整数"),
        ({"purpose": "upgrade", "grade": "7"}, "等级 7 不存在"),
    ],
)
def test_a_bad_coupon_form_is_refused_in_chinese_and_writes_nothing(app, admin, changes, message):
    before = count_documents(app)
    answer = _create(admin, **changes)
    assert answer.status_code == 400 and message in _text(answer), _text(answer)
    assert 'value="双十二满200减30"' in _text(answer) or changes.get("name") == ""  # kept
    assert count_documents(app) == before and audit_actions(app) == []


def test_an_upgrade_coupon_names_its_grade(app, admin):
    app.extensions["wxmember"].members.grades.save({"level": 2, "name": "金卡会员", "discount": 1})
    _created(admin, purpose="upgrade", grade="2")
    assert "升级礼券（升到金卡会员）" in _text(admin.get("/console/coupons"))


def test_a_coupon_is_changed_until_it_starts_and_not_after(app, admin, clock):
    starts = NOW + 10 * 60_000  # in ten minutes (the console session outlives the wait)
    coupon_id = _created(admin, start=local_input(starts), end=local_input(NOW + 30 * DAY))
    listed = _text(admin.get("/console/coupons"))
    assert "待发" in listed and f"edit={coupon_id}" in listed
    editing = _text(admin.get(f"/console/coupons?edit={coupon_id}"))
    assert "修改优惠券：双十二满200减30" in editing and 'value="500"' in editing
    answer = admin.post(
        f"/console/coupons/{coupon_id}",
        {**FORM, "value": "40", "stock": "800", "start": local_input(starts)},
        page="/console/coupons",
    )
    assert answer.headers["Location"] == f"/console/coupons/{coupon_id}?done=saved"
    (coupon,) = _coupons(app)
    assert (coupon["value"], coupon["stock"]) == (4000, 800)

    clock.set(starts + 60_000)  # it has started: no more changes
    assert f"edit={coupon_id}" not in _text(admin.get("/console/coupons"))
    refused = admin.post(
        f"/console/coupons/{coupon_id}",
        {**FORM, "value": "50", "start": local_input(NOW + 2 * DAY)},
        page="/console/coupons",
    )
    assert refused.status_code == 409 and "券已开始发放，不能再修改数量和内容" in _text(refused)
    assert _coupons(app)[0]["value"] == 4000
    assert audit_actions(app) == ["coupon.create", "coupon.update"]


def test_the_list_filters_by_state(app, admin):
    _created(admin, name="正在发")
    _created(admin, name="明天发", start=local_input(NOW + DAY))
    pending = _text(admin.get("/console/coupons?state=pending"))
    assert "明天发" in pending and "正在发" not in pending
    assert "没有“已领完”的优惠券" in _text(admin.get("/console/coupons?state=sold_out"))


def test_only_admins_define_and_only_operators_issue(app, admin, operator, viewer):
    coupon_id = _created(admin)
    for console in (operator, viewer):
        answer = console.post("/console/coupons", FORM, page="/console/coupons")
        assert answer.status_code == 403 and "需要" in _text(answer)
        changed = console.post(f"/console/coupons/{coupon_id}", FORM, page="/console/coupons")
        assert changed.status_code == 403
    issued = viewer.post(f"/console/coupons/{coupon_id}/issue", {"member": str(MEMBER)})
    assert issued.status_code == 403
    assert len(_coupons(app)) == 1
    assert app.extensions["wxmember"].members.wallet.of_coupon(coupon_id) == []


# -- issuing -----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [str(MEMBER), "V0016426780", "13916426780"])
def test_an_operator_issues_a_coupon_by_member_id_card_or_mobile(
    app, admin, operator, viewer, typed
):
    member = MemberSession(app)  # card V0016426780, mobile 13916426780
    coupon_id = _created(admin)
    page = f"/console/coupons/{coupon_id}"
    form = {"member": typed, "formId": "F1"}
    answer = operator.post(f"{page}/issue", form, page=page)
    assert answer.headers["Location"] == f"{page}?done=issued#holders"
    again = operator.post(f"{page}/issue", form, page=page)  # the same form sent twice
    assert again.status_code == 302
    (held,) = member.coupons()
    assert held["couponId"] == coupon_id and held["status"] == "valid"
    holders = _text(operator.get(page))
    assert held["couponNo"] in holders and "员工发放" in holders and "可使用" in holders
    assert "小明" in holders and "13916426780" in holders  # seed 003's 子表: name, mobile
    seen_by_viewer = _text(viewer.get(page))
    assert "139****6780" in seen_by_viewer and "13916426780" not in seen_by_viewer
    assert re.search(r'id="stat-issued">1<', holders)
    assert "coupon.issue" in audit_actions(app)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "请填写会员编号、卡号或手机号"),
        ("99999999", "没有找到会员“99999999”"),
        ("oSomeoneElse", "没有找到会员"),
    ],
)
def test_issuing_to_an_unknown_member_is_refused(app, admin, operator, typed, message):
    MemberSession(app)
    coupon_id = _created(admin)
    page = f"/console/coupons/{coupon_id}"
    answer = operator.post(f"{page}/issue", {"member": typed, "formId": "F1"}, page=page)
    assert answer.status_code == 400 and message in _text(answer)
    assert app.extensions["wxmember"].members.wallet.of_coupon(coupon_id) == []


def test_a_sold_out_coupon_is_not_issued(app, admin, operator):
    MemberSession(app)
    coupon_id = _created(admin, stock="1")
    page = f"/console/coupons/{coupon_id}"
    operator.post(f"{page}/issue", {"member": str(MEMBER), "formId": "F1"}, page=page)
    sold_out = _text(operator.get(page))
    assert "已领完" in sold_out and "已领完：现在不能发放" in sold_out
    answer = operator.post(f"{page}/issue", {"member": str(MEMBER), "formId": "F2"})
    assert answer.status_code == 409 and "已领完" in _text(answer)
    assert len(app.extensions["wxmember"].members.wallet.of_coupon(coupon_id)) == 1


def test_an_unknown_coupon_is_a_chinese_404(viewer):
    answer = viewer.get("/console/coupons/nope")
    assert answer.status_code == 404 and "没有找到这张优惠券" in _text(answer)


# -- the customer's page ------------------------------------------------------------------


def test_the_customer_page_shows_coupons_checkouts_and_redemptions(app, admin, operator):
    shop = Shop(app, points=5000)
    coupon_id = _created(admin)
    page = "/console/customers/o16426780"
    issued = operator.post(f"{page}/coupons", {"couponId": coupon_id, "formId": "F1"}, page=page)
    assert issued.headers["Location"] == f"{page}?done=issued#member-coupons"
    (held,) = shop.member.coupons()
    shop.staff.ok(
        "POST",
        "/api/checkout/commit",
        {"memberID": MEMBER, "amount": 250, "coupons": [held["couponNo"]], "formId": "SO-1"},
    )
    item = shop.staff.ok("POST", "/api/redemptions", {"name": "帆布袋", "points": 800, "stock": 5})
    shop.member("POST", f"/m/api/redemptions/{item['itemId']}", {"requestId": "r1"})

    html = _text(operator.get(page))
    coupons = html.split('id="member-coupons"')[1].split("</section>")[0]
    assert held["couponNo"] in coupons and "已使用" in coupons and "SO-1" in coupons
    checkouts = html.split('id="checkouts"')[1].split("</section>")[0]
    assert "SO-1" in checkouts and "250.00" in checkouts and "220.00" in checkouts
    assert "已完成" in checkouts and "双十二满200减30" in checkouts
    redemptions = html.split('id="redemptions"')[1].split("</section>")[0]
    assert "帆布袋" in redemptions and "800" in redemptions


def test_issuing_from_the_customer_page_is_refused_without_a_coupon_or_for_a_viewer(
    app, admin, operator, viewer
):
    MemberSession(app)
    coupon_id = _created(admin)
    page = "/console/customers/o16426780"
    assert 'id="issue-form"' not in _text(viewer.get(page))
    assert viewer.post(f"{page}/coupons", {"couponId": coupon_id}).status_code == 403
    answer = operator.post(f"{page}/coupons", {"couponId": "", "formId": "F1"}, page=page)
    assert answer.status_code == 400 and "请选择要发放的优惠券" in _text(answer)
    unknown = operator.post(f"{page}/coupons", {"couponId": "nope", "formId": "F2"}, page=page)
    assert unknown.status_code == 404
    assert app.extensions["wxmember"].members.wallet.of_member(MEMBER) == []


@pytest.mark.parametrize(
    ("action", "form", "message"),
    [
        ("coupons", {"couponId": "any"}, "不能发券"),
        ("points", {"amount": "10", "reason": "补偿"}, "不能调整积分"),
        ("grade-lock", {"lock": "1"}, "不能锁定等级"),
    ],
)
def test_a_customer_without_a_card_gets_no_coupon_points_or_lock(
    app, operator, action, form, message
):
    MemberSession(app, bound=False)  # oGuest follows but has no card
    app.extensions["wxmember"].records.customers.ensure("oGuest")
    before = count_documents(app)
    answer = operator.post(f"/console/customers/oGuest/{action}", form)
    assert answer.status_code == 404 and f"该用户未绑定会员卡，{message}" in _text(answer)
    assert count_documents(app) == before


def test_a_coupons_holders_are_paged_newest_first_with_none_lost(app, admin, viewer):
    MemberSession(app)
    coupon_id = _created(admin, stock="", perMember="1")
    wallet = app.extensions["wxmember"].members.wallet
    issued = {wallet.issue(MEMBER, coupon_id, f"k{n}", "staff")["_id"] for n in range(103)}
    page = f"/console/coupons/{coupon_id}"

    first = _text(viewer.get(page))
    numbers = set(re.findall(r"<code>(CP\d{14})</code>", first))
    assert len(numbers) == 100 and "最近 100 张" in first
    after = re.search(r'href="[^"]*after=(CP\d{14})#holders" id="more-holders"', first).group(1)
    second = _text(viewer.get(f"{page}?after={after}"))
    rest = set(re.findall(r"<code>(CP\d{14})</code>", second))
    assert "更早的 3 张" in second and 'id="more-holders"' not in second
    assert numbers | rest == issued and not numbers & rest  # the same instant: none lost
    assert (
        len(set(re.findall(r"<code>(CP\d{14})</code>", _text(viewer.get(f"{page}?after=nope")))))
        == 100
    )


def test_a_coupons_holders_are_filtered_by_how_they_stand_now(app, admin, viewer, clock):
    MemberSession(app)
    coupon_id = _created(admin, stock="", validDays="1")
    wallet = app.extensions["wxmember"].members.wallet
    used, late, valid = (wallet.issue(MEMBER, coupon_id, f"k{n}", "staff") for n in range(3))
    wallet.use([used["_id"]], MEMBER, "SO-1", NOW)
    database = app.extensions["wxmember"].database
    database["member/member_coupons"].update_one(
        {"_id": late["_id"]}, {"$set": {"validUntil": NOW}}
    )
    page = f"/console/coupons/{coupon_id}"

    def numbers(status):
        html = _text(viewer.get(f"{page}?status={status}"))
        return set(re.findall(r"<code>(CP\d{14})</code>", html))

    assert numbers("used") == {used["_id"]}
    assert numbers("expired") == {late["_id"]}  # valid as stored, but its time has passed
    assert numbers("valid") == {valid["_id"]}
    assert numbers("anything") == {used["_id"], late["_id"], valid["_id"]}  # unknown: all


def test_a_coupons_holders_export_every_one_as_csv_masked_for_viewers(app, admin, viewer):
    MemberSession(app)
    coupon_id = _created(admin, stock="")
    wallet = app.extensions["wxmember"].members.wallet
    issued = {wallet.issue(MEMBER, coupon_id, f"k{n}", "staff")["_id"] for n in range(1203)}
    wallet.issue(MEMBER, _created(admin, name="另一张"), "other", "staff")  # not this one's

    answer = viewer.get(f"/console/coupons/{coupon_id}/holders.csv")

    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    lines = answer.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "券号,会员编号,会员,手机号,来源,状态,发放时间,有效至,使用时间,使用单号"
    rows = [line.split(",") for line in lines[1:]]
    assert {row[0] for row in rows} == issued and len(rows) == 1203  # across batches, once
    assert rows[0][1:6] == [str(MEMBER), "小明", "139****6780", "员工发放", "可使用"]
    assert "coupon.export" in audit_actions(app)
    full = admin.get(f"/console/coupons/{coupon_id}/holders.csv").get_data(as_text=True)
    assert "13916426780" in full  # an admin sees the mobile
    assert viewer.get("/console/coupons/nope/holders.csv").status_code == 404
