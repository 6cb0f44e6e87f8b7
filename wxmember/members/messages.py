"""Messages (seed 002's ``Member_Message``): the brand's announcements and the member's own
notices (a grade change, a prize won), each with ``IsRead``, and the unread counts.

An announcement is written once, for everyone (``MemberID`` 0, ``Tag`` 1), by staff. A
member's messages are rows of their own: when the member looks, the announcements of the
last ``RECENT_DAYS`` and the notices of what happened (the grade changes of
``Member_Log``, the coupons won on the customer's ``shake`` records) that have no row
yet get one, unread, under a key of what it tells (inserted once however often the
member looks); reading a tab marks its rows read.
"""

from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import MEMBER_MESSAGES
from wxmember.members.grades import Grades
from wxmember.refusals import InvalidRequest, Refused
from wxmember.timeparse import DAY_MS

NOTICE, ANNOUNCEMENT = 0, 1  # Tag: 0 系统消息 (the member's own), 1 公告
TABS = {"notices": NOTICE, "announcements": ANNOUNCEMENT}
RECENT_DAYS = 90
PAGE = 50
DUPLICATE_KEY = 11000


class UnknownTab(Refused):
    """A tab of messages there is not."""

    def __init__(self) -> None:
        super().__init__("invalid_tab", "请求格式不正确", 400)


def _tag(tab):
    if tab not in TABS:
        raise UnknownTab()
    return TABS[tab]


class InvalidAnnouncement(InvalidRequest):
    """An announcement that cannot be published."""

    code = "invalid_announcement"


class MemberMessages:
    """Publishes announcements; keeps and reads each member's messages."""

    def __init__(self, database: Database, grades: Grades, clock: Clock = SYSTEM_CLOCK) -> None:
        self.collection = database[MEMBER_MESSAGES]
        self.grades, self.clock = grades, clock

    def ensure_indexes(self) -> None:
        """A member's messages by tab, newest first; announcements by date."""
        self.collection.create_index([("MemberID", 1), ("Tag", 1), ("Date", -1)])

    # -- staff ---------------------------------------------------------------------------

    def announce(self, contents: object, url: object = None, user_id: int = 0) -> dict:
        """Publish an announcement to every member."""
        if not isinstance(contents, str) or not 0 < len(contents.strip()) <= 200:
            raise InvalidAnnouncement(
                "contents must be 1 to 200 characters", "公告内容须为1到200个字。"
            )
        if url not in (None, "") and (
            not isinstance(url, str) or len(url) > 200 or not url.startswith(("/m/", "https://"))
        ):
            raise InvalidAnnouncement(
                "url must be a member page (/m/…) or an https:// address",
                "链接须为会员中心页面（/m/…）或 https:// 开头的地址，不超过200个字符。",
            )
        row = {
            "_id": f"announcement:{ObjectId()}",
            "MemberID": 0,
            "Date": self.clock.now_ms(),
            "IsRead": 0,
            "Tag": ANNOUNCEMENT,
            "Contents": contents.strip(),
            "URL": url or "",
            "UserID": user_id,
        }
        self.collection.insert_one(row)
        return row

    def announcements(self, limit: int = PAGE) -> list[dict]:
        """The published announcements, newest first."""
        cursor = self.collection.find({"MemberID": 0, "Tag": ANNOUNCEMENT}).sort("Date", -1)
        return list(cursor.limit(limit))

    # -- a member ----------------------------------------------------------------------

    def inbox(self, member_id: int | None, customer: dict, tab: str) -> dict:
        """One tab of the member's messages, newest first, and the unread counts.

        Without a card (``member_id`` None) there are only the announcements, none unread.
        """
        tag = _tag(tab)
        if member_id is None:
            rows = self.announcements() if tag == ANNOUNCEMENT else []
            items = [_shown(row, read=True) for row in rows]
            return {"tab": tab, "items": items, "unread": {"notices": 0, "announcements": 0}}
        self._deliver(member_id, customer)
        cursor = self.collection.find({"MemberID": member_id, "Tag": tag}).sort("Date", -1)
        items = [_shown(row) for row in cursor.limit(PAGE)]
        return {"tab": tab, "items": items, "unread": self._unread(member_id)}

    def unread(self, member_id: int, customer: dict) -> dict:
        """``{notices, announcements}``: how many of each the member has not read."""
        self._deliver(member_id, customer)
        return self._unread(member_id)

    def mark_read(self, member_id: int, tab: str) -> dict:
        """Every message of the tab read; the unread counts after it."""
        self.collection.update_many(
            {"MemberID": member_id, "Tag": _tag(tab), "IsRead": 0}, {"$set": {"IsRead": 1}}
        )
        return self._unread(member_id)

    def _unread(self, member_id):
        return {
            tab: self.collection.count_documents({"MemberID": member_id, "Tag": tag, "IsRead": 0})
            for tab, tag in TABS.items()
        }

    def _deliver(self, member_id, customer):
        """Give the member a row for each recent announcement and each notice it lacks."""
        rows = self._notices(member_id, customer) + self._recent_announcements(member_id)
        if not rows:
            return
        have = {
            row["_id"]
            for row in self.collection.find({"_id": {"$in": [r["_id"] for r in rows]}}, {"_id": 1})
        }
        missing = [row for row in rows if row["_id"] not in have]
        if not missing:
            return
        try:
            self.collection.insert_many(missing, ordered=False)
        except BulkWriteError as error:  # another look inserted some first: they are there
            if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise

    def _notices(self, member_id, customer):
        rows = [
            _row(member_id, f"grade:{change['_id']}", change["Date"], change["Contents"], "/m/")
            for change in self.grades.changes(member_id)
        ]
        for record in customer.get("shake") or []:
            if record.get("memberID") == member_id and record.get("coupon_no"):
                prize = record.get("display_name") or "优惠券"
                text = f"恭喜您摇中了{prize}，券号{record['coupon_no']}"
                key = f"prize:{record['coupon_no']}"
                rows.append(_row(member_id, key, record["createDate"], text, "/m/coupons"))
        return rows

    def _recent_announcements(self, member_id):
        since = self.clock.now_ms() - RECENT_DAYS * DAY_MS
        query = {"MemberID": 0, "Tag": ANNOUNCEMENT, "Date": {"$gte": since}}
        return [
            _row(member_id, row["_id"], row["Date"], row["Contents"], row["URL"], ANNOUNCEMENT)
            for row in self.collection.find(query).sort("Date", -1).limit(PAGE)
        ]


def _row(member_id, key, date, contents, url, tag=NOTICE):
    return {
        "_id": f"{member_id}:{key}",
        "MemberID": member_id,
        "Date": date,
        "IsRead": 0,
        "Tag": tag,
        "Contents": contents,
        "URL": url,
        "UserID": 0,
    }


def _shown(row, read=None):
    return {
        "id": row["_id"],
        "time": row["Date"],
        "contents": row["Contents"],
        "url": row["URL"] or None,
        "read": bool(row["IsRead"]) if read is None else read,
    }
