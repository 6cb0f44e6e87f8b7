"""Coupons the platform gives by itself (seed 003 §三 生日活动; grade benefits): what the
``birthday_coupons`` and ``grade_coupons`` jobs do.

- Birthday: in a bound member's birthday month (Asia/Shanghai, from the CRM's birthday
  on the customer), each coupon of ``purpose`` birthday issuing then, once a year
  (key ``birthday:<couponId>:<memberID>:<year>``).
- Upgrade: a member upgraded to a grade (the ``grade_change`` records of
  ``lavico/user/logs``, from < to) gets each coupon of ``purpose`` upgrade for that
  grade issuing at the time of the upgrade, once per member (key
  ``upgrade:<couponId>:<memberID>``).

Every grant is an ordinary issue (``CouponWallet.issue``): within the stock, safe to
run twice, and recorded as a ``coupon_grant`` log record.
"""

from collections.abc import Callable
from datetime import datetime

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.members.coupons import CouponDefinitions, CouponRefused
from wxmember.members.wallet import CouponWallet
from wxmember.records.customers import CustomerStore
from wxmember.records.logs import LogStore
from wxmember.records.member_card import bound_member_id
from wxmember.timeparse import SHANGHAI


def _month_of(ms: int) -> tuple[int, int]:
    moment = datetime.fromtimestamp(ms / 1000, SHANGHAI)
    return moment.year, moment.month


class CouponGrants:
    """Issues birthday and grade-upgrade coupons."""

    def __init__(
        self,
        wallet: CouponWallet,
        definitions: CouponDefinitions,
        customers: CustomerStore,
        logs: LogStore,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.wallet, self.definitions = wallet, definitions
        self.customers, self.logs, self.clock = customers, logs, clock

    def birthdays(
        self, batch_size: int = 100, progress: Callable | None = None, now: int | None = None
    ) -> dict[str, int]:
        """Give this month's birthday members their birthday coupons, once this year."""
        now = self.clock.now_ms() if now is None else now
        counts = {"members": 0, "born_this_month": 0, "issued": 0, "sold_out": 0}
        coupons = self.definitions.issuing("birthday", now)
        if not coupons:
            return counts
        year, month = _month_of(now)
        for page in self.customers.bound_pages(batch_size):
            for customer in page:
                birthday = customer.get("birthday")
                counts["members"] += 1
                if not isinstance(birthday, int) or _month_of(birthday)[1] != month:
                    continue
                counts["born_this_month"] += 1
                member_id = bound_member_id(customer)
                for coupon in coupons:
                    key = f"birthday:{coupon['_id']}:{member_id}:{year}"
                    self._grant(customer["wechatid"], member_id, coupon, key, "birthday", counts)
            if progress is not None:
                progress(counts["members"])
        return counts

    def upgrades(self, since: int, now: int | None = None) -> tuple[dict[str, int], int | None]:
        """Give the coupons of their new grade to members upgraded since ``since`` (ms);
        the counts and the time of the newest upgrade seen (None: none)."""
        now = self.clock.now_ms() if now is None else now
        counts = {"upgrades": 0, "issued": 0, "sold_out": 0}
        by_grade = {}
        for coupon in self.definitions.issuing("upgrade", now):
            by_grade.setdefault(coupon["grade"], []).append(coupon)
        newest = None
        for record in self.logs.scan(action="grade_change", since=since):
            newest = max(newest or 0, record["createTime"])
            data = record["data"]
            if not data.get("to", 0) > data.get("from", 0):
                continue
            counts["upgrades"] += 1
            for coupon in by_grade.get(data["to"], []):
                if record["createTime"] < coupon["start"]:
                    continue  # upgraded before the coupon was on offer
                key = f"upgrade:{coupon['_id']}:{data['memberID']}"
                self._grant(record["wxid"], data["memberID"], coupon, key, "upgrade", counts)
        return counts, newest

    def _grant(self, wxid, member_id, coupon, key, reason, counts):
        if self.wallet.issued(key):
            return
        try:
            held = self.wallet.issue(member_id, coupon["_id"], key, reason)
        except CouponRefused as refused:  # sold out, or ended since the list was read
            outcome = "sold_out" if refused.code == "sold_out" else "refused"
            counts[outcome] = counts.get(outcome, 0) + 1
            return
        counts["issued"] += 1
        data = {"memberID": member_id, "couponId": coupon["_id"], "couponNo": held["_id"]}
        self.logs.append(wxid, "coupon_grant", {**data, "reason": reason})
