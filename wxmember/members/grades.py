"""Member grades (``Member_Config_Grade``) and their upgrade and downgrade rules.

A grade has a level, a name, a card image, a discount rate and a rules text, and
optionally an ``up`` and a ``down`` rule: by total spend (fen), order count or
referred members (``FromID``) over the last N calendar months (Asia/Shanghai),
optionally counting direct subordinates, and the grade reached. A downgrade is
only considered once the member has held the grade for the rule's months. A
member with the "锁定等级" permission keeps its grade. Each change writes
``Member_Log``, a feed item, a log record, and queues a WeChat template message.
"""

import contextlib
from collections.abc import Callable
from datetime import datetime

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import GRADES, MEMBER_DATA, MEMBER_LOG
from wxmember.members.transactions import MAX_ID, MAX_YUAN, TransactionHistory
from wxmember.records.customers import CustomerStore
from wxmember.records.feeds import FeedStore
from wxmember.records.logs import LogStore
from wxmember.refusals import InvalidRequest
from wxmember.timeparse import SHANGHAI
from wxmember.wechat.templates import TemplateQueue

LOCK = "锁定等级"
MEASURES = ("spend", "orders", "referrals")
MAX_MONTHS = 1200  # a rule looks back at most a hundred years (further: no calendar date)
RULE_NAMES = {"up": "升级规则", "down": "降级规则"}  # in the console's refusals
RULE_FIELDS = {"months": "统计月数", "number": "门槛", "to": "目标等级"}


class InvalidGrade(InvalidRequest):
    """A grade definition that cannot be used."""

    code = "invalid_definition"


def months_before(ms: int, months: int) -> int:
    """The same moment ``months`` calendar months earlier (day clamped), in Shanghai time."""
    moment = datetime.fromtimestamp(ms / 1000, SHANGHAI)
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, _days_in(year, month + 1))
    return int(moment.replace(year=year, month=month + 1, day=day).timestamp() * 1000)


def _days_in(year, month):
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - datetime(year, month, 1)).days


def check_grade(body: object) -> dict:
    """A clean grade definition from the API's JSON; InvalidGrade naming the field."""
    if not isinstance(body, dict):
        raise InvalidGrade("grade must be an object", "等级格式不正确")
    level = body.get("level")
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level < MAX_ID:
        raise InvalidGrade("level must be a whole number ≥ 0 (below 2^53)", "级别须为不小于0的整数")
    name = str(body.get("name") or "").strip()
    if not name:
        raise InvalidGrade("name is required", "请填写等级名称")
    discount = body.get("discount", 1)
    if (
        isinstance(discount, bool)
        or not isinstance(discount, (int, float))
        or not 0 < discount <= 1
    ):
        raise InvalidGrade(
            "discount must be a rate in (0, 1], e.g. 0.95", "折扣须在0到1之间（如0.95），1为不打折"
        )
    grade = {
        "_id": level,
        "level": level,
        "name": name,
        "discount": discount,
        "cardImage": str(body.get("cardImage") or ""),
        "rules": str(body.get("rules") or ""),
        "up": _rule(body.get("up"), "up"),
        "down": _rule(body.get("down"), "down"),
    }
    return grade


def _rule(rule, name):
    if rule is None:
        return None
    if not isinstance(rule, dict):
        raise InvalidGrade(f"{name} must be an object", f"{RULE_NAMES[name]}格式不正确")
    if rule.get("by") not in MEASURES:
        raise InvalidGrade(
            f"{name}.by must be spend, orders or referrals",
            f"{RULE_NAMES[name]}的依据须为消费金额、订单数或推荐人数",
        )
    for field, most in (("months", MAX_MONTHS), ("number", MAX_YUAN), ("to", MAX_ID - 1)):
        value = rule.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= most:
            raise InvalidGrade(
                f"{name}.{field} must be a number from 0 to {most}",
                f"{RULE_NAMES[name]}的{RULE_FIELDS[field]}须为0到{most}之间的数",
            )
    number = round(rule["number"] * 100) if rule["by"] == "spend" else int(rule["number"])
    return {
        "by": rule["by"],
        "months": int(rule["months"]),
        "number": number,
        "to": int(rule["to"]),
        "includeSubordinates": bool(rule.get("includeSubordinates")),
    }


class Grades:
    """Defines grades, keeps each member's grade and moves it by the rules."""

    def __init__(
        self,
        database: Database,
        feeds: FeedStore,
        logs: LogStore,
        customers: CustomerStore,
        history: TransactionHistory,
        templates: TemplateQueue,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.grades = database[GRADES]
        self.members = database[MEMBER_DATA]
        self.member_log = database[MEMBER_LOG]
        self.feeds, self.logs, self.customers = feeds, logs, customers
        self.history, self.templates, self.clock = history, templates, clock

    def ensure_indexes(self) -> None:
        """Referred members, members per grade, a member's grade changes, and the
        transactions the rules count."""
        self.members.create_index("FromID", sparse=True)
        self.members.create_index("GradeID")  # members per grade (the staff dashboard)
        self.member_log.create_index([("MemberID", 1), ("Date", -1)])
        self.history.ensure_indexes()

    # -- definitions ---------------------------------------------------------------

    def save(self, body: object) -> dict:
        """Create or replace a grade (by level)."""
        grade = check_grade(body)
        for rule in (grade["up"], grade["down"]):
            if rule and not self.get(rule["to"]) and rule["to"] != grade["level"]:
                raise InvalidGrade(
                    f"grade level {rule['to']} does not exist yet",
                    f"目标等级（级别 {rule['to']}）还不存在，请先添加该等级",
                )
        self.grades.replace_one({"_id": grade["level"]}, grade, upsert=True)
        return grade

    def all(self) -> list[dict]:
        """Every grade, lowest level first."""
        return list(self.grades.find().sort("_id", 1))

    def names(self) -> dict[int, str]:
        """``{level: name}`` of every grade."""
        return {grade["level"]: grade["name"] for grade in self.all()}

    def get(self, level: int) -> dict | None:
        """The grade of ``level``, or None."""
        return self.grades.find_one({"_id": level})

    def lowest(self) -> dict | None:
        """The grade a new member starts at, or None when no grades are defined."""
        first = self.grades.find().sort("_id", 1).limit(1)
        return next(iter(first), None)

    def distribution(self) -> dict[int | None, int]:
        """``{level: members}`` of each grade, counted over the ``GradeID`` index; ``None``:
        the members at no defined grade (a level since removed, or none defined then)."""
        counts = {
            grade["level"]: self.members.count_documents({"GradeID": grade["level"]})
            for grade in self.all()
        }
        others = self.members.estimated_document_count() - sum(counts.values())
        if others > 0:
            counts[None] = others
        return counts

    # -- members -------------------------------------------------------------------

    def member(self, member_id: int) -> dict:
        """The member's data (grade, referrer, permissions), created at the lowest grade."""
        found = self.members.find_one({"_id": member_id})
        if found is not None:
            return found
        lowest = self.lowest()
        now = self.clock.now_ms()
        # An upsert then a read, not find_one_and_update: the embedded engine scans the whole
        # collection for that, and answers None to the loser of two concurrent first looks.
        with contextlib.suppress(DuplicateKeyError):  # a concurrent first look inserted it
            self.members.update_one(
                {"_id": member_id},
                {
                    "$setOnInsert": {
                        "GradeID": lowest["level"] if lowest else None,
                        "GradeDate": now,
                        "Purview": [],
                        "CreateDate": now,
                    }
                },
                upsert=True,
            )
        return self.members.find_one({"_id": member_id})

    def member_if_known(self, member_id: int) -> dict | None:
        """The member's data as it stands, or None before the first look (nothing written)."""
        return self.members.find_one({"_id": member_id})

    def level(self, member_id: int) -> int | None:
        """The member's grade level (None when no grades are defined)."""
        return self.member(member_id).get("GradeID")

    def set_member(
        self, member_id: int, referrer: int | None = None, lock: bool | None = None
    ) -> dict:
        """Set the member's referrer (``FromID``) and/or the grade lock permission."""
        self.member(member_id)
        update = {}
        if referrer is not None:
            update["$set"] = {"FromID": referrer}
        if lock is True:
            update["$addToSet"] = {"Purview": LOCK}
        elif lock is False:
            update["$pull"] = {"Purview": LOCK}
        if update:
            self.members.update_one({"_id": member_id}, update)
        return self.members.find_one({"_id": member_id})

    def progress(self, member_id: int, now: int | None = None) -> dict | None:
        """The member's grade, the way to the next one (its ``up`` rule) and what keeps this
        one (its ``down`` rule), each with what the rule counts now; None without grades.

        ``need`` and ``have`` are fen for a spend rule, else orders or referred members.
        """
        now = now or self.clock.now_ms()
        member = self.member(member_id)
        grade = self.get(member["GradeID"]) if member.get("GradeID") is not None else None
        if grade is None:
            return None
        up = grade.get("up")
        return {
            "level": grade["level"],
            "name": grade["name"],
            "discount": grade["discount"],
            "locked": LOCK in member.get("Purview", []),
            "next": self._way(member_id, up, now) if up and up["to"] != grade["level"] else None,
            "hold": self._way(member_id, grade.get("down"), now),
        }

    def changes(self, member_id: int, limit: int = 50) -> list[dict]:
        """The member's grade changes (``Member_Log``), newest first."""
        cursor = self.member_log.find({"MemberID": member_id, "Type": "等级变更"})
        return list(cursor.sort("Date", -1).limit(limit))

    def _way(self, member_id, rule, now):
        if rule is None:
            return None
        target = self.get(rule["to"])
        return {
            "level": rule["to"],
            "name": target["name"] if target else str(rule["to"]),
            "by": rule["by"],
            "months": rule["months"],
            "need": rule["number"],
            "have": self.measure(member_id, rule, now),
        }

    # -- evaluation ----------------------------------------------------------------

    def evaluate(
        self, member_id: int, now: int | None = None, reason: str = "schedule"
    ) -> int | None:
        """Apply the up or down rule of the member's grade; return the new level or None."""
        now = now or self.clock.now_ms()
        member = self.member(member_id)
        if LOCK in member.get("Purview", []) or member.get("GradeID") is None:
            return None
        grade = self.get(member["GradeID"])
        if grade is None:
            return None
        target = self._target(member, grade, now)
        if target is None or target == grade["level"]:
            return None
        return self._change(member, grade, target, now, reason)

    def _target(self, member, grade, now):
        up, down = grade.get("up"), grade.get("down")
        if up and self.measure(member["_id"], up, now) >= up["number"]:
            return up["to"]
        if not down or member["GradeDate"] > months_before(now, down["months"]):
            return None  # no downgrade rule, or the grade is not held long enough yet
        if self.measure(member["_id"], down, now) < down["number"]:
            return down["to"]
        return None

    def measure(self, member_id: int, rule: dict, now: int) -> int:
        """Spend (fen), orders or referred members over the rule's months."""
        since = months_before(now, rule["months"])
        members = [member_id]
        if rule["includeSubordinates"]:
            members += [m["_id"] for m in self.members.find({"FromID": member_id}, {"_id": 1})]
        if rule["by"] == "referrals":
            return self.members.count_documents(
                {"FromID": {"$in": members}, "CreateDate": {"$gte": since, "$lte": now}}
            )
        if rule["by"] == "orders":
            return self.history.orders(members, since, now)
        return self.history.spend(members, since, now)

    def _change(self, member, grade, target, now, reason):
        new = self.get(target)
        changed = self.members.update_one(
            {"_id": member["_id"], "GradeID": grade["level"]},
            {"$set": {"GradeID": target, "GradeDate": now}},
        )
        if changed.modified_count == 0:
            return None  # another evaluation moved it first
        direction = "升级" if target > grade["level"] else "降级"
        text = f"会员等级由{grade['name']}{direction}为{new['name'] if new else target}"
        self.member_log.insert_one(
            {
                "MemberID": member["_id"],
                "Date": now,
                "Type": "等级变更",
                "Contents": text,
                "UserID": 0,
            }
        )
        self._tell_member(member["_id"], grade, new, target, text, reason)
        return target

    def _tell_member(self, member_id, old, new, target, text, reason):
        customer = self.customers.bound_to_member(member_id)
        openid = customer["wechatid"] if customer else f"member:{member_id}"
        data = {"memberID": member_id, "from": old["level"], "to": target, "reason": reason}
        self.logs.append(openid, "grade_change", data)
        if customer:
            self.feeds.append(openid, "grade_change", text, data)
            self.templates.add(
                openid,
                "grade_change",
                {"first": text, "grade": new["name"] if new else str(target)},
            )

    def evaluate_all(
        self, progress: Callable[[int], object] | None = None, now: int | None = None
    ) -> dict[str, int]:
        """Evaluate every member, a page at a time; return counts."""
        counts = {"members": 0, "upgraded": 0, "downgraded": 0}
        last = None
        while True:
            query = {"_id": {"$gt": last}} if last is not None else {}
            page = list(
                self.members.find(query, {"_id": 1, "GradeID": 1}).sort("_id", 1).limit(200)
            )
            if not page:
                return counts
            for member in page:
                before = member.get("GradeID")
                after = self.evaluate(member["_id"], now)
                if after is not None:
                    counts["upgraded" if after > before else "downgraded"] += 1
                counts["members"] += 1
            last = page[-1]["_id"]
            if progress:
                progress(counts["members"])
