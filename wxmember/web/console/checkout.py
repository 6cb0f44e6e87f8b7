"""Console: 结算规则 (seed 003 §七 优惠规则 and §六 积分抵扣比例). Everyone reads the order of
coupons, the grade discount and points, the points rate and cap, and may try a quote
(试算: ``members.checkout.quote``, which writes nothing); admins change the settings
through ``members.checkout.settings.save`` with the body of ``POST /api/checkout/settings``.
"""

from flask import redirect, request, url_for

from wxmember.members.checkout import MAX_COUPONS, MAX_POINTS_PER_YUAN
from wxmember.refusals import Refused
from wxmember.web.console.auth import bp, log_change, requires, services
from wxmember.web.console.forms import Form, FormRefused, form_page

WAYS = {"coupon": "优惠券", "grade": "会员等级折扣", "points": "积分抵现"}
RANKS = (1, 2, 3)
STEP_KINDS = {
    "grade": "会员等级折扣",
    "minus": "满减券",
    "discount": "折扣券",
    "cash": "代金券",
    "points": "积分抵现",
}
NOTICES = {"saved": "结算规则已保存，之后的结算按新规则计算。"}
QUOTE_FORM = {"memberID": "", "amount": "", "coupons": "", "points": "", "useGrade": "1"}


def _settings_form(settings):
    return {
        **{f"order_{way}": str(rank) for way, rank in settings["order"].items()},
        "pointsPerYuan": str(settings["pointsPerYuan"]),
        "pointsCap": f"{round(settings['pointsCap'] * 100, 2):g}",
    }


def _stages(order):
    """The ranks in use, each with the names of its ways: ``[(1, ["优惠券", …]), (2, …)]``."""
    return [
        (rank, [name for way, name in WAYS.items() if order[way] == rank])
        for rank in sorted(set(order.values()))
    ]


def _page(status=200, error="", form=None, quote=None, quote_error="", quote_form=None):
    settings = services().members.checkout.settings.get()
    return form_page(
        "console/checkout.html",
        NOTICES,
        status,
        error,
        settings=settings,
        cap_percent=f"{round(settings['pointsCap'] * 100, 2):g}",
        stages=_stages(settings["order"]),
        ways=WAYS,
        ranks=RANKS,
        form=form or _settings_form(settings),
        quote=quote,
        quote_error=quote_error,
        quote_form=quote_form or QUOTE_FORM,
    )


@bp.get("/checkout")
@requires("viewer")
def checkout_settings():
    """The 优惠规则 order, the points rate and cap; the settings form (admins), 试算 (all)."""
    return _page()


def settings_body(values):
    """The body of ``POST /api/checkout/settings`` from the form (the cap typed in percent)."""
    form = Form(values)
    order = {
        way: int(form.choice(f"order_{way}", f"{name}的顺序", ("1", "2", "3")))
        for way, name in WAYS.items()
    }
    cap = form.decimal("pointsCap", "积分最多抵扣比例（%）", minimum=0.01, maximum=100)
    return {
        "order": order,
        "pointsPerYuan": form.whole("pointsPerYuan", "每抵扣1元所需积分", 1, MAX_POINTS_PER_YUAN),
        "pointsCap": round(cap / 100, 6),
    }


@bp.post("/checkout")
@requires("admin")
def save_checkout_settings():
    """Change the order, the points rate and cap."""
    try:
        settings = services().members.checkout.settings.save(settings_body(request.form))
    except Refused as refused:
        return _page(400, refused.zh, dict(request.form))
    log_change("checkout.settings", "checkout:settings", settings)
    return redirect(url_for("console.checkout_settings", done="saved"))


def quote_body(values):
    """The body of ``POST /api/checkout/quote`` from the 试算 form."""
    form = Form(values)
    numbers = form.codes("coupons", "券号")
    if len(numbers) > MAX_COUPONS:
        raise FormRefused(f"每单最多使用{MAX_COUPONS}张券。")
    if len(set(numbers)) != len(numbers):
        raise FormRefused("同一张券号填写了两次。")
    return {
        "memberID": form.whole("memberID", "会员号", minimum=1),
        "amount": form.yuan("amount", "订单金额"),
        "coupons": numbers,
        "points": form.whole("points", "使用积分", default=0),
        "useGrade": form.checked("useGrade"),
    }


def _shown(answer):
    """The quote's answer with money as text (``1,234.50``) and each step's kind in Chinese."""
    money = "{:,.2f}".format
    steps = [
        {
            **step,
            "kind_name": STEP_KINDS.get(step["kind"], step["kind"]),
            "base": money(step["base"]),
            "amount": money(step["amount"]),
        }
        for step in answer["steps"]
    ]
    return {
        **answer,
        "steps": steps,
        "subtotal": money(answer["subtotal"]),
        "discount": money(answer["discount"]),
        "total": money(answer["total"]),
    }


@bp.post("/checkout/quote")
@requires("viewer")
def quote_checkout():
    """试算: what an order would cost under the settings in force; nothing is written."""
    typed = dict(request.form)
    typed.setdefault("useGrade", "")
    try:
        answer = services().members.checkout.quote(quote_body(request.form)).answer()
    except Refused as refused:
        return _page(400, quote_error=refused.zh, quote_form=typed)
    return _page(quote=_shown(answer), quote_form=typed)
