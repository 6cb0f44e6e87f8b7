"""``welab/customers``: one document per WeChat user, keyed by ``wechatid`` (the openid)."""

from wxmember.clock import now_ms, now_s

COLLECTION = "welab/customers"

# WeChat's user/info fields kept on the customer, with their names in seed 000.
PROFILE_FIELDS = {
    "nickname": "nickname",
    "headimgurl": "headimgurl",
    "city": "city",
    "province": "province",
    "country": "country",
    "language": "language",
    "unionid": "unionid",
    "remark": "remarks",
}
WECHAT_SEX = {1: "male", 2: "female"}
BINDING_UNIQUE = ("HaiLanMemberInfo.memberID", "HaiLanMemberInfo.memberCardNumber", "mobile")
# What "积分"/"余额" needs to know of a customer: is it a bound member, with which card.
BINDING_FIELDS = {"_id": 0, "isRegister": 1, "HaiLanMemberInfo": 1}


class CustomerStore:
    """Reads and single-document atomic writes of followers."""

    def __init__(self, database):
        self.collection = database[COLLECTION]

    def ensure_indexes(self):
        """Create the unique openid index and the ones staff queries use."""
        self.collection.create_index("wechatid", unique=True)
        # One card, one member id and one mobile per bound WeChat user, kept by MongoDB.
        for field in BINDING_UNIQUE:
            self.collection.create_index(
                field, unique=True, partialFilterExpression={"isRegister": True}
            )

    def follow(self, openid, scene=None):
        """Mark ``openid`` as following; return True when this is a new follower."""
        fields = {"isFollow": True, "followTime": now_s(), "lastModified": now_ms()}
        if scene:
            fields["scene"] = scene
        result = self.collection.update_one(
            {"wechatid": openid},
            {"$set": fields, "$setOnInsert": {"messageCount": 0}},
            upsert=True,
        )
        return result.upserted_id is not None

    def unfollow(self, openid):
        """Mark ``openid`` as no longer following and record when."""
        now = now_ms()
        self.collection.update_one(
            {"wechatid": openid},
            {
                "$set": {"isFollow": False, "unfollowTime": now, "lastModified": now},
                "$setOnInsert": {"messageCount": 0},
            },
            upsert=True,
        )

    def record_message(self, openid):
        """Count one message the user sent and remember when."""
        self.collection.update_one({"wechatid": openid}, _message_update(), upsert=True)

    def record_member_query(self, openid):
        """``record_message`` for a "积分"/"余额" text; return the binding, or None if unbound."""
        return self._update_and_read_binding(openid, _message_update())

    def ensure(self, openid, session=None):
        """Create the customer if this is the first we hear of it; change nothing else."""
        self.collection.update_one(
            {"wechatid": openid}, _ensure_update(), upsert=True, session=session
        )

    def ensure_member_query(self, openid):
        """``ensure`` for a "积分"/"余额" menu key; return the binding, or None if unbound."""
        return self._update_and_read_binding(openid, _ensure_update())

    def _update_and_read_binding(self, openid, update):
        """Apply ``update`` (upsert) once; the binding (``BINDING_FIELDS``) or None.

        Most who ask are not bound yet, and for them this is one update, made only
        where ``isRegister`` is not true. Otherwise the update lands by openid
        (creating a new customer), and a bound member's binding is read after it.
        Exactly one of the two updates matches, so a message is counted once.
        ``find_one_and_update`` would read it in the same operation, but the
        embedded engine scans the whole collection for every one that matches.
        """
        unbound = {"wechatid": openid, "isRegister": {"$ne": True}}
        if self.collection.update_one(unbound, update).matched_count:
            return None
        by_openid = self.collection.update_one({"wechatid": openid}, update, upsert=True)
        if by_openid.upserted_id is not None:
            return None
        return self.collection.find_one({"wechatid": openid, "isRegister": True}, BINDING_FIELDS)

    def update_location(self, openid, position):
        """Remember the follower's latest reported position."""
        now = now_ms()
        self.collection.update_one(
            {"wechatid": openid},
            {
                "$set": {"location": {**position, "time": now}, "lastModified": now},
                "$setOnInsert": {"isFollow": True, "messageCount": 0},
            },
            upsert=True,
        )

    def update_profile(self, openid, info):
        """Store the fields of a WeChat ``user/info`` answer on the customer."""
        fields = {ours: info[theirs] for theirs, ours in PROFILE_FIELDS.items() if info.get(theirs)}
        if info.get("sex") in WECHAT_SEX:
            fields["gender"] = WECHAT_SEX[info["sex"]]
        if not fields:
            return False
        fields["lastModified"] = now_ms()
        result = self.collection.update_one({"wechatid": openid}, {"$set": fields})
        return result.matched_count == 1

    def bind(self, openid, member_id, card_number, card_type, mobile, session=None):
        """Record the binding; False when ``openid`` is already bound.

        Raises DuplicateKeyError when the card, member or mobile is bound to another user.
        """
        now = now_ms()
        self.ensure(openid, session)
        binding = {
            "createTime": now,
            "memberID": member_id,
            "memberCardNumber": card_number,
            "type": card_type,
            "action": "bind",
        }
        result = self.collection.update_one(
            {"wechatid": openid, "isRegister": {"$ne": True}},
            {
                "$set": {
                    "HaiLanMemberInfo": binding,
                    "isRegister": True,
                    "registerTime": now,
                    "mobile": mobile,
                    "lastModified": now,
                }
            },
            session=session,
        )
        return result.modified_count == 1

    def unbind(self, openid, member_id=None, session=None):
        """End the binding; return the customer as it was, or None when it was not bound."""
        now = now_ms()
        query = {"wechatid": openid, "isRegister": True}
        if member_id is not None:
            query["HaiLanMemberInfo.memberID"] = member_id
        return self.collection.find_one_and_update(
            query,
            {
                "$set": {
                    "HaiLanMemberInfo.action": "unbind",
                    "isRegister": False,
                    "unRegisterTime": now,
                    "lastModified": now,
                }
            },
            session=session,
        )

    def bound_to(self, field, value):
        """The customer bound by ``field`` (``mobile``, ``HaiLanMemberInfo.memberID``…)."""
        return self.collection.find_one({field: value, "isRegister": True})

    def get(self, openid):
        """The customer document, or None."""
        return self.collection.find_one({"wechatid": openid})


def _message_update():
    now = now_ms()
    return {
        "$set": {"lastMessageTime": now, "lastModified": now},
        "$inc": {"messageCount": 1},
        "$setOnInsert": {"isFollow": True},
    }


def _ensure_update():
    return {"$setOnInsert": {"isFollow": True, "messageCount": 0, "lastModified": now_ms()}}
