"""Console: the rules of the member system — points earning rules, grades with their up
and down rules, recharge promotions. Everyone reads them; admins add and change them
through the same services the staff API calls (``/api/point-rules``, ``/api/grades``,
``/api/recharge-promotions``), with the same checks, refusals shown in Chinese.
"""

from flask import redirect, request, url_for

from wxmember.members.transactions import plain_yuan, to_fen
from wxmember.refusals import Refused
from wxmember.web.console.auth import bp, log_change, refuse, requires, services
from wxmember.web.console.forms import Form, form_page
from wxmember.web.console.present import MEASURES, RULE_TYPES, yuan

MAX_MONTHS = 1200
NOTICES = {
    "saved": "已保存。",
    "deleted": "积分规则已删除：之后的消费和充值不再按它计算积分，已得的积分不变。",
    "off": "充值优惠已停用：之后的充值不再赠送。",
    "on": "充值优惠已启用。",
}


# -- point rules -------------------------------------------------------------------


def _rule_row(rule, grade_names):
    grade = rule.get("grade")
    return {
        **rule,
        "type_name": RULE_TYPES.get(rule["type"], rule["type"]),
        "step": yuan(rule["amount"]),
        "grade_name": "全部等级" if grade is None else grade_names.get(grade, f"级别 {grade}"),
        "products": "、".join(rule.get("productIds") or []) or "全部商品",
    }


@bp.get("/point-rules")
@requires("viewer")
def point_rules():
    """Every points earning rule; admins add one or change one (``?edit=ruleId``)."""
    return _rules_page()


def _rules_page(status=200, error="", form=None):
    rules = services().members.points.rules.all()
    grade_names = services().members.grades.names()
    if form is None:
        editing = next((r for r in rules if r["_id"] == request.args.get("edit")), None)
        form = _rule_form(editing)
    return form_page(
        "console/point_rules.html",
        NOTICES,
        status,
        error,
        rows=[_rule_row(rule, grade_names) for rule in rules],
        grades=grade_names,
        types=RULE_TYPES,
        form=form,
    )


def _rule_form(rule):
    if rule is None:
        return {"ruleId": "", "type": "consumption", "grade": "", "amount": "", "points": ""}
    return {
        "ruleId": rule["ruleId"],
        "type": rule["type"],
        "grade": "" if rule.get("grade") is None else str(rule["grade"]),
        "amount": plain_yuan(rule["amount"]),
        "points": str(rule["points"]),
        "productIds": " ".join(rule.get("productIds") or []),
        "editing": True,
    }


def rule_body(values):
    """The API's point-rule body from the form."""
    form = Form(values)
    grade = form.raw("grade")
    return {
        "ruleId": form.text("ruleId", "规则编号", longest=64),
        "type": form.choice("type", "规则类型", RULE_TYPES),
        "grade": None if grade == "" else form.whole("grade", "适用等级"),
        "amount": form.yuan("amount", "每档金额"),
        "points": form.whole("points", "每档积分", minimum=1),
        "productIds": form.codes("productIds", "商品编号"),
    }


@bp.post("/point-rules")
@requires("admin")
def save_point_rule():
    """Create or replace a rule (by its ruleId)."""
    try:
        rule = services().members.points.rules.save(rule_body(request.form))
    except Refused as refused:
        return _rules_page(400, refused.zh, dict(request.form))
    log_change(
        "point_rule.save",
        f"point_rule:{rule['ruleId']}",
        {k: v for k, v in rule.items() if k != "_id"},
    )
    return redirect(url_for("console.point_rules", done="saved"))


@bp.post("/point-rules/<rule_id>/delete")
@requires("admin")
def delete_point_rule(rule_id):
    """Remove a rule (points already earned stay)."""
    rule = services().members.points.rules.delete(rule_id)
    if rule is None:
        return refuse(404, "没有这条积分规则，或已被删除。")
    log_change(
        "point_rule.delete", f"point_rule:{rule_id}", {k: v for k, v in rule.items() if k != "_id"}
    )
    return redirect(url_for("console.point_rules", done="deleted"))


# -- grades ------------------------------------------------------------------------


def _rule_text(rule, names, side):
    """``近 12 个月消费金额达到 1,000.00 元 → 金卡会员``."""
    if not rule:
        return ""
    by = rule["by"]
    number = yuan(rule["number"]) + " 元" if by == "spend" else f"{rule['number']:,}"
    target = names.get(rule["to"], f"级别 {rule['to']}")
    scope = "（含直接下级）" if rule.get("includeSubordinates") else ""
    what = MEASURES[by].split("（")[0]
    verb = "达到" if side == "up" else "不足"
    return f"近 {rule['months']} 个月{what}{scope}{verb} {number} → {target}"


def discount_text(discount):
    """``不打折``, ``9折``, ``9.5折``."""
    return "不打折" if discount >= 1 else f"{round(discount * 10, 2):g}折"


@bp.get("/grades")
@requires("viewer")
def grades():
    """Every grade with its rules and members; admins add one or change one (``?edit=``)."""
    return _grades_page()


def _grades_page(status=200, error="", form=None):
    system = services().members.grades
    all_grades = system.all()
    names = {grade["level"]: grade["name"] for grade in all_grades}
    counts = system.distribution()
    rows = [
        {
            **grade,
            "members": counts.get(grade["level"], 0),
            "up_text": _rule_text(grade.get("up"), names, "up"),
            "down_text": _rule_text(grade.get("down"), names, "down"),
            "discount_text": discount_text(grade["discount"]),
        }
        for grade in all_grades
    ]
    if form is None:
        editing = request.args.get("edit", type=int)
        form = _grade_form(next((grade for grade in all_grades if grade["level"] == editing), None))
    return form_page(
        "console/grades.html",
        NOTICES,
        status,
        error,
        rows=rows,
        form=form,
        measures=MEASURES,
    )


def _grade_form(grade):
    if grade is None:
        return {"level": "", "name": "", "discount": "1", "cardImage": "", "rules": ""}
    form = {
        "level": str(grade["level"]),
        "name": grade["name"],
        "discount": f"{grade['discount']:g}",
        "cardImage": grade.get("cardImage", ""),
        "rules": grade.get("rules", ""),
        "editing": True,
    }
    for side in ("up", "down"):
        rule = grade.get(side)
        if rule:
            number = rule["number"]
            form.update(
                {
                    f"{side}_by": rule["by"],
                    f"{side}_months": str(rule["months"]),
                    f"{side}_number": plain_yuan(number)
                    if rule["by"] == "spend"
                    else _plain(number),
                    f"{side}_to": str(rule["to"]),
                    f"{side}_sub": rule.get("includeSubordinates", False),
                }
            )
    return form


def _plain(number):
    """A count as typed back into a form: 3 for 3 or 3.0, 2.5 for 2.5, never 1.23457e+06."""
    return str(int(number)) if float(number).is_integer() else str(number)


def grade_body(values):
    """The API's grade body from the form (a rule left on "无" is absent)."""
    form = Form(values)
    body = {
        "level": form.whole("level", "级别"),
        "name": form.text("name", "等级名称", longest=50),
        "discount": form.decimal("discount", "折扣", minimum=0.01, maximum=1),
        "cardImage": form.text("cardImage", "卡面图片地址", required=False, longest=500),
        "rules": form.text("rules", "等级说明", required=False, longest=1000),
    }
    for side, label in (("up", "升级规则"), ("down", "降级规则")):
        if not form.raw(f"{side}_by"):
            body[side] = None
            continue
        body[side] = {
            "by": form.choice(f"{side}_by", f"{label}的依据", MEASURES),
            "months": form.whole(f"{side}_months", f"{label}的统计月数", 1, MAX_MONTHS),
            "number": form.decimal(f"{side}_number", f"{label}的门槛", 0, 10_000_000),
            "to": form.whole(f"{side}_to", f"{label}的目标等级"),
            "includeSubordinates": form.checked(f"{side}_sub"),
        }
    return body


@bp.post("/grades")
@requires("admin")
def save_grade():
    """Create or replace a grade (by its level)."""
    try:
        grade = services().members.grades.save(grade_body(request.form))
    except Refused as refused:
        return _grades_page(400, refused.zh, dict(request.form))
    log_change(
        "grade.save",
        f"grade:{grade['level']}",
        {"name": grade["name"], "discount": grade["discount"]},
    )
    return redirect(url_for("console.grades", done="saved"))


# -- recharge promotions -----------------------------------------------------------


@bp.get("/recharge-promotions")
@requires("viewer")
def recharge_promotions():
    """Every recharge promotion ("充100送30"); admins add one or change one (``?edit=``)."""
    return _promotions_page()


def _promotions_page(status=200, error="", form=None):
    promotions = sorted(services().members.money.all_promotions(), key=lambda p: p["threshold"])
    if form is None:
        editing = next((p for p in promotions if p["_id"] == request.args.get("edit")), None)
        form = (
            {
                "id": editing["_id"],
                "name": editing["name"],
                "threshold": plain_yuan(editing["threshold"]),
                "bonus": plain_yuan(editing["bonus"]),
                "editing": True,
            }
            if editing
            else {"id": "", "name": "", "threshold": "", "bonus": ""}
        )
    rows = [
        {**p, "threshold_yuan": yuan(p["threshold"]), "bonus_yuan": yuan(p["bonus"])}
        for p in promotions
    ]
    return form_page(
        "console/recharge_promotions.html",
        NOTICES,
        status,
        error,
        rows=rows,
        form=form,
    )


@bp.post("/recharge-promotions")
@requires("admin")
def save_recharge_promotion():
    """Create or replace a promotion: from ``threshold`` yuan a recharge earns ``bonus``."""
    form = Form(request.form)
    try:
        promotion_id = form.text("id", "优惠编号", longest=64)
        name = form.text("name", "优惠名称", longest=100)
        threshold = to_fen(form.yuan("threshold", "充值门槛"), "threshold")
        bonus = to_fen(form.yuan("bonus", "赠送金额"), "bonus")
    except Refused as refused:
        return _promotions_page(400, refused.zh, dict(request.form))
    services().members.money.save_promotion(promotion_id, threshold, bonus, name)
    log_change(
        "recharge_promotion.save",
        f"recharge_promotion:{promotion_id}",
        {"name": name, "threshold": threshold, "bonus": bonus},
    )
    return redirect(url_for("console.recharge_promotions", done="saved"))


@bp.post("/recharge-promotions/<promotion_id>/<any(on, off):state>")
@requires("admin")
def switch_recharge_promotion(promotion_id, state):
    """Switch a promotion off (recharges no longer earn its bonus) or on again."""
    promotion = services().members.money.set_promotion_active(promotion_id, state == "on")
    if promotion is None:
        return refuse(404, "没有这个充值优惠。")
    log_change(
        "recharge_promotion.active", f"recharge_promotion:{promotion_id}", {"active": state == "on"}
    )
    return redirect(url_for("console.recharge_promotions", done=state))
