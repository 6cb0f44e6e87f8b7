"""Shake (摇一摇) activities set up by staff, and their statistics.

An activity: ``{name, start, end (ms), points (cost per shake), chargeOnMiss,
cycle: day|week|month|all, limit (shakes per member per cycle, 0 = none),
prizes: [{promotion_code, lottery_chance (percent), stock, display_name?}]}``.
Prizes are coupon activities of the CRM already pulled into ``lavico/activity``;
their chances add up to at most 100, the rest is "no prize".
"""

import math
from collections.abc import Iterable
from datetime import datetime

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import SHAKE_ACTIVITIES
from wxmember.records.coupons import CouponActivities
from wxmember.refusals import InvalidRequest
from wxmember.timeparse import LAST_SHOWN_MS, SHANGHAI

CYCLES = ("day", "week", "month", "all")


class InvalidActivity(InvalidRequest):
    """An activity definition that cannot be used; the message names the field."""

    code = "invalid_activity"


def cycle_key(cycle: str, ms: int) -> str:
    """The cycle a moment falls in, counted in Asia/Shanghai time."""
    moment = datetime.fromtimestamp(ms / 1000, SHANGHAI)
    if cycle == "day":
        return moment.strftime("%Y%m%d")
    if cycle == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}W{week:02d}"
    if cycle == "month":
        return moment.strftime("%Y%m")
    return "all"


MAX_NUMBER = 2**53  # exact in every JSON reader, storable in MongoDB
FIELD_NAMES = {  # in the console's refusals
    "start": "开始时间",
    "end": "结束时间",
    "points": "每次消耗积分",
    "limit": "每周期次数上限",
    "lottery_chance": "中奖概率",
    "stock": "库存",
}


def _number(body, field, minimum=0, whole=True, maximum=MAX_NUMBER):
    value = body.get(field)
    kinds = int if whole else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kinds)
        or not math.isfinite(value)
        or not minimum <= value <= maximum
    ):
        raise InvalidActivity(
            f"{field} must be a {'whole ' if whole else ''}number from {minimum} to {maximum}",
            f"{FIELD_NAMES.get(field, field)}须为{minimum}到{maximum}之间的"
            f"{'整数' if whole else '数'}",
        )
    return value


class ShakeActivities:
    """Creates, pauses and describes shake activities."""

    def __init__(
        self, database: Database, coupons: CouponActivities, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.collection = database[SHAKE_ACTIVITIES]
        self.coupons, self.clock = coupons, clock

    def ensure_indexes(self) -> None:
        """The running activity is found by ``active``, ``start`` and ``end``."""
        self.collection.create_index([("active", 1), ("start", 1), ("end", 1)])

    def create(self, body: object) -> dict:
        """Check and store a new activity; return it with its ``aid``."""
        activity = self._check(body)
        activity["_id"] = activity["aid"] = str(ObjectId())
        self.collection.insert_one(activity)
        return activity

    def _check(self, body):
        if not isinstance(body, dict):
            raise InvalidActivity("the activity must be a JSON object", "活动内容格式不正确")
        name = str(body.get("name") or "").strip()
        if not name:
            raise InvalidActivity("name is required", "请填写活动名称")
        start = _number(body, "start", maximum=LAST_SHOWN_MS)
        end = _number(body, "end", maximum=LAST_SHOWN_MS)
        if end <= start:
            raise InvalidActivity("end must be after start", "结束时间须晚于开始时间")
        if body.get("cycle", "all") not in CYCLES:
            raise InvalidActivity(
                "cycle must be day, week, month or all", "次数周期须为每天、每周、每月或整个活动"
            )
        prizes = body.get("prizes")
        if not isinstance(prizes, list) or not prizes:
            raise InvalidActivity("prizes must be a non-empty list", "请至少设置一个奖品")
        prizes = [self._prize(prize) for prize in prizes]
        if sum(prize["lottery_chance"] for prize in prizes) > 100:
            raise InvalidActivity(
                "lottery_chance of the prizes adds up to more than 100",
                "各奖品的中奖概率加起来不能超过100%",
            )
        if len({p["promotion_code"] for p in prizes}) != len(prizes):
            raise InvalidActivity("a promotion_code appears twice", "同一张券不能设为两个奖品")
        return {
            "name": name,
            "start": start,
            "end": end,
            "points": _number(body, "points") if "points" in body else 0,
            "chargeOnMiss": body.get("chargeOnMiss", True) is not False,
            "cycle": body.get("cycle", "all"),
            "limit": _number(body, "limit") if "limit" in body else 0,
            "active": True,
            "prizes": prizes,
            "createTime": self.clock.now_ms(),
        }

    def _prize(self, prize):
        if not isinstance(prize, dict):
            raise InvalidActivity("each prize must be an object", "奖品格式不正确")
        code = str(prize.get("promotion_code") or "")
        coupon = self.coupons.active(code)
        if coupon is None:
            raise InvalidActivity(
                f"promotion_code {code!r} is not a pulled CRM coupon activity",
                f"券活动“{code}”不存在或已下线（须为已从CRM同步的券活动）",
            )
        chance = _number(prize, "lottery_chance", whole=False)
        if chance > 100:
            raise InvalidActivity(
                "lottery_chance is a percentage (0–100)", "中奖概率为百分比，须在0到100之间"
            )
        return {
            "promotion_code": code,
            "promotion_name": coupon["promotion_name"],
            "promotion_desc": coupon["promotion_desc"],
            "promotion_qty": coupon["promotion_qty"],
            "display_name": str(prize.get("display_name") or coupon["promotion_name"]),
            "lottery_chance": chance,
            "stock": _number(prize, "stock"),
            "won": 0,
        }

    def get(self, aid: str) -> dict | None:
        """The activity ``aid``, or None."""
        return self.collection.find_one({"_id": aid})

    def all(self) -> list[dict]:
        """Every activity, the latest starting first."""
        return list(self.collection.find().sort("start", -1))

    def overlapping(self, since: int, until: int) -> list[dict]:
        """The activities whose period meets ``[since, until)`` (ms), the latest start first."""
        query = {"start": {"$lt": until}, "end": {"$gt": since}}
        return list(self.collection.find(query).sort("start", -1))

    def running(self, now: int | None = None) -> dict | None:
        """The activity running now (the latest started), or None."""
        now = now or self.clock.now_ms()
        query = {"active": True, "start": {"$lte": now}, "end": {"$gt": now}}
        found = self.collection.find(query).sort("start", -1).limit(1)
        return next(iter(found), None)

    def set_active(self, aid: str, active: bool) -> dict | None:
        """Pause or resume; the activity as it is now, or None when unknown."""
        return self.collection.find_one_and_update(
            {"_id": aid}, {"$set": {"active": active}}, return_document=ReturnDocument.AFTER
        )

    def take_prize(self, aid: str, promotion_code: str) -> bool:
        """Take a unit of the prize's stock (one atomic update); False when none is left."""
        in_stock = {"promotion_code": promotion_code, "stock": {"$gt": 0}}
        taken = self.collection.update_one(
            {"_id": aid, "prizes": {"$elemMatch": in_stock}},
            {"$inc": {"prizes.$.stock": -1, "prizes.$.won": 1}},
        )
        return taken.modified_count == 1

    def give_back_prize(
        self, aid: str, promotion_code: str, session: ClientSession | None = None
    ) -> None:
        """Return a unit taken by ``take_prize`` (its coupon was not issued)."""
        self.collection.update_one(
            {"_id": aid, "prizes.promotion_code": promotion_code},
            {"$inc": {"prizes.$.stock": 1, "prizes.$.won": -1}},
            session=session,
        )

    def stats(self, aid: str, done_draws: Iterable[dict]) -> dict | None:
        """Shakes, members, wins per prize, stock left and per day (Asia/Shanghai), from
        the finished draws of the activity (``ShakeDraws.done``)."""
        activity = self.get(aid)
        if activity is None:
            return None
        shakes, members, wins, days = 0, set(), {}, {}
        for draw in done_draws:
            shakes += 1
            members.add(draw["openid"])
            day = datetime.fromtimestamp(draw["createDate"] / 1000, SHANGHAI).strftime("%Y-%m-%d")
            entry = days.setdefault(day, {"day": day, "shakes": 0, "wins": 0, "members": set()})
            entry["shakes"] += 1
            entry["members"].add(draw["openid"])
            if draw.get("prize"):
                wins[draw["prize"]] = wins.get(draw["prize"], 0) + 1
                entry["wins"] += 1
        return {
            "aid": aid,
            "name": activity["name"],
            "active": activity["active"],
            "shakes": shakes,
            "members": len(members),
            "wins": {
                p["promotion_code"]: wins.get(p["promotion_code"], 0) for p in activity["prizes"]
            },
            "stock": {p["promotion_code"]: p["stock"] for p in activity["prizes"]},
            "days": [{**d, "members": len(d["members"])} for _, d in sorted(days.items())],
        }
