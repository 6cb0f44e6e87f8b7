"""Points (``Member_Integral``): earned by the rules of seed 003 section 六, spent,
adjusted by staff, expired by policy (oldest points first), opened from the CRM.

A rule (``member/point_rules``) gives ``points`` per whole ``amount`` (fen) of a
consumption or a recharge, for one grade or all, counting only the items of its
product ids when it has any. The most specific rule wins: a rule for the
member's grade before a rule for all grades.
"""

from datetime import datetime, timedelta

from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.crm import CRMClient
from wxmember.db.collections import POINT_RULES
from wxmember.members.ledger import Entry, InsufficientBalance, Ledger
from wxmember.members.transactions import MAX_ID, MAX_YUAN
from wxmember.refusals import InvalidRequest
from wxmember.timeparse import SHANGHAI

RULE_TYPES = {"consumption": "消费", "recharge": "充值"}


class InvalidRule(InvalidRequest):
    """A point rule that cannot be used."""

    code = "invalid_definition"


class PointRules:
    """Staff-defined earning rules."""

    def __init__(self, database: Database) -> None:
        self.collection = database[POINT_RULES]

    def save(self, rule: object) -> dict:
        """Create or replace a rule ``{ruleId, type, grade?, amount, points, productIds?}``."""
        rule = check_rule(rule)
        self.collection.replace_one({"_id": rule["ruleId"]}, rule, upsert=True)
        return rule

    def all(self) -> list[dict]:
        """Every rule."""
        return list(self.collection.find().sort("_id", 1))

    def delete(self, rule_id: str) -> dict | None:
        """Remove the rule ``rule_id`` (points already earned stay); the rule, or None."""
        return self.collection.find_one_and_delete({"_id": rule_id})

    def points_for(
        self, kind: str, amount_fen: int, grade: int | None = None, items: list | None = None
    ) -> int:
        """Points a consumption or recharge of ``amount_fen`` earns under the best rule."""
        rules = [r for r in self.collection.find({"type": kind}) if r.get("grade") in (None, grade)]
        if not rules:
            return 0
        rule = max(rules, key=lambda r: r.get("grade") is not None)
        eligible = amount_fen
        if rule.get("productIds") and items is not None:
            wanted = set(rule["productIds"])
            eligible = sum(item["amount"] for item in items if item["productId"] in wanted)
        return (eligible // rule["amount"]) * rule["points"]


def check_rule(rule: object) -> dict:
    """A clean copy of ``rule``; InvalidRule naming the field that is wrong."""
    if not isinstance(rule, dict):
        raise InvalidRule("rule must be an object", "规则格式不正确")
    rule_id = str(rule.get("ruleId") or "").strip()
    if not rule_id:
        raise InvalidRule("ruleId is required", "请填写规则编号")
    if rule.get("type") not in RULE_TYPES:
        raise InvalidRule("type must be consumption or recharge", "规则类型须为消费或充值")
    amount, points = rule.get("amount"), rule.get("points")
    if not _number(amount) or not 0 < amount <= MAX_YUAN:
        raise InvalidRule(
            f"amount (yuan per step) must be a positive number ≤ {MAX_YUAN}",
            f"每档金额须为大于0、不超过{MAX_YUAN:,}的元数",
        )
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise InvalidRule("points must be a positive whole number", "积分须为正整数")
    product_ids = rule.get("productIds") or []
    if not isinstance(product_ids, list) or not all(isinstance(p, str) for p in product_ids):
        raise InvalidRule("productIds must be a list of product ids", "商品编号格式不正确")
    grade = rule.get("grade")
    if grade is not None and (not isinstance(grade, int) or isinstance(grade, bool)):
        raise InvalidRule(
            "grade must be a grade level (whole number) or absent", "适用等级须为等级级别或全部等级"
        )
    if round(amount * 100) <= 0:  # a step of 0 fen divided every purchase by zero
        raise InvalidRule("amount (yuan per step) must be at least 0.01", "每档金额至少0.01元")
    if not 0 < points < MAX_ID or (grade is not None and not 0 <= grade < MAX_ID):
        raise InvalidRule("points and grade must be below 2^53", "积分或等级数值过大")
    return {
        "_id": rule_id,
        "ruleId": rule_id,
        "type": rule["type"],
        "grade": grade,
        "amount": round(amount * 100),
        "points": points,
        "productIds": product_ids,
    }


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class ExpiryPolicy:
    """When earned points expire: ``never``, ``days:N``, or ``year_end`` (end of next year)."""

    def __init__(self, spec: str = "never") -> None:
        self.spec = spec
        if spec not in ("never", "year_end") and not (
            spec.startswith("days:") and spec[5:].isdigit() and int(spec[5:]) > 0
        ):
            raise ValueError(f"points expiry must be never, days:N or year_end, not {spec!r}")

    def expires_at(self, earned_ms: int) -> int | None:
        """When points earned at ``earned_ms`` expire (ms), or None."""
        if self.spec == "never":
            return None
        earned = datetime.fromtimestamp(earned_ms / 1000, SHANGHAI)
        if self.spec == "year_end":
            return int(datetime(earned.year + 2, 1, 1, tzinfo=SHANGHAI).timestamp() * 1000)
        return int((earned + timedelta(days=int(self.spec[5:]))).timestamp() * 1000)


class Points:
    """Points operations over the ledger."""

    def __init__(
        self,
        ledger: Ledger,
        rules: PointRules,
        crm: CRMClient | None = None,
        expiry: ExpiryPolicy | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.ledger, self.rules, self.crm = ledger, rules, crm
        self.expiry = expiry or ExpiryPolicy()
        self.clock = clock

    def balance(self, member_id: int) -> int:
        """The member's points."""
        return self.ledger.balance("points", member_id)

    def earn(self, member_id: int, points: int, entry: Entry, key: str) -> dict | None:
        """Credit earned points (a lot that expires by the policy)."""
        if points <= 0:
            return None
        return self.ledger.post("points", member_id, points, entry, key)

    def spend(self, member_id: int, points: int, entry: Entry, key: str) -> dict:
        """Take points; InsufficientBalance (nothing taken) when there are too few."""
        return self.ledger.post("points", member_id, -abs(points), entry, key)

    def adjust(
        self, member_id: int, amount: int, reason: str, form_id: str, operator: int = 0
    ) -> dict:
        """A staff adjustment with its reason; refused if it would go below zero."""
        entry = Entry(
            form_id,
            "人工调整",
            "积分调整",
            source="后台",
            memo=reason,
            explain=reason,
            operator=operator,
        )
        return self.ledger.post("points", member_id, amount, entry, f"adjust:{form_id}")

    def open_from_crm(self, member_id: int) -> dict | None:
        """Once per member: the CRM's points become the opening row."""
        key = f"opening:{member_id}"
        if self.crm is None or self.ledger.row("points", key):
            return None
        points = self.crm.points(member_id)
        if points is None or points < 0:
            return None
        entry = Entry(f"OPEN-{member_id}", "期初", "CRM积分转入", source="CRM")
        return self.ledger.post("points", member_id, points, entry, key)

    def expire(self, member_id: int, now: int | None = None) -> int:
        """Expire what is due, oldest points first; return the points expired."""
        now = now or self.clock.now_ms()
        due, debits = 0, 0
        for row in self.ledger.history("points", member_id):
            amount = row["Integral"]
            if amount < 0:
                debits -= amount
            else:
                expires = self.expiry.expires_at(row["CreateDate"])
                if expires is not None and expires <= now:
                    due += amount
        # Spending and earlier expiry took the oldest points first: what is left of the
        # expired lots is what they brought in minus everything taken so far.
        amount = min(max(0, due - debits), self.balance(member_id))
        if amount <= 0:
            return 0
        entry = Entry(f"EXP-{member_id}-{now}", "积分过期", "积分到期")
        try:
            self.ledger.post("points", member_id, -amount, entry, f"expire:{member_id}:{due}")
        except InsufficientBalance:
            return 0
        return amount
