"""The brand's own coupons (seed 003 §四 优惠券): definitions, stock and what they take off.

A definition (``member/coupons``) is a kind — ``minus`` (满减: ``value`` off once the
amount reaches ``threshold``), ``discount`` (折扣: pay ``value`` of the amount, 0.85 =
八五折, from ``threshold`` on) or ``cash`` (代金券: ``value`` off, no threshold unless
one is given) —, a ``stock`` (发放数值; None = no limit, "为空表示没有上限"), how many
one member may claim (``perMember``, 1 by default: "同一个人同一张券只能领取一次"), when
issuing opens and closes (``start``, ``end``), how long an issued coupon is good
(until ``end``, or ``validDays`` from its issue; neither: until used, "为空永久"),
the products it is for (``productIds``, empty = all), whether it stacks with the grade
discount and with points (和等级叠加, 和积分叠加), and who gets it (``purpose``: members
claim it, the birthday job or a grade upgrade issues it, or members buy it with points
in the 积分商城 — never claimed free). Money is kept in fen.

Seed 003 §三: once a coupon has started, neither its quantity nor its content may
change: an edit is one conditional replace of a definition that has not started.
"""

import math
from collections.abc import Iterable

from bson import ObjectId
from pymongo.client_session import ClientSession
from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import COUPONS
from wxmember.members.transactions import MAX_FEN, MAX_ID, plain_yuan, yuan
from wxmember.refusals import InvalidRequest, Refused
from wxmember.timeparse import LAST_SHOWN_MS

KINDS = {"minus": "满减券", "discount": "折扣券", "cash": "代金券"}
PURPOSES = ("claim", "birthday", "upgrade", "redemption")
STATES = {"pending": "待发", "issuing": "已发", "sold_out": "已领完", "ended": "已结束"}
MAX_VALID_DAYS = 3650
MAX_PER_MEMBER = 1000
MAX_PRODUCTS = 1000


class InvalidCoupon(InvalidRequest):
    """A coupon definition that cannot be used; the message names the field."""

    code = "invalid_coupon"


class CouponRefused(Refused):
    """A coupon cannot be claimed, issued, edited or used now; nothing was written."""


def describe(coupon: dict) -> str:
    """What the coupon gives, as a member reads it: 满100元减10元, 8.5折, 无门槛10元代金券."""
    threshold = f"满{plain_yuan(coupon['threshold'])}元" if coupon["threshold"] else ""
    if coupon["kind"] == "minus":
        return f"{threshold}减{plain_yuan(coupon['value'])}元"
    if coupon["kind"] == "discount":
        rate = f"{coupon['value'] * 10:.1f}".rstrip("0").rstrip(".")
        return f"{threshold}{rate}折"
    return f"{threshold or '无门槛'}{plain_yuan(coupon['value'])}元代金券"


def _whole(body, field, minimum, maximum, default=None, nullable=False):
    value = body.get(field, default)
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidCoupon(f"{field} 必须是 {minimum} 到 {maximum} 之间的整数")
    return value


def _fen(body, field, default=None):
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidCoupon(f"{field} 必须是金额（元）")
    fen = round(value * 100)
    if not 0 <= fen <= MAX_FEN or abs(fen - value * 100) > 1e-6:
        raise InvalidCoupon(f"{field} 必须是 0 到 10000000 元之间、最多两位小数的金额")
    return fen


def _flag(body, field):
    value = body.get(field)
    if not isinstance(value, bool):
        raise InvalidCoupon(f"{field} 必须是 true 或 false")
    return value


def _product_ids(value):
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_PRODUCTS:
        raise InvalidCoupon(f"productIds 必须是最多 {MAX_PRODUCTS} 个商品编号的列表")
    ids = []
    for item in value:
        if not isinstance(item, str) or not 0 < len(item.strip()) <= 64:
            raise InvalidCoupon("productIds 中的商品编号必须是 1 到 64 个字符")
        if item.strip() not in ids:
            ids.append(item.strip())
    return ids


def check_coupon(body: object, now: int) -> dict:
    """The clean definition (fen, ms) of the API's JSON; InvalidCoupon naming the field."""
    if not isinstance(body, dict):
        raise InvalidCoupon("券的定义必须是 JSON 对象")
    name = body.get("name")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 100:
        raise InvalidCoupon("name（券名）必须是 1 到 100 个字符")
    kind = body.get("kind")
    if kind not in KINDS:
        raise InvalidCoupon("kind 必须是 minus（满减）、discount（折扣）或 cash（代金）")
    threshold = _fen(body, "threshold", 0)
    value = _value(body, kind, threshold)
    start = _whole(body, "start", 0, LAST_SHOWN_MS, default=now)
    end = _whole(body, "end", 0, LAST_SHOWN_MS, nullable=True)
    if end is not None and (end <= start or end <= now):
        raise InvalidCoupon("end 必须晚于 start 和当前时间")
    purpose = body.get("purpose", "claim")
    if purpose not in PURPOSES:
        raise InvalidCoupon(
            "purpose 必须是 claim（会员领取）、birthday（生日）、upgrade（升级）"
            "或 redemption（积分兑换）"
        )
    grade = _whole(body, "grade", 0, MAX_ID - 1, nullable=True)
    if (purpose == "upgrade") != (grade is not None):
        raise InvalidCoupon("grade（等级）只用于、也必须用于 purpose 为 upgrade 的券")
    return {
        "name": name.strip(),
        "kind": kind,
        "threshold": threshold,
        "value": value,
        "stock": _whole(body, "stock", 1, MAX_ID - 1, nullable=True),
        "perMember": _whole(body, "perMember", 1, MAX_PER_MEMBER, default=1),
        "start": start,
        "end": end,
        "validDays": _whole(body, "validDays", 1, MAX_VALID_DAYS, nullable=True),
        "productIds": _product_ids(body.get("productIds")),
        "stackGrade": _flag(body, "stackGrade"),
        "stackPoints": _flag(body, "stackPoints"),
        "purpose": purpose,
        "grade": grade,
    }


def _value(body, kind, threshold):
    if kind == "discount":
        rate = body.get("value")
        if (
            isinstance(rate, bool)
            or not isinstance(rate, (int, float))
            or not 0 < rate < 1
            or abs(round(rate * 100) - rate * 100) > 1e-6
        ):
            raise InvalidCoupon("折扣券的 value 是 0 到 1 之间、最多两位小数的折扣率，如 0.85")
        return round(rate, 2)
    value = _fen(body, "value")
    if value <= 0:
        raise InvalidCoupon("value（减免金额）必须大于 0")
    if kind == "minus" and not 0 < value <= threshold:
        raise InvalidCoupon("满减券必须有 threshold（满），且减免金额不超过它")
    return value


class CouponDefinitions:
    """Staff's coupon definitions and their counters (已发数量 ``issued``, 已用数量 ``used``)."""

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK, grades=None) -> None:
        self.collection = database[COUPONS]
        self.clock, self.grades = clock, grades

    def ensure_indexes(self) -> None:
        """The coupons a job issues are found by purpose."""
        self.collection.create_index([("purpose", 1), ("start", 1)])

    # -- staff ---------------------------------------------------------------------

    def create(self, body: object) -> dict:
        """Check and store a new definition; return it (``couponId`` is its ``_id``)."""
        now = self.clock.now_ms()
        coupon = self._checked(body, now)
        coupon_id = str(ObjectId())
        coupon.update(
            _id=coupon_id, couponId=coupon_id, issued=0, used=0, createTime=now, updateTime=now
        )
        self.collection.insert_one(coupon)
        return coupon

    def update(self, coupon_id: str, body: object) -> dict:
        """Replace the rules of a coupon that has not started (seed 003 §三); else refused."""
        now = self.clock.now_ms()
        coupon = self._checked(body, now)
        changed = self.collection.update_one(
            {"_id": coupon_id, "start": {"$gt": now}, "issued": 0},
            {"$set": {**coupon, "updateTime": now}},
        )
        if changed.matched_count:
            return self.get(coupon_id)
        if self.get(coupon_id) is None:
            raise CouponRefused("unknown_coupon", "没有这张券", 404)
        raise CouponRefused("coupon_started", "券已开始发放，不能再修改数量和内容")

    def _checked(self, body, now):
        coupon = check_coupon(body, now)
        grade = coupon["grade"]
        if grade is not None and self.grades is not None and self.grades.get(grade) is None:
            raise InvalidCoupon(f"等级 {grade} 不存在")
        return coupon

    # -- reading -------------------------------------------------------------------

    def get(self, coupon_id: str, session: ClientSession | None = None) -> dict | None:
        """The definition ``coupon_id``, or None."""
        return self.collection.find_one({"_id": coupon_id}, session=session)

    def of_ids(self, coupon_ids: Iterable[str]) -> list[dict]:
        """The definitions of ``coupon_ids`` (those that exist), one query."""
        return list(self.collection.find({"_id": {"$in": list(coupon_ids)}}))

    def all(self) -> list[dict]:
        """Every definition, the newest first."""
        return list(self.collection.find().sort("createTime", -1))

    def issuing(self, purpose: str, now: int | None = None) -> list[dict]:
        """Definitions of ``purpose`` open for issuing at ``now`` (stock not looked at)."""
        now = self.clock.now_ms() if now is None else now
        query = {"purpose": purpose, "start": {"$lte": now}}
        return [c for c in self.collection.find(query) if c["end"] is None or c["end"] > now]

    # -- stock and counters (inside the caller's transaction) ------------------------

    def take_one(self, coupon: dict, now: int, session: ClientSession | None = None) -> bool:
        """Count one more issued, within the stock and the issuing window; False if not."""
        condition = {"_id": coupon["_id"], "start": {"$lte": now}}
        if coupon["stock"] is not None:  # the stock never changes once started
            condition["issued"] = {"$lt": coupon["stock"]}
        taken = self.collection.update_one(condition, {"$inc": {"issued": 1}}, session=session)
        return taken.modified_count == 1

    def count_used(
        self, coupon_ids: list[str], delta: int, session: ClientSession | None = None
    ) -> None:
        """Add ``delta`` to 已用数量 of each coupon (a use, or a refund's give-back)."""
        for coupon_id in coupon_ids:
            self.collection.update_one(
                {"_id": coupon_id}, {"$inc": {"used": delta}}, session=session
            )


def state(coupon: dict, now: int) -> str:
    """发放状态: pending (待发), issuing (已发), sold_out (已领完) or ended (已结束)."""
    if coupon["start"] > now:
        return "pending"
    if coupon["end"] is not None and coupon["end"] <= now:
        return "ended"
    if coupon["stock"] is not None and coupon["issued"] >= coupon["stock"]:
        return "sold_out"
    return "issuing"


def remaining(coupon: dict) -> int | None:
    """How many can still be issued (None: no limit)."""
    return None if coupon["stock"] is None else max(0, coupon["stock"] - coupon["issued"])


def rules_view(coupon: dict) -> dict:
    """What a coupon (a definition, or one held) gives, as every view shows it: yuan."""
    return {
        "name": coupon["name"],
        "kind": coupon["kind"],
        "kindName": KINDS[coupon["kind"]],
        "description": describe(coupon),
        "threshold": yuan(coupon["threshold"]),
        "value": coupon["value"] if coupon["kind"] == "discount" else yuan(coupon["value"]),
        "productIds": coupon["productIds"],
        "stackGrade": coupon["stackGrade"],
        "stackPoints": coupon["stackPoints"],
    }


def view(coupon: dict, now: int) -> dict:
    """A definition as the staff API shows it: money in yuan, its state and counters."""
    current = state(coupon, now)
    return {
        "couponId": coupon["_id"],
        **rules_view(coupon),
        "stock": coupon["stock"],
        "issued": coupon["issued"],
        "used": coupon["used"],
        "remaining": remaining(coupon),
        "perMember": coupon["perMember"],
        "start": coupon["start"],
        "end": coupon["end"],
        "validDays": coupon["validDays"],
        "purpose": coupon["purpose"],
        "grade": coupon["grade"],
        "state": current,
        "stateName": STATES[current],
        "editable": current == "pending" and coupon["issued"] == 0,
        "createTime": coupon["createTime"],
        "updateTime": coupon["updateTime"],
    }
