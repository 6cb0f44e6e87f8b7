"""The coupon definition form of the console: what it shows (blank, or the coupon being
changed) and the API's body it makes (yuan, ms), each field checked with a Chinese message.
A discount is typed as Chinese shops say it (8.5 = 八五折)."""

from wxmember.members.coupons import KINDS
from wxmember.members.transactions import plain_yuan
from wxmember.timeparse import DAY_MS
from wxmember.web.console.forms import Form, FormRefused
from wxmember.web.console.present import local_input

PURPOSES = {
    "claim": "会员领取",
    "birthday": "生日礼券",
    "upgrade": "升级礼券",
    "redemption": "积分兑换",
}


def form_of(definitions, editing, now):
    """The form's values: blank, or the definition being changed (if it may still be)."""
    if editing is None or not editing["editable"]:
        start = now - now % 3_600_000 + 3_600_000  # the next full hour
        return {
            "kind": "minus",
            "purpose": "claim",
            "perMember": "1",
            "start": local_input(start),
            "end": local_input(start + 30 * DAY_MS),
            "stackGrade": True,
            "stackPoints": True,
        }
    coupon = next(c for c in definitions if c["_id"] == editing["couponId"])
    return {
        "name": coupon["name"],
        "kind": coupon["kind"],
        "threshold": plain_yuan(coupon["threshold"]),
        "value": "" if coupon["kind"] == "discount" else plain_yuan(coupon["value"]),
        "rate": f"{coupon['value'] * 10:g}" if coupon["kind"] == "discount" else "",
        "stock": "" if coupon["stock"] is None else str(coupon["stock"]),
        "perMember": str(coupon["perMember"]),
        "start": local_input(coupon["start"]),
        "end": local_input(coupon["end"]),
        "validDays": "" if coupon["validDays"] is None else str(coupon["validDays"]),
        "productIds": " ".join(coupon["productIds"]),
        "stackGrade": coupon["stackGrade"],
        "stackPoints": coupon["stackPoints"],
        "purpose": coupon["purpose"],
        "grade": "" if coupon["grade"] is None else str(coupon["grade"]),
    }


def typed(values):
    """What was typed, to show the form again after a refusal."""
    typed = {key: values.get(key, "") for key in values}
    typed["stackGrade"] = values.get("stackGrade") == "1"
    typed["stackPoints"] = values.get("stackPoints") == "1"
    return typed


def coupon_body(values):
    """The API's coupon body (yuan, ms) from the form; FormRefused naming what is wrong."""
    form = Form(values)

    def optional(name, read, empty=None):
        return read() if form.raw(name) else empty

    kind = form.choice("kind", "券类型", KINDS)
    purpose = form.choice("purpose", "发放方式", PURPOSES)
    body = {
        "name": form.text("name", "券名称"),
        "kind": kind,
        "threshold": optional("threshold", lambda: form.yuan("threshold", "使用门槛", False), 0),
        "value": _value(form, kind),
        "stock": optional("stock", lambda: form.whole("stock", "发放总量", minimum=1)),
        "perMember": form.whole("perMember", "每人限领", minimum=1, maximum=1000, default=1),
        "start": form.moment("start", "开始发放时间"),
        "end": optional("end", lambda: form.moment("end", "结束时间")),
        "validDays": optional("validDays", lambda: form.whole("validDays", "有效天数", 1, 3650)),
        "productIds": form.codes("productIds", "适用商品"),
        "stackGrade": form.checked("stackGrade"),
        "stackPoints": form.checked("stackPoints"),
        "purpose": purpose,
        "grade": None,
    }
    if purpose == "upgrade":
        body["grade"] = form.whole("grade", "升级到的等级")
    return body


def _value(form, kind):
    """A discount is typed as 折 (8.5 = pays 85%); the others as yuan off."""
    if kind != "discount":
        return form.yuan("value", "减免金额")
    rate = form.decimal("rate", "折扣", minimum=0.1, maximum=9.9)
    if round(rate * 10) != rate * 10:
        raise FormRefused("折扣最多一位小数，如 8.5 表示八五折。")
    return round(rate / 10, 2)
