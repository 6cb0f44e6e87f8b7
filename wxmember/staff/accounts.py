"""``wxmember/staff``: staff accounts, one per username, with a role and an Argon2 hash.

Roles, each with the rights of those before it: ``viewer`` (reads, mobiles and card
numbers masked), ``operator`` (points adjustments, grade locks, activities, jobs,
drift and withdrawal decisions), ``admin`` (staff accounts and rules).
"""

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import STAFF, STAFF_COUNTERS
from wxmember.refusals import Refused

ROLES = ("viewer", "operator", "admin")
ROLE_NAMES = {"viewer": "只读", "operator": "运营", "admin": "管理员"}
USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{1,31}")
MIN_PASSWORD, MAX_PASSWORD = 8, 256

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the username is unknown, so both answers take as long.
_DUMMY_HASH = _hasher.hash("wxmember: no such staff account")


class StaffRefused(Refused):
    """A staff account cannot be created, changed or found as asked."""

    default_status = 400


def role_allows(role, needed):
    """True when ``role`` has the rights of ``needed``."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def check_username(username):
    """The username, lower-cased; StaffRefused unless 2–32 of a-z 0-9 _ . -"""
    name = (username or "").strip().lower()
    if not USERNAME.fullmatch(name):
        raise StaffRefused("invalid_username", "用户名须为2–32位小写字母、数字或 _ . -")
    return name


def check_password(password):
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise StaffRefused("invalid_password", f"密码长度须为{MIN_PASSWORD}–{MAX_PASSWORD}个字符")
    return password


class StaffAccounts:
    """Creates, updates, disables and verifies staff accounts."""

    def __init__(self, database, clock: Clock = SYSTEM_CLOCK):
        self.clock = clock
        self.collection = database[STAFF]
        self.counters = database[STAFF_COUNTERS]

    def usernames_by_user_id(self):
        """``{userId: username}`` of every account (ledger rows name staff by userId)."""
        return {a["userId"]: a["_id"] for a in self.collection.find({}, {"userId": 1})}

    def ensure_indexes(self):
        """The username is the ``_id``; the numeric id (``CreateUser``) is unique too."""
        self.collection.create_index("userId", unique=True)

    def add(self, username, role, password):
        """Create or update (role, password, enabled again); return ``(account, created)``."""
        username = check_username(username)
        if role not in ROLES:
            raise StaffRefused("invalid_role", "角色须为 admin、operator 或 viewer")
        fields = {
            "role": role,
            "passwordHash": _hasher.hash(check_password(password)),
            "disabled": False,
            "updatedAt": self.clock.now_ms(),
        }
        updated = self.collection.find_one_and_update(
            {"_id": username}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )
        if updated is not None:
            return updated, False
        account = {
            "_id": username,
            "userId": self._next_id(),
            "createdAt": self.clock.now_ms(),
            **fields,
        }
        try:
            self.collection.insert_one(account)
        except DuplicateKeyError:  # created at the same moment by another process
            return self.add(username, role, password)
        return account, True

    def _next_id(self):
        counter = self.counters.find_one_and_update(
            {"_id": "userId"},
            {"$inc": {"value": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return counter["value"]

    def get(self, username):
        """The account (enabled or not), or None."""
        return self.collection.find_one({"_id": (username or "").strip().lower()})

    def active(self, username):
        """The account if it exists and is enabled, else None."""
        account = self.get(username)
        return account if account and not account.get("disabled") else None

    def all(self):
        """Every account, by username."""
        return list(self.collection.find({}, {"passwordHash": 0}).sort("_id", 1))

    def disable(self, username):
        """Disable the account; StaffRefused (404) when there is none."""
        account = self.collection.find_one_and_update(
            {"_id": (username or "").strip().lower()},
            {"$set": {"disabled": True, "updatedAt": self.clock.now_ms()}},
            return_document=ReturnDocument.AFTER,
        )
        if account is None:
            raise StaffRefused("unknown_staff", f"没有用户 {username}", 404)
        return account

    def verify(self, username, password):
        """The enabled account whose password this is, else None (same work either way)."""
        account = self.active(username) if isinstance(username, str) else None
        stored = account["passwordHash"] if account else _DUMMY_HASH
        try:
            _hasher.verify(stored, password if isinstance(password, str) else "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if account is None:
            return None
        if _hasher.check_needs_rehash(stored):  # parameters raised since it was hashed
            new_hash = _hasher.hash(password)
            self.collection.update_one(
                {"_id": account["_id"], "passwordHash": stored},
                {"$set": {"passwordHash": new_hash}},
            )
        self.collection.update_one(
            {"_id": account["_id"]}, {"$set": {"lastLoginAt": self.clock.now_ms()}}
        )
        return account
