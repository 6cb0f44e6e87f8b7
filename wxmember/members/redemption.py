"""积分兑换 (points redemption): items with a points price and a stock, exchanged for points.

An item (``member/redemption_items``) has a name, a price in points, a stock and, if it
is a coupon, the coupon it issues. A redemption takes the points (a ``Member_Integral``
row "积分兑换"), a unit of the item's stock and, for a coupon, issues it — in one
transaction, so it takes them all or none: never points without stock, never stock
beyond the item's, never a balance below zero. Each redemption has a key (the member's
request, a staff form id): a repeat returns the first redemption.
"""

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from wxmember import db
from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import REDEMPTION_ITEMS, REDEMPTIONS
from wxmember.members.coupons import CouponDefinitions, state
from wxmember.members.ledger import Entry, InsufficientBalance, Ledger
from wxmember.members.wallet import CouponWallet
from wxmember.refusals import InvalidRequest, Refused

MAX_POINTS = 1_000_000_000
MAX_STOCK = 2**53 - 1


class InvalidItem(InvalidRequest):
    """A redemption item that cannot be used; the message names the field."""

    code = "invalid_item"


class RedemptionRefused(Refused):
    """The redemption cannot be made; nothing was taken."""


def check_item(body: object) -> dict:
    """The clean item of the API's JSON; InvalidItem naming the field."""
    if not isinstance(body, dict):
        raise InvalidItem("兑换品必须是 JSON 对象")
    name = body.get("name")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 100:
        raise InvalidItem("name（名称）必须是 1 到 100 个字符")
    points, stock = body.get("points"), body.get("stock")
    if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= MAX_POINTS:
        raise InvalidItem(f"points（所需积分）必须是 1 到 {MAX_POINTS} 的整数")
    if isinstance(stock, bool) or not isinstance(stock, int) or not 0 < stock <= MAX_STOCK:
        raise InvalidItem("stock（库存）必须是正整数")
    coupon_id = body.get("couponId")
    if coupon_id is not None and (not isinstance(coupon_id, str) or not coupon_id):
        raise InvalidItem("couponId 必须是券编号")
    description = body.get("description") or ""
    if not isinstance(description, str) or len(description) > 500:
        raise InvalidItem("description 最多 500 个字符")
    return {
        "name": name.strip(),
        "points": points,
        "stock": stock,
        "couponId": coupon_id,
        "description": description,
    }


def item_view(item: dict) -> dict:
    """An item as the APIs show it, with what is left."""
    return {
        "itemId": item["_id"],
        "name": item["name"],
        "description": item["description"],
        "points": item["points"],
        "stock": item["stock"],
        "redeemed": item["redeemed"],
        "remaining": max(0, item["stock"] - item["redeemed"]),
        "couponId": item["couponId"],
        "active": item["active"],
    }


class Redemptions:
    """Staff's redemption items, and members' redemptions of them."""

    def __init__(
        self,
        database: Database,
        ledger: Ledger,
        definitions: CouponDefinitions,
        wallet: CouponWallet,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.database = database
        self.items = database[REDEMPTION_ITEMS]
        self.redemptions = database[REDEMPTIONS]
        self.ledger, self.definitions, self.wallet, self.clock = ledger, definitions, wallet, clock

    def ensure_indexes(self) -> None:
        """Items on offer; a member's redemptions newest first."""
        self.items.create_index([("active", 1), ("createTime", -1)])
        self.redemptions.create_index([("memberID", 1), ("createTime", -1)])

    def create(self, body: object) -> dict:
        """Put an item on offer; return it (``itemId`` is its ``_id``)."""
        item = check_item(body)
        self._check_coupon(item["couponId"])
        item.update(_id=str(ObjectId()), redeemed=0, active=True, createTime=self.clock.now_ms())
        self.items.insert_one(item)
        return item

    def change(self, item_id: str, body: object) -> dict | None:
        """Rename, reprice or describe an item (``{name?, points?, description?}``: what is
        not given stays); its stock and coupon stay. The item as it is now, or None when
        unknown. Redemptions already made keep the points they took."""
        item = self.items.find_one({"_id": item_id})
        if item is None:
            return None
        if not isinstance(body, dict):
            raise InvalidItem("兑换品必须是 JSON 对象")
        fixed = {"stock": item["stock"], "couponId": item["couponId"]}
        changed = check_item({**item, **body, **fixed})
        fields = {key: changed[key] for key in ("name", "points", "description")}
        return self.items.find_one_and_update(
            {"_id": item_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )

    def set_active(self, item_id: str, active: bool) -> dict | None:
        """Put the item on offer (上架) or take it off (下架); the item as it is now, or None
        when unknown. Redemptions already made keep their points and coupons."""
        return self.items.find_one_and_update(
            {"_id": item_id},
            {"$set": {"active": bool(active)}},
            return_document=ReturnDocument.AFTER,
        )

    def add_stock(self, item_id: str, count: object) -> dict | None:
        """Add ``count`` (a positive whole number) to the item's stock (补库存), atomically;
        the item as it is now, or None when unknown. InvalidItem for a bad count."""
        if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= MAX_STOCK:
            raise InvalidItem("add must be a positive whole number", "补充数量必须是正整数")
        found = self.items.find_one_and_update(
            {"_id": item_id, "stock": {"$lte": MAX_STOCK - count}},
            {"$inc": {"stock": count}},
            return_document=ReturnDocument.AFTER,
        )
        if found is None and self.items.find_one({"_id": item_id}, {"_id": 1}) is not None:
            raise InvalidItem("the stock would pass its limit", "补充后库存超出上限")
        return found

    def _check_coupon(self, coupon_id):
        """A coupon sold for points is one members cannot claim free (purpose redemption)."""
        if coupon_id is None:
            return
        coupon = self.definitions.get(coupon_id)
        if coupon is None:
            raise InvalidItem(f"没有券 {coupon_id}")
        if coupon["purpose"] != "redemption":
            raise InvalidItem(
                f"券“{coupon['name']}”会员可以直接领取或由活动发放，不能放进积分商城："
                "请选择发放方式为“积分兑换”的券"
            )

    def all(self, offered_only: bool = False) -> list[dict]:
        """Every item, the newest first; or those members can redeem now: on offer, with
        stock left and, for a coupon, the coupon issuing (started, not ended, not sold out)."""
        query = {"active": True} if offered_only else {}
        items = list(self.items.find(query).sort("createTime", -1))
        if not offered_only:
            return items
        issuing = self._issuing_coupons({i["couponId"] for i in items} - {None})
        return [
            i
            for i in items
            if i["redeemed"] < i["stock"] and (i["couponId"] is None or i["couponId"] in issuing)
        ]

    def _issuing_coupons(self, coupon_ids):
        now = self.clock.now_ms()
        found = self.definitions.of_ids(coupon_ids)
        return {c["_id"] for c in found if state(c, now) == "issuing"}

    def of_member(self, member_id: int, limit: int = 50) -> list[dict]:
        """The member's redemptions, newest first."""
        cursor = self.redemptions.find({"memberID": member_id}).sort("createTime", -1)
        return list(cursor.limit(limit))

    def redeem(self, member_id: int, item_id: str, key: str) -> dict:
        """Exchange the item's points for a unit of it (and its coupon), once per ``key``."""
        existing = self.redemptions.find_one({"_id": key})
        if existing is not None:
            return existing
        item = self.items.find_one({"_id": item_id})
        self._check(item, member_id)  # refused before anything is written
        now = self.clock.now_ms()

        def work(session):
            if (found := self.redemptions.find_one({"_id": key}, session=session)) is not None:
                return found  # a concurrent repeat made it
            taken = self.items.update_one(
                {"_id": item_id, "active": True, "redeemed": {"$lt": item["stock"]}},
                {"$inc": {"redeemed": 1}},
                session=session,
            )
            if not taken.modified_count:
                raise RedemptionRefused("sold_out", "礼品已兑完")
            entry = Entry(key, "积分兑换", item["name"], explain=f"兑换{item['name']}")
            try:
                self.ledger.post("points", member_id, -item["points"], entry, key, session)
            except InsufficientBalance:
                raise RedemptionRefused("insufficient_points", "积分不足") from None
            coupon_no = None
            if item["couponId"] is not None:
                issued = self.wallet.issue(
                    member_id, item["couponId"], f"{key}:coupon", "redemption", session
                )
                coupon_no = issued["_id"]
            record = {
                "_id": key,
                "itemId": item_id,
                "memberID": member_id,
                "name": item["name"],
                "points": item["points"],
                "couponNo": coupon_no,
                "createTime": now,
            }
            self.redemptions.insert_one(record, session=session)
            return record

        try:
            return db.all_or_nothing(self.database, work)
        except DuplicateKeyError:  # the same key, redeemed concurrently
            found = self.redemptions.find_one({"_id": key})
            if found is None:
                raise
            return found

    def _check(self, item, member_id):
        if item is None:
            raise RedemptionRefused("unknown_item", "没有这个兑换品", 404)
        if not item["active"]:
            raise RedemptionRefused("not_offered", "该礼品已下架")
        if item["redeemed"] >= item["stock"]:
            raise RedemptionRefused("sold_out", "礼品已兑完")
        if self.ledger.balance("points", member_id) < item["points"]:
            raise RedemptionRefused("insufficient_points", "积分不足")


def redemption_view(record: dict, balance: int | None = None) -> dict:
    """A redemption as the APIs answer it."""
    shown = {
        "redemptionId": record["_id"],
        "itemId": record["itemId"],
        "name": record["name"],
        "points": record["points"],
        "couponNo": record["couponNo"],
        "createTime": record["createTime"],
    }
    if balance is not None:
        shown["balance"] = balance
    return shown
