"""Checkout (seed 003 §七 优惠规则): grade discount, coupons and points deduction in the
configured order, quoted, then committed once per ``formId``.

§七 gives each of the three ways a rank, "优先顺序选项1到3，可以相同"; the seed's table is
the default: 优惠券 1, 等级 1, 积分抵现 2. Discounts of the same rank are computed on the
same base and added up, and that sum comes off the amount ("抵扣顺序相同的抵扣金额累计，
再用订单总额-累计抵扣金额"); a later rank works on what the earlier ranks left ("在上面优惠
之后的金额上进行抵扣"), which decides whether a 满减 threshold is reached ("主要在满减抵扣
时有影响"). §六's 积分抵扣比例 is the points rate (points per yuan); its cap (the share of
its base points may pay) is ours. Both and the order are staff settings
(``member/discount_rules``).

Within a rank the steps are: the grade discount, the coupons in the order given, the
points. No step exceeds its base and a rank never takes more than its base: the excess
comes off the last steps first (points are then left with the member). A coupon for
some products works on their share of the base. Amounts are fen inside, yuan outside.
"""

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import DISCOUNT_RULES
from wxmember.members.coupons import CouponRefused
from wxmember.members.transactions import MAX_FEN, MAX_ID, yuan
from wxmember.members.wallet import CouponWallet, status_at
from wxmember.refusals import InvalidRequest

WAYS = ("coupon", "grade", "points")
DEFAULT_SETTINGS = {  # seed 003 §七's table; the points rate and cap are ours (the seed has none)
    "order": {"coupon": 1, "grade": 1, "points": 2},
    "pointsPerYuan": 100,
    "pointsCap": 0.5,
}
MAX_COUPONS = 20
MAX_POINTS_PER_YUAN = 1_000_000


class CheckoutRefused(CouponRefused):
    """The order cannot be quoted or committed as asked; nothing was written."""


class InvalidSettings(InvalidRequest):
    """Checkout settings that cannot be used."""

    code = "invalid_settings"


# -- settings ----------------------------------------------------------------------------


def check_settings(body: object, current: dict) -> dict:
    """``current`` with the settings of ``body`` over it; InvalidSettings naming the field."""
    if not isinstance(body, dict):
        raise InvalidSettings("设置必须是 JSON 对象")
    order = dict(current["order"])
    given = body.get("order")
    if given is not None:
        if not isinstance(given, dict):
            raise InvalidSettings("order 必须是 {coupon, grade, points} 的抵扣顺序")
        for way in WAYS:
            rank = given.get(way, order[way])
            if isinstance(rank, bool) or rank not in (1, 2, 3):
                raise InvalidSettings(f"order.{way} 必须是抵扣顺序 1、2 或 3")
            order[way] = rank
    rate = body.get("pointsPerYuan", current["pointsPerYuan"])
    if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= MAX_POINTS_PER_YUAN:
        raise InvalidSettings(
            f"pointsPerYuan（每抵扣1元所需积分）必须是 1 到 {MAX_POINTS_PER_YUAN}"
        )
    cap = body.get("pointsCap", current["pointsCap"])
    if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not 0 < cap <= 1:
        raise InvalidSettings("pointsCap（积分最多抵扣的比例）必须在 0 到 1 之间，如 0.5")
    return {"order": order, "pointsPerYuan": rate, "pointsCap": float(cap)}


class CheckoutSettings:
    """积分抵扣比例 (§六) and the 优惠规则 order (§七): one document, the seed's defaults."""

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.collection = database[DISCOUNT_RULES]
        self.clock = clock

    def get(self) -> dict:
        """The settings in force (the defaults until staff change them)."""
        stored = self.collection.find_one({"_id": "checkout"}) or {}
        return {key: stored.get(key, default) for key, default in DEFAULT_SETTINGS.items()}

    def save(self, body: object) -> dict:
        """Change some or all of the settings; return them all."""
        settings = check_settings(body, self.get())
        self.collection.replace_one(
            {"_id": "checkout"},
            {"_id": "checkout", **settings, "updateTime": self.clock.now_ms()},
            upsert=True,
        )
        return settings


# -- the order as asked --------------------------------------------------------------------


@dataclass
class Order:
    """A checkout request, checked: amounts in fen."""

    member_id: int
    amount: int
    items: list[dict] | None
    coupons: list[str]
    points: int
    use_grade: bool = True


def _fen(value, field_name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CheckoutRefused("invalid_amount", f"{field_name} 必须是金额（元）", 400)
    fen = round(value * 100)
    if not 0 <= fen <= MAX_FEN or abs(fen - value * 100) > 1e-6:
        raise CheckoutRefused(
            "invalid_amount", f"{field_name} 必须是 0 到 10000000 元、最多两位小数", 400
        )
    return fen


def parse_order(body: object) -> Order:
    """The ``Order`` of a quote's JSON (yuan); CheckoutRefused (400) naming what is wrong."""
    if not isinstance(body, dict):
        raise CheckoutRefused("invalid_body", "请求必须是 JSON 对象", 400)
    member_id = body.get("memberID")
    if isinstance(member_id, bool) or not isinstance(member_id, int) or not 0 < member_id < MAX_ID:
        raise CheckoutRefused("invalid_member", "memberID 必须是会员号", 400)
    amount = _fen(body.get("amount"), "amount")
    items = body.get("items")
    if items is not None:
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("productId"), str) for i in items
        ):
            raise CheckoutRefused("invalid_items", "items 必须是 [{productId, amount}]", 400)
        items = [
            {"productId": i["productId"], "amount": _fen(i.get("amount"), "items.amount")}
            for i in items
        ]
        if sum(i["amount"] for i in items) != amount:
            raise CheckoutRefused("invalid_items", "商品金额之和必须等于订单金额", 400)
    numbers = body.get("coupons") or []
    if not isinstance(numbers, list) or not all(isinstance(n, str) and n for n in numbers):
        raise CheckoutRefused("invalid_coupons", "coupons 必须是券号列表", 400)
    if len(numbers) > MAX_COUPONS or len(set(numbers)) != len(numbers):
        raise CheckoutRefused("invalid_coupons", f"每单最多使用{MAX_COUPONS}张券，且不能重复", 400)
    points = body.get("points", 0) or 0
    if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points < MAX_ID:
        raise CheckoutRefused("invalid_points", "points 必须是不小于0的整数", 400)
    use_grade = body.get("useGrade", True)
    if not isinstance(use_grade, bool):
        raise CheckoutRefused("invalid_body", "useGrade 必须是 true 或 false", 400)
    return Order(member_id, amount, items, numbers, points, use_grade)


# -- the quote -------------------------------------------------------------------------------


@dataclass
class Step:
    """One discount: what (``kind``: grade, minus, discount, cash, points), its rank, the
    base it was computed on and the amount it takes off (fen)."""

    kind: str
    name: str
    rank: int
    base: int
    amount: int
    coupon_no: str | None = None
    points: int = 0

    def answer(self) -> dict:
        shown = {
            "kind": self.kind,
            "name": self.name,
            "rank": self.rank,
            "base": yuan(self.base),
            "amount": yuan(self.amount),
        }
        if self.coupon_no is not None:
            shown["couponNo"] = self.coupon_no
        if self.kind == "points":
            shown["points"] = self.points
        return shown


@dataclass
class Quote:
    """What the order costs: the steps in order, the total, the points and coupons it uses."""

    order: Order
    steps: list[Step] = field(default_factory=list)
    total: int = 0
    grade: dict | None = None

    @property
    def points_used(self) -> int:
        return sum(step.points for step in self.steps)

    @property
    def points_value(self) -> int:
        """Fen the points pay."""
        return sum(step.amount for step in self.steps if step.kind == "points")

    @property
    def coupons(self) -> list[str]:
        return [step.coupon_no for step in self.steps if step.coupon_no is not None]

    def answer(self) -> dict:
        """The quote as the API answers it (yuan)."""
        return {
            "memberID": self.order.member_id,
            "subtotal": yuan(self.order.amount),
            "steps": [step.answer() for step in self.steps],
            "discount": yuan(self.order.amount - self.total),
            "total": yuan(self.total),
            "pointsUsed": self.points_used,
            "coupons": self.coupons,
            "grade": self.grade,
        }


def off_at_rate(base: int, rate: float) -> int:
    """What paying ``rate`` of ``base`` takes off, in whole fen (half up)."""
    kept = Decimal(base) * Decimal(str(rate))
    return base - int(kept.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class Quoting:
    """Quotes orders: reads the member's coupons, grade, points and the settings, writes
    nothing."""

    def __init__(
        self,
        settings: CheckoutSettings,
        wallet: CouponWallet,
        grades,
        points,
        knows,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.settings, self.wallet, self.grades, self.points = settings, wallet, grades, points
        self.knows, self.clock = knows, clock

    def quote(self, body: object, now: int | None = None) -> Quote:
        """The quote of a request ``{memberID, amount, items?, coupons, points, useGrade?}``."""
        return self.quote_order(parse_order(body), now)

    def quote_order(self, order: Order, now: int | None = None) -> Quote:
        """The quote of a checked order; CheckoutRefused naming the rule it breaks."""
        now = self.clock.now_ms() if now is None else now
        if not self.knows(order.member_id):
            raise CheckoutRefused("unknown_member", f"平台上没有会员 {order.member_id}", 404)
        settings = self.settings.get()
        grade = self._grade(order)
        coupons = self._coupons(order, now)
        _check_stacking(order, coupons, grade)
        if order.points and order.points > self.points.balance(order.member_id):
            raise CheckoutRefused("insufficient_points", "积分不足")
        quote = Quote(order, grade=_grade_shown(grade))
        quote.total = _apply_ranks(order, settings, grade, coupons, quote.steps)
        for coupon in coupons:
            if not any(s.coupon_no == coupon["_id"] and s.amount for s in quote.steps):
                raise CheckoutRefused(
                    "coupon_no_effect", f"优惠券「{coupon['name']}」在本单中没有可抵扣的金额"
                )
        quote.steps = [s for s in quote.steps if s.amount or s.coupon_no]
        return quote

    def _grade(self, order):
        """The member's grade when its discount applies to this order, else None."""
        if not order.use_grade:
            return None
        member = self.grades.member_if_known(order.member_id)
        level = member.get("GradeID") if member else None
        grade = self.grades.get(level) if level is not None else self.grades.lowest()
        if grade is None or grade["discount"] >= 1:
            return None
        return grade

    def _coupons(self, order, now):
        """The order's coupons, checked: the member's own, valid, one per kind of coupon."""
        if not order.coupons:
            return []
        held = self.wallet.held(order.coupons)
        coupons = []
        for number in order.coupons:
            coupon = held.get(number)
            if coupon is None:
                raise CheckoutRefused("unknown_coupon", f"没有优惠券{number}", 404)
            if coupon["memberID"] != order.member_id:
                raise CheckoutRefused("coupon_not_yours", f"优惠券{number}不属于该会员")
            state = status_at(coupon, now)
            if state == "used":
                raise CheckoutRefused("coupon_used", f"优惠券「{coupon['name']}」已使用")
            if state == "expired":
                raise CheckoutRefused("coupon_expired", f"优惠券「{coupon['name']}」已过期")
            if any(c["couponId"] == coupon["couponId"] for c in coupons):
                raise CheckoutRefused("coupon_repeated", f"「{coupon['name']}」每单只能使用一张")
            coupon = {**coupon, "eligible": _eligible(order, coupon)}
            coupons.append(coupon)
        return coupons


def _grade_shown(grade):
    if grade is None:
        return None
    return {"level": grade["level"], "name": grade["name"], "discount": grade["discount"]}


def _eligible(order, coupon):
    """Fen of the order the coupon is for: all of it, or its products' items."""
    if not coupon["productIds"]:
        return order.amount
    if order.items is None:
        raise CheckoutRefused(
            "coupon_not_applicable", f"优惠券「{coupon['name']}」仅限指定商品使用，请提供商品明细"
        )
    wanted = set(coupon["productIds"])
    eligible = sum(item["amount"] for item in order.items if item["productId"] in wanted)
    if not eligible:
        raise CheckoutRefused(
            "coupon_not_applicable", f"本单没有优惠券「{coupon['name']}」适用的商品"
        )
    return eligible


def _check_stacking(order, coupons, grade):
    """和等级叠加 / 和积分叠加: a coupon that does not stack refuses the other in the order."""
    for coupon in coupons:
        if grade is not None and not coupon["stackGrade"]:
            raise CheckoutRefused(
                "coupon_not_stackable", f"优惠券「{coupon['name']}」不能与会员等级折扣同时使用"
            )
        if order.points and not coupon["stackPoints"]:
            raise CheckoutRefused(
                "coupon_not_stackable", f"优惠券「{coupon['name']}」不能与积分抵现同时使用"
            )


def _apply_ranks(order, settings, grade, coupons, steps):
    """Append the steps rank by rank; return what is left to pay (fen)."""
    ranks = settings["order"]
    remaining = order.amount
    for rank in sorted(set(ranks.values())):
        base = remaining
        in_rank = []
        if ranks["grade"] == rank and grade is not None:
            off = off_at_rate(base, grade["discount"])
            in_rank.append(Step("grade", f"{grade['name']}折扣", rank, base, off))
        if ranks["coupon"] == rank:
            in_rank += [_coupon_step(order, coupon, rank, base) for coupon in coupons]
        if ranks["points"] == rank and order.points:
            in_rank.append(_points_step(order, settings, rank, base))
        _trim(in_rank, base, settings)
        remaining -= sum(step.amount for step in in_rank)
        steps += in_rank
    return remaining


def _coupon_step(order, coupon, rank, base):
    share = (
        base if coupon["eligible"] == order.amount else base * coupon["eligible"] // order.amount
    )
    if share < coupon["threshold"]:
        raise CheckoutRefused(
            "threshold_not_met",
            f"优惠券「{coupon['name']}」需满{yuan(coupon['threshold']):g}元使用，"
            f"本单可用金额为{yuan(share):g}元",
        )
    if coupon["kind"] == "discount":
        off = off_at_rate(share, coupon["value"])
    else:
        off = min(coupon["value"], share)
    return Step(coupon["kind"], coupon["name"], rank, share, off, coupon["_id"])


def _points_step(order, settings, rank, base):
    rate, cap = settings["pointsPerYuan"], settings["pointsCap"]
    most = int(Decimal(base) * Decimal(str(cap)))  # fen the points may pay here
    off = min(order.points * 100 // rate, most)
    return Step("points", "积分抵现", rank, base, off, points=_points_for(off, rate))


def _points_for(fen, rate):
    """The points that pay ``fen`` at ``rate`` points per yuan (rounded up)."""
    return -(-fen * rate // 100)


def _trim(in_rank, base, settings):
    """A rank takes at most its base: the excess comes off its last steps first."""
    excess = sum(step.amount for step in in_rank) - base
    for step in reversed(in_rank):
        if excess <= 0:
            return
        cut = min(excess, step.amount)
        step.amount -= cut
        excess -= cut
        if step.kind == "points":
            step.points = _points_for(step.amount, settings["pointsPerYuan"])
