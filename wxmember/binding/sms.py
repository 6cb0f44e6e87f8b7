"""SMS verification codes: sent through the CRM, tied to the mobile and the openid.

A code expires, is used at most once (taken by one atomic delete), allows a few
wrong tries, and sending is limited per mobile and per openid. Only a keyed hash
of the code is stored.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from pymongo.database import Database

from wxmember.binding.ratelimit import RateLimiter
from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.crm import CRMClient, CRMError, outcome_unknown
from wxmember.db.collections import SMS_CODES
from wxmember.logsafe import mask
from wxmember.refusals import Refused

log = logging.getLogger(__name__)

CODE_TTL_S = 300
MAX_ATTEMPTS = 5
SEND_LIMITS = (  # (counter name, whose, limit, window in seconds)
    ("sms-mobile-minute", "mobile", 1, 60),
    ("sms-mobile-day", "mobile", 5, 86400),
    ("sms-openid-day", "openid", 10, 86400),
)
TEXT = "【会员中心】您的验证码是{code}，{minutes}分钟内有效。如非本人操作，请忽略。"


class SmsRefused(Refused):
    """A send or a check of a code was refused."""

    default_status = 400


class SmsMaybeSent(SmsRefused):
    """The CRM's answer was lost: the text may arrive, and its code is kept good."""

    def __init__(self) -> None:
        super().__init__(
            "sms_unknown", "短信可能已发送：收到验证码请直接使用，未收到请稍后重试", 503
        )


class SmsCodes:
    """Sends and checks verification codes."""

    def __init__(
        self,
        database: Database,
        crm: CRMClient,
        limiter: RateLimiter,
        secret: str,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.collection = database[SMS_CODES]
        self.crm = crm
        self.limiter = limiter
        self.secret = secret.encode()
        self.clock = clock

    def ensure_indexes(self) -> None:
        """Expired codes are deleted by MongoDB."""
        self.collection.create_index("expireAt", expireAfterSeconds=0)

    def _hash(self, mobile, code):
        return hmac.new(self.secret, f"{mobile}|{code}".encode(), hashlib.sha256).hexdigest()

    def send(self, openid: str, mobile: str, purpose: str = "bind") -> None:
        """Send a new code to ``mobile`` for ``openid``; SmsRefused when limited or failing.

        Only a text that went out uses up the send allowances.
        """
        counted = []
        try:
            for name, whose, limit, window in SEND_LIMITS:
                who = mobile if whose == "mobile" else openid
                counted.append(self.limiter.allow(name, who, limit, window))
                if counted[-1] is None:
                    raise SmsRefused("sms_rate_limited", "验证码发送过于频繁，请稍后再试", 429)
            self._send_code(openid, mobile, purpose)
        except SmsMaybeSent:
            raise  # it may have gone out: it counts
        except SmsRefused:
            for counter in filter(None, counted):
                self.limiter.give_back(counter)
            raise

    def _send_code(self, openid, mobile, purpose):
        code = f"{secrets.randbelow(10**6):06d}"
        key = f"{purpose}|{mobile}"
        now = self.clock.utcnow()
        self.collection.replace_one(
            {"_id": key},
            {
                "hash": self._hash(mobile, code),
                "openid": openid,
                "attempts": 0,
                "sentAt": now,
                "expireAt": now + timedelta(seconds=CODE_TTL_S),
            },
            upsert=True,
        )
        try:
            self.crm.send_sms(mobile, TEXT.format(code=code, minutes=CODE_TTL_S // 60))
        except CRMError as exc:
            if outcome_unknown(exc):  # the text may be on its way: its code must work
                log.warning("SMS to %s may have gone: %s", mask(mobile), exc)
                raise SmsMaybeSent() from None
            self.collection.delete_one({"_id": key})
            log.warning("SMS to %s not sent: %s", mask(mobile), exc)
            raise SmsRefused("sms_failed", "短信发送失败，请稍后再试", 503) from None
        log.info("SMS code sent to %s", mask(mobile))

    def take(self, openid: str, mobile: str, code: str, purpose: str = "bind") -> dict:
        """Use up the code if it is right; return the stored code so it can be given back."""
        key = f"{purpose}|{mobile}"
        taken = self.collection.find_one_and_delete(
            {
                "_id": key,
                "hash": self._hash(mobile, str(code)),
                "openid": openid,
                "attempts": {"$lt": MAX_ATTEMPTS},
                "expireAt": {"$gt": self.clock.utcnow()},
            }
        )
        if taken is not None:
            return taken
        self._count_wrong_try(key)

    def _count_wrong_try(self, key):
        stored = self.collection.find_one_and_update({"_id": key}, {"$inc": {"attempts": 1}})
        if stored is None or stored["expireAt"] <= self.clock.utcnow():
            raise SmsRefused("code_expired", "验证码已失效，请重新获取")
        if stored["attempts"] + 1 >= MAX_ATTEMPTS:
            raise SmsRefused("code_attempts", "验证码错误次数过多，请重新获取")
        raise SmsRefused("code_wrong", "验证码错误，请重新输入")

    def give_back(self, stored: dict) -> None:
        """Restore a code taken by ``take`` when the operation it was for did not happen."""
        self.collection.replace_one({"_id": stored["_id"]}, stored, upsert=True)
