"""The coupons members hold (seed 003 §四: 子表 and 领券关系): claimed, issued, used, expired.

Each issued coupon is one document of ``member/member_coupons`` under its coupon
number, carrying the rules of its definition (they never change once it started),
so a checkout reads the member's coupons and nothing else. ``member/coupon_claims``
counts each member's claims of each coupon.

Claiming or issuing is one transaction (``db.all_or_nothing``): a unit of the
definition's stock (never beyond ``stock``), for a claim the member's counter
(never beyond ``perMember``), and the coupon; concurrent claims conflict on the
definition or the counter and are retried by the server's rules, so neither limit is
ever passed. Every issue carries an idempotency key (``issueKey``, unique): a staff
form id, a job's "birthday of this year", a member's request id, or the claim's
ordinal; a repeat returns the coupon issued the first time.
"""

import secrets
from collections.abc import Iterable, Iterator

from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from wxmember import db
from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import COUPON_CLAIMS, MEMBER_COUPONS
from wxmember.members.coupons import CouponDefinitions, CouponRefused, rules_view
from wxmember.timeparse import DAY_MS

STATUS_NAMES = {"valid": "可使用", "used": "已使用", "expired": "已过期"}
SOURCES = ("claim", "staff", "birthday", "upgrade", "redemption")
MAX_HELD = 500  # a member's coupons listed, newest first
RULES = ("name", "kind", "threshold", "value", "productIds", "stackGrade", "stackPoints")


def new_coupon_number() -> str:
    """A coupon number: CP and 14 random digits (the unique ``_id`` catches a repeat)."""
    return f"CP{secrets.randbelow(10**14):014d}"


def status_at(coupon: dict, now: int) -> str:
    """valid, used or expired, as it stands at ``now`` (before the expiry job has run too)."""
    if coupon["status"] == "valid" and coupon["validUntil"] is not None:
        return "valid" if coupon["validUntil"] > now else "expired"
    return coupon["status"]


def _claim_limit(coupon):
    limit = coupon["perMember"]
    message = "您已领取过这张券" if limit == 1 else f"这张券每人限领{limit}张，您已领完"
    return CouponRefused("claim_limit", message)


def member_view(coupon: dict, now: int) -> dict:
    """A held coupon as the member (and the member center) shows it: money in yuan."""
    current = status_at(coupon, now)
    return {
        "couponNo": coupon["_id"],
        "couponId": coupon["couponId"],
        **rules_view(coupon),
        "status": current,
        "statusName": STATUS_NAMES[current],
        "validFrom": coupon["validFrom"],
        "validUntil": coupon["validUntil"],
        "source": coupon["source"],
        "issuedAt": coupon["issuedAt"],
        "usedAt": coupon["usedAt"],
    }


def staff_view(coupon: dict, now: int) -> dict:
    """A held coupon as staff read it: whose, and which checkout used it."""
    return {**member_view(coupon, now), "memberID": coupon["memberID"], "usedBy": coupon["usedBy"]}


class CouponWallet:
    """Issues coupons to members, lists them, uses them in checkouts and gives them back."""

    def __init__(
        self,
        database: Database,
        definitions: CouponDefinitions,
        clock: Clock = SYSTEM_CLOCK,
        numbers=new_coupon_number,
    ) -> None:
        self.database = database
        self.coupons = database[MEMBER_COUPONS]
        self.claims = database[COUPON_CLAIMS]
        self.definitions, self.clock, self.numbers = definitions, clock, numbers

    def ensure_indexes(self) -> None:
        """One coupon per issue key; a member's and a definition's coupons newest first;
        what expires; what a checkout used."""
        self.coupons.create_index("issueKey", unique=True)
        self.coupons.create_index([("memberID", 1), ("issuedAt", -1)])
        self.coupons.create_index([("couponId", 1), ("issuedAt", -1)])
        self.coupons.create_index([("status", 1), ("validUntil", 1)])
        self.coupons.create_index("usedBy", sparse=True)
        self.coupons.create_index("issuedAt")  # the dashboard's coupons issued per day
        self.coupons.create_index("usedAt")  # and used per day

    # -- issuing -------------------------------------------------------------------

    def claim(self, member_id: int, coupon_id: str, request_id: str | None = None) -> dict:
        """A member claims a coupon (``purpose`` claim), within its stock and ``perMember``.

        ``request_id`` names the attempt: its repeat returns the first claim's coupon.
        """
        key = f"claim:{coupon_id}:{member_id}:r:{request_id}" if request_id else None
        return self._issue(member_id, coupon_id, key, "claim")

    def issue(
        self,
        member_id: int,
        coupon_id: str,
        key: str,
        source: str,
        session: ClientSession | None = None,
    ) -> dict:
        """Issue a coupon once per ``key`` (staff, a job, a redemption), within its stock.

        With ``session`` the issue is part of the caller's transaction.
        """
        return self._issue(member_id, coupon_id, key, source, session)

    def _issue(self, member_id, coupon_id, key, source, session=None):
        if key is not None:
            existing = self.coupons.find_one({"issueKey": key}, session=session)
            if existing is not None:
                return existing
        now = self.clock.now_ms()

        def work(session):
            if key is not None:  # a concurrent repeat may have issued it since
                existing = self.coupons.find_one({"issueKey": key}, session=session)
                if existing is not None:
                    return existing
            coupon = self.definitions.get(coupon_id, session)
            self._check_issuable(coupon, source, now)
            if source == "claim":  # refused before anything is written; the updates guard races
                self._check_claims_left(coupon, member_id, session)
            if not self.definitions.take_one(coupon, now, session):
                raise CouponRefused("sold_out", "券已领完")
            issue_key = key
            if source == "claim":
                ordinal = self._count_claim(coupon, member_id, now, session)
                issue_key = key or f"claim:{coupon_id}:{member_id}:{ordinal}"
            held = self._new(coupon, member_id, issue_key, source, now)
            self.coupons.insert_one(held, session=session)
            return held

        if session is not None:
            return work(session)
        for _ in range(3):  # a coupon number drawn twice: draw again
            try:
                return db.all_or_nothing(self.database, work)
            except DuplicateKeyError:
                if key is not None and (found := self.coupons.find_one({"issueKey": key})):
                    return found
        raise CouponRefused("busy", "系统繁忙，请稍后再试", 503)

    def _check_issuable(self, coupon, source, now):
        if coupon is None:
            raise CouponRefused("unknown_coupon", "没有这张券", 404)
        if source == "claim" and coupon["purpose"] != "claim":
            raise CouponRefused("not_claimable", "这张券不能领取")
        if coupon["start"] > now:
            raise CouponRefused("coupon_not_started", "券还未开始发放")
        if coupon["end"] is not None and coupon["end"] <= now:
            raise CouponRefused("coupon_ended", "券已停止发放")

    def _check_claims_left(self, coupon, member_id, session):
        counter = self.claims.find_one({"_id": f"{coupon['_id']}:{member_id}"}, session=session)
        if counter is not None and counter["claimed"] >= coupon["perMember"]:
            raise _claim_limit(coupon)

    def _count_claim(self, coupon, member_id, now, session):
        """One more claim by the member, below ``perMember``; the claim's ordinal."""
        claim_id = f"{coupon['_id']}:{member_id}"
        try:
            self.claims.update_one(
                {"_id": claim_id, "claimed": {"$lt": coupon["perMember"]}},
                {
                    "$inc": {"claimed": 1},
                    "$set": {"lastAt": now},
                    "$setOnInsert": {
                        "couponId": coupon["_id"],
                        "memberID": member_id,
                        "firstAt": now,
                    },
                },
                upsert=True,
                session=session,
            )
        except DuplicateKeyError:  # the counter exists and is at perMember
            raise _claim_limit(coupon) from None
        return self.claims.find_one({"_id": claim_id}, session=session)["claimed"]

    def _new(self, coupon, member_id, key, source, now):
        number = self.numbers()
        until = now + coupon["validDays"] * DAY_MS if coupon["validDays"] else coupon["end"]
        return {
            "_id": number,
            "couponId": coupon["_id"],
            "memberID": member_id,
            **{field: coupon[field] for field in RULES},
            "validFrom": now,
            "validUntil": until,
            "status": "valid",
            "source": source,
            "issueKey": key,
            "issuedAt": now,
            "usedBy": None,
            "usedAt": None,
        }

    # -- reading -------------------------------------------------------------------

    def of_member(self, member_id: int, limit: int = MAX_HELD) -> list[dict]:
        """The member's coupons, newest first (as stored: see ``status_at``)."""
        cursor = self.coupons.find({"memberID": member_id}).sort("issuedAt", -1)
        return list(cursor.limit(limit))

    def for_member(self, member_id: int) -> list[dict]:
        """The member's coupons as the member sees them (``member_view``), newest first: what
        ``/m/api/coupons`` answers and the member center shows."""
        now = self.clock.now_ms()
        return [member_view(coupon, now) for coupon in self.of_member(member_id)]

    def of_coupon(
        self,
        coupon_id: str,
        limit: int = 100,
        after: dict | None = None,
        status: str | None = None,
    ) -> list[dict]:
        """The coupons issued of one definition, newest first (seed 003's 子表); with
        ``after`` (one of them), those issued before it; with ``status``, those valid, used
        or expired as they stand now (``status_at``)."""
        conditions: list[dict] = [{"couponId": coupon_id}]
        if after is not None:
            at, number = after["issuedAt"], after["_id"]
            conditions.append(
                {"$or": [{"issuedAt": {"$lt": at}}, {"issuedAt": at, "_id": {"$lt": number}}]}
            )
        if status is not None:
            conditions.append(self._standing(status))
        cursor = self.coupons.find({"$and": conditions}).sort([("issuedAt", -1), ("_id", -1)])
        return list(cursor.limit(limit))

    def scan_coupon(self, coupon_id: str, batch: int = 1000) -> Iterator[list[dict]]:
        """Every coupon issued of one definition, newest first, a batch at a time (each
        batch read when asked: an export never holds them all)."""
        last = None
        while page := self.of_coupon(coupon_id, batch, last):
            yield page
            last = page[-1]

    def _standing(self, status):
        """The query of coupons ``status`` now: a valid one past its time is expired."""
        now = self.clock.now_ms()
        if status == "used":
            return {"status": "used"}
        in_time = {"$or": [{"validUntil": None}, {"validUntil": {"$gt": now}}]}
        if status == "valid":
            return {"$and": [{"status": "valid"}, in_time]}
        late = {"$and": [{"status": "valid"}, {"validUntil": {"$ne": None, "$lte": now}}]}
        return {"$or": [{"status": "expired"}, late]}

    def per_day(self, since: int, until: int) -> dict[str, dict[str, int]]:
        """``{"issued": {"2026-05-29": n}, "used": {…}}``: coupons issued and used per
        Shanghai day in ``[since, until)`` (ms), counted by the database."""
        return {
            measure: db.per_day(self.coupons, {field: {"$gte": since, "$lt": until}}, field)
            for measure, field in (("issued", "issuedAt"), ("used", "usedAt"))
        }

    def get(self, coupon_no: str) -> dict | None:
        """The coupon numbered ``coupon_no``, or None."""
        return self.coupons.find_one({"_id": coupon_no})

    def claimed(self, member_id: int, coupon_ids: Iterable[str]) -> dict[str, int]:
        """``{couponId: claims}`` of the member."""
        ids = [f"{coupon_id}:{member_id}" for coupon_id in coupon_ids]
        return {c["couponId"]: c["claimed"] for c in self.claims.find({"_id": {"$in": ids}})}

    def claimable(self, member_id: int, now: int | None = None) -> list[tuple[dict, int]]:
        """The coupons members may claim now that have stock left, each with the member's
        claims so far."""
        now = self.clock.now_ms() if now is None else now
        open_ = [
            c
            for c in self.definitions.issuing("claim", now)
            if c["stock"] is None or c["issued"] < c["stock"]
        ]
        claimed = self.claimed(member_id, [c["_id"] for c in open_])
        return [(c, claimed.get(c["_id"], 0)) for c in open_]

    def issued(self, key: str) -> bool:
        """True when a coupon was issued under ``key``."""
        return self.coupons.find_one({"issueKey": key}, {"_id": 1}) is not None

    def held(self, numbers: list[str]) -> dict[str, dict]:
        """``{couponNo: coupon}`` of those that exist (one read, for a checkout)."""
        return {c["_id"]: c for c in self.coupons.find({"_id": {"$in": numbers}})}

    # -- using, giving back, expiring --------------------------------------------------

    def use(
        self,
        numbers: list[str],
        member_id: int,
        form_id: str,
        now: int,
        session: ClientSession | None = None,
    ) -> None:
        """Mark the member's valid coupons used by checkout ``form_id`` (in its transaction);
        CouponRefused when one is no longer valid (another checkout took it first)."""
        for number in numbers:
            used = self.coupons.update_one(
                {
                    "_id": number,
                    "memberID": member_id,
                    "status": "valid",
                    "$or": [{"validUntil": None}, {"validUntil": {"$gt": now}}],
                },
                {"$set": {"status": "used", "usedBy": form_id, "usedAt": now}},
                session=session,
            )
            if not used.modified_count:
                raise CouponRefused("coupon_used", f"优惠券{number}已被使用或已失效")
        held = self.coupons.find({"_id": {"$in": numbers}}, {"couponId": 1}, session=session)
        self.definitions.count_used([c["couponId"] for c in held], 1, session)

    def give_back(self, form_id: str, by: str, session: ClientSession | None = None) -> list[str]:
        """Return the coupons checkout ``form_id`` used (a refund, a refused purchase):
        valid again, or expired if their time has passed. Safe to repeat."""
        now = self.clock.now_ms()

        def work(session):
            used = list(self.coupons.find({"usedBy": form_id, "status": "used"}, session=session))
            returned = []
            for coupon in used:
                status = status_at({**coupon, "status": "valid"}, now)  # valid, or expired
                changed = self.coupons.update_one(
                    {"_id": coupon["_id"], "status": "used", "usedBy": form_id},
                    {
                        "$set": {
                            "status": status,
                            "usedBy": None,
                            "usedAt": None,
                            "returnedBy": by,
                            "returnedAt": now,
                        }
                    },
                    session=session,
                )
                if changed.modified_count:
                    returned.append(coupon)
            self.definitions.count_used([c["couponId"] for c in returned], -1, session)
            return [c["_id"] for c in returned]

        if session is not None:
            return work(session)
        return db.all_or_nothing(self.database, work)

    def expire_due(self, now: int | None = None) -> int:
        """Mark expired every valid coupon whose time has passed; how many."""
        now = self.clock.now_ms() if now is None else now
        expired = self.coupons.update_many(
            {"status": "valid", "validUntil": {"$ne": None, "$lte": now}},
            {"$set": {"status": "expired", "expiredAt": now}},
        )
        return expired.modified_count
