"""A shake: the draw of a bound member in the running activity.

Every guard is one atomic MongoDB update, never a read followed by a write:
- the shake itself: its key is inserted as the ``_id`` of a draw, so a WeChat
  retry or a second tap gets the first shake's answer instead of a second draw;
- the limit: a per-member, per-cycle counter increased only below the limit;
- the points: a conditional ledger write that cannot go below zero;
- the stock: a decrement of the prize only while its stock is above zero.
When the CRM refuses the coupon (sold out, refused) or certainly never got the
request, the stock, the points and the limit are given back and the member is
told. When its answer is lost (a timeout, a 5xx), the coupon may exist: the same
idempotency key is asked again, then the draw is left open for the sweep
(``wxmember/shake/recovery.py``), which asks the CRM until it knows.
"""

import functools
import logging
import random
import secrets
from collections.abc import Iterable

from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from wxmember import db
from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.crm import CRMClient, CRMError, CRMRejected, once_more_if_lost, outcome_unknown
from wxmember.db.collections import SHAKE_COUNTERS, SHAKE_DRAWS
from wxmember.logsafe import mask
from wxmember.members.ledger import Entry, InsufficientBalance, Ledger
from wxmember.records.customers import CustomerStore
from wxmember.records.feeds import FeedStore
from wxmember.records.logs import LogStore
from wxmember.records.member_card import bound_member_id, card_of, is_bound
from wxmember.refusals import Refused
from wxmember.shake.activities import ShakeActivities, cycle_key
from wxmember.timeparse import day_expression, day_label

log = logging.getLogger(__name__)

MISS_TEXT = "很遗憾，这次没有摇中，再试一次吧！"
SOLD_OUT_TEXT = "本活动的奖品已全部发完，感谢参与"


class ShakeRefused(Refused):
    """The shake cannot be made; nothing was taken."""


class ShakePending(ShakeRefused):
    """The CRM did not say whether it issued the coupon: the sweep asks it again.

    The draw stays open with what it took; nothing is given back and no coupon is
    recorded until the CRM answers the same idempotency key.
    """

    default_status = 503

    def __init__(self) -> None:
        super().__init__("coupon_pending", "网络繁忙，奖品发放结果确认中，请稍后在卡券中查看")


class ShakeDraws:
    """Makes draws for members."""

    def __init__(
        self,
        database: Database,
        activities: ShakeActivities,
        customers: CustomerStore,
        ledger: Ledger,
        crm: CRMClient,
        feeds: FeedStore,
        logs: LogStore,
        rng: random.Random | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.database, self.activities, self.customers = database, activities, customers
        self.ledger, self.crm, self.feeds, self.logs = ledger, crm, feeds, logs
        self.rng = rng or secrets.SystemRandom()
        self.clock = clock

    def ensure_indexes(self) -> None:
        """An activity's draws by time, for its statistics; a member's, newest first."""
        self.database[SHAKE_DRAWS].create_index([("aid", 1), ("createDate", 1)])
        self.database[SHAKE_DRAWS].create_index([("openid", 1), ("createDate", -1)])

    def recent_of(self, openid: str, limit: int) -> list[dict]:
        """The newest ``limit`` draws of one member, whatever their state."""
        cursor = self.database[SHAKE_DRAWS].find({"openid": openid})
        return list(cursor.sort("createDate", -1).limit(limit))

    def shake(
        self,
        openid: str,
        aid: str | None = None,
        nonce: str | None = None,
        now: int | None = None,
    ) -> dict:
        """Shake once; ``{win, prize?, coupon_no?, points, message}`` or ShakeRefused."""
        now = now or self.clock.now_ms()
        customer = self.customers.get(openid) or {}
        if not is_bound(customer):
            raise ShakeRefused("not_bound", "请先绑定会员卡再参加摇一摇", 403)
        activity = self._activity(aid, now)
        key = f"{activity['_id']}|{openid}|{nonce if nonce is not None else now // 2000}"
        earlier = self._claim(key, activity, openid, now)
        if earlier is not None:
            return earlier
        try:
            result = self._draw(key, activity, customer, now)
        except ShakePending:
            raise  # the draw stays open for the sweep
        except ShakeRefused as refused:
            self.finish(key, "refused", refused.answer())  # unless the give-back closed it
            raise
        self.finish(key, "done", result, result.get("prize_code"))
        return result

    def _activity(self, aid, now):
        activity = self.activities.get(aid) if aid else self.activities.running(now)
        if activity is None:
            raise ShakeRefused("no_activity", "当前没有进行中的摇一摇活动", 404)
        if not activity["active"]:
            raise ShakeRefused("activity_paused", "活动已暂停，请稍后再来")
        if now < activity["start"]:
            raise ShakeRefused("activity_not_started", "活动尚未开始")
        if now >= activity["end"]:
            raise ShakeRefused("activity_ended", "活动已结束")
        if all(prize["stock"] <= 0 for prize in activity["prizes"]):
            raise ShakeRefused("sold_out", SOLD_OUT_TEXT)
        return activity

    def _claim(self, key, activity, openid, now):
        """None for the first attempt of ``key``; the first attempt's answer for a repeat."""
        try:
            self.database[SHAKE_DRAWS].insert_one(
                {
                    "_id": key,
                    "aid": activity["_id"],
                    "openid": openid,
                    "state": "drawing",
                    "createDate": now,
                }
            )
            return None
        except DuplicateKeyError:
            draw = self.database[SHAKE_DRAWS].find_one({"_id": key})
        if draw["state"] == "refused":
            raise ShakeRefused(draw["result"]["code"], draw["result"]["message"])
        if draw["state"] == "drawing" and draw.get("issuing"):
            raise ShakePending()
        if draw["state"] == "drawing":
            raise ShakeRefused("in_progress", "正在摇奖，请稍候", 409)
        return draw["result"]

    def finish(
        self,
        key: str,
        state: str,
        result: dict,
        prize: str | None = None,
        session: ClientSession | None = None,
    ) -> None:
        """Close the open draw ``key`` with its answer (a closed one is left as it is)."""
        self.database[SHAKE_DRAWS].update_one(
            {"_id": key, "state": "drawing"},
            {"$set": {"state": state, "result": result, "prize": prize}},
            session=session,
        )

    def open_before(self, created_before: int) -> Iterable[dict]:
        """The draws still open (``drawing``) that were made before ``created_before`` (ms)."""
        return self.database[SHAKE_DRAWS].find(
            {"state": "drawing", "createDate": {"$lt": created_before}}
        )

    def interrupt(self, key: str, result: dict) -> dict | None:
        """Close the open draw ``key`` as refused with ``result``; None when it was not open."""
        return self.database[SHAKE_DRAWS].find_one_and_update(
            {"_id": key, "state": "drawing"},
            {"$set": {"state": "refused", "result": result}},
        )

    def done(self, aid: str) -> Iterable[dict]:
        """The finished draws of activity ``aid`` (read as they are iterated), over the
        ``aid`` index: the state is matched in a stage of its own (see ``per_day``)."""
        pipeline = [{"$match": {"aid": aid}}, {"$match": {"state": "done"}}]
        return self.database[SHAKE_DRAWS].aggregate(pipeline)

    def per_day(self, aid: str, since: int, until: int) -> dict[str, dict[str, int]]:
        """``{"2026-05-29": {"shakes": n, "wins": n}}``: the finished draws of activity
        ``aid`` made in ``[since, until)`` (ms), per Shanghai day, over the ``aid,
        createDate`` index.

        The state is matched in a stage of its own: the embedded engine answers a filter
        with a field outside the index by scanning the whole collection.
        """
        pipeline = [
            {"$match": {"aid": aid, "createDate": {"$gte": since, "$lt": until}}},
            {"$match": {"state": "done"}},
            {
                "$group": {
                    "_id": {"day": day_expression("createDate"), "prize": "$prize"},
                    "n": {"$sum": 1},
                }
            },
        ]
        days = {}
        for row in self.database[SHAKE_DRAWS].aggregate(pipeline):
            day = days.setdefault(day_label(row["_id"]["day"]), {"shakes": 0, "wins": 0})
            day["shakes"] += row["n"]
            if row["_id"].get("prize"):
                day["wins"] += row["n"]
        return days

    def _draw(self, key, activity, customer, now):
        openid, member_id = customer["wechatid"], bound_member_id(customer)
        counter = self._count_shake(activity, openid, now)
        cost = activity["points"]
        self._take_points(key, member_id, cost, counter)
        prize = self._pick(activity)
        if prize is None:
            if not activity["chargeOnMiss"]:
                self._refund_points(key, member_id, cost)
                self._give_back_shake(counter)
            return self._miss(openid, activity, cost if activity["chargeOnMiss"] else 0)
        if not self.activities.take_prize(activity["_id"], prize["promotion_code"]):
            self._refund_points(key, member_id, cost)  # a prize won but gone costs nothing
            self._give_back_shake(counter)
            return self._sold_out(openid, activity, prize)
        issuing = self._note_issuing(key, member_id, cost, counter, prize)
        try:
            coupon_no = self.issue(key, openid, prize["promotion_code"], activity["name"])
        except CRMError as error:
            if outcome_unknown(error):
                log.warning("coupon for %s unknown: %s; the sweep asks again", mask(openid), error)
                raise ShakePending() from None
            refused = self.refusal_for(error, openid)
            self.give_back(key, activity["_id"], issuing, refused)
            raise refused from None
        return self.record_win(customer, activity, prize, coupon_no, cost, now)

    def _note_issuing(self, key, member_id, cost, counter, prize):
        """Write on the draw what it took before asking the CRM: enough to finish it later."""
        issuing = {
            "memberID": member_id,
            "cost": cost,
            "counter": counter,
            "promotion_code": prize["promotion_code"],
        }
        self.database[SHAKE_DRAWS].update_one({"_id": key}, {"$set": {"issuing": issuing}})
        return issuing

    def issue(self, key: str, openid: str, promotion_code: str, memo: str) -> str:
        """The CRM's coupon for draw ``key``; asked twice when the first answer is lost.

        The draw's idempotency key makes every ask after the first return the
        same coupon, never a second one.
        """
        ask = functools.partial(
            self.crm.fetch_coupon, openid, promotion_code, memo, idempotency_key=f"shake:{key}"
        )
        return once_more_if_lost(ask)

    def _count_shake(self, activity, openid, now):
        """Take one shake of the member's cycle allowance; the counter's id, or None."""
        if not activity["limit"]:
            return None
        counter = _counter_id(activity, openid, now)
        try:
            taken = self.database[SHAKE_COUNTERS].find_one_and_update(
                {"_id": counter, "shakes": {"$lt": activity["limit"]}},
                {"$inc": {"shakes": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            taken = None  # the counter exists and is at the limit
        if taken is None:
            raise ShakeRefused("limit_reached", "您本期的摇奖次数已用完")
        return counter

    def _take_points(self, key, member_id, cost, counter):
        if not cost:
            return
        try:
            self.ledger.post(
                "points",
                member_id,
                -cost,
                Entry(key, "摇一摇", "摇奖消耗积分"),
                f"shake:{key}:cost",
            )
        except InsufficientBalance:
            self._give_back_shake(counter)
            raise ShakeRefused("points_short", f"积分不足，每次摇奖需要{cost}积分") from None

    def _pick(self, activity):
        """A prize by ``lottery_chance`` (percent) with the random source, or None."""
        roll = self.rng.random() * 100
        for prize in activity["prizes"]:
            if roll < prize["lottery_chance"]:
                return prize
            roll -= prize["lottery_chance"]
        return None

    def give_back(self, key: str, aid: str, issuing: dict, refused: ShakeRefused) -> None:
        """Undo what draw ``key`` took — stock, points, allowance — and close it, all or nothing.

        Should this fail (the process dies), the draw stays open for the sweep.
        """

        def undo(session):
            self.activities.give_back_prize(aid, issuing["promotion_code"], session)
            self._refund_points(key, issuing["memberID"], issuing["cost"], session)
            self._give_back_shake(issuing["counter"], session)
            self.finish(key, "refused", refused.answer(), session=session)

        db.all_or_nothing(self.database, undo)

    def _refund_points(self, key, member_id, cost, session=None):
        if cost:
            entry = Entry(key, "摇一摇", "摇奖积分退回")
            self.ledger.post("points", member_id, cost, entry, f"shake:{key}:refund", session)

    def _give_back_shake(self, counter, session=None):
        if counter is not None:
            self.database[SHAKE_COUNTERS].update_one(
                {"_id": counter}, {"$inc": {"shakes": -1}}, session=session
            )

    @staticmethod
    def refusal_for(error: CRMError, openid: str) -> ShakeRefused:
        """What the member is told when the CRM certainly did not issue the coupon."""
        log.warning("coupon not issued to %s: %s", mask(openid), error)
        if isinstance(error, CRMRejected) and error.code == "sold_out":
            return ShakeRefused("sold_out", "此活动优惠券已发完，积分已退回")
        return ShakeRefused("coupon_failed", "优惠券发放失败，积分已退回，请稍后再试", 503)

    def remaining(self, activity: dict, openid: str, now: int | None = None) -> int | None:
        """The shakes left to the member in the activity's current cycle; None when unlimited."""
        if not activity["limit"]:
            return None
        counter = _counter_id(activity, openid, now or self.clock.now_ms())
        taken = (self.database[SHAKE_COUNTERS].find_one({"_id": counter}) or {}).get("shakes", 0)
        return max(0, activity["limit"] - taken)

    def _sold_out(self, openid, activity, prize):
        """The prize drawn has no stock left: said as such, and nothing taken for it."""
        name = prize["display_name"]
        data = {"aid": activity["_id"], "promotion_code": prize["promotion_code"]}
        self.logs.append(openid, "shake_sold_out", data)
        message = f"您摇中了{name}，可惜已经发完了。本次不扣积分、不计次数"
        return {"win": False, "soldOut": True, "prize": name, "points": 0, "message": message}

    def _miss(self, openid, activity, cost):
        self.logs.append(openid, "shake_miss", {"aid": activity["_id"], "points": cost})
        return {"win": False, "points": cost, "message": MISS_TEXT}

    def record_win(
        self, customer: dict, activity: dict, prize: dict, coupon_no: str, cost: int, now: int
    ) -> dict:
        """The won coupon on the customer (seed 000's ``shake``), in the logs and the feeds."""
        openid = customer["wechatid"]
        record = {
            "aid": activity["_id"],
            "uid": openid,
            "points": cost,
            "memberID": card_of(customer).member_id,  # the card's, even if unbound since
            "createDate": now,
            "memo": activity["name"],
            "promotion_code": prize["promotion_code"],
            "promotion_name": prize["promotion_name"],
            "promotion_desc": prize["promotion_desc"],
            "promotion_qty": str(prize["promotion_qty"]),
            "display_name": prize["display_name"],
            "lottery_chance": str(prize["lottery_chance"]),
            "coupon_no": coupon_no,
        }
        self.customers.add_shake_win(openid, record)
        self.logs.append(openid, "shake_win", record)
        name = customer.get("nickname") or "会员"
        self.feeds.append(
            openid,
            "shake_win",
            f"{name} 摇中了 {prize['display_name']}",
            {"aid": activity["_id"], "promotion_code": prize["promotion_code"]},
        )
        return {
            "win": True,
            "prize": prize["display_name"],
            "prize_code": prize["promotion_code"],
            "coupon_no": coupon_no,
            "points": cost,
            "message": f"恭喜您摇中了{prize['display_name']}！券号：{coupon_no}",
        }


def _counter_id(activity, openid, now):
    """The member's shake counter of the activity's cycle at ``now``."""
    return f"{activity['_id']}|{openid}|{cycle_key(activity['cycle'], now)}"
