"""The member's own view (seed 004's 个人中心): the card, the grade and the way to the next,
points and money, the four ledgers, purchases and coupons.

It writes nothing of its own: everything is read through the store that owns it (the
customer and its shake records, the ledgers, the transactions, the grades) and, for the
state of the coupons, asked of the CRM with a short wait. Money is in yuan here (the
stores keep fen): these are the figures a member reads.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from wxmember.binding.service import CARD_NAMES
from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.crm import CRMClient, CRMError
from wxmember.logsafe import mask
from wxmember.members.ledger import KINDS
from wxmember.members.messages import MemberMessages
from wxmember.members.prepaid import PrepaidLinks
from wxmember.members.profile import MemberProfiles
from wxmember.members.transactions import yuan
from wxmember.records.customers import CustomerStore
from wxmember.records.member_card import bound_card, card_of
from wxmember.refusals import Refused

if TYPE_CHECKING:  # for the annotation only: the composition root hands it in
    from wxmember.members.system import MemberSystem

log = logging.getLogger(__name__)

PAGE = 20  # rows of a history page
MEASURE_WORDS = {"spend": "消费", "orders": "消费", "referrals": "推荐"}
COUPON_STATES = {"01": "valid", "02": "valid", "03": "used", "04": "expired"}
NOT_BOUND = "绑定门店会员卡后，即可查看积分、余额、优惠券和消费记录"
WAS_BOUND = "您的会员卡已解除绑定，重新绑定后即可查看积分、余额和优惠券"


class NotBound(Refused):
    """The page or answer needs a bound card, and the member has none."""

    def __init__(self) -> None:
        super().__init__("not_bound", "请先绑定会员卡", 409)


def masked_card(number: str | None) -> str | None:
    """A card number as the member center shows it: ``W00****6780``."""
    if not number:
        return None
    if len(number) <= 6:
        return number[0] + "*" * (len(number) - 2) + number[-1]
    return number[:3] + "*" * max(4, len(number) - 7) + number[-4:]


class MemberCenter:
    """What a member sees of their own membership."""

    def __init__(
        self,
        customers: CustomerStore,
        members: MemberSystem,
        crm: CRMClient,
        clock: Clock = SYSTEM_CLOCK,
        profiles: MemberProfiles | None = None,
        messages: MemberMessages | None = None,
        prepaid: PrepaidLinks | None = None,
    ) -> None:
        self.customers, self.members, self.crm, self.clock = customers, members, crm, clock
        self.profiles = profiles  # the member's own details, address book, invoice titles
        self.messages = messages  # announcements and the member's own notices
        self.prepaid = prepaid  # seed 001: prepaid records by the verified mobile

    # -- the member center -----------------------------------------------------------

    def overview(self, openid: str) -> dict:
        """The card, grade and progress, points, money and coupons; or why there is none."""
        customer = self.customers.get(openid) or {}
        card = bound_card(customer)
        if card is None:
            before = card_of(customer)
            return {
                "bound": False,
                "reason": {
                    "code": "unbound" if before else "not_bound",
                    "message": WAS_BOUND if before else NOT_BOUND,
                },
            }
        summary = self.members.balances(card.member_id)
        coupons = self.coupons(customer)
        return {
            "bound": True,
            "reason": None,
            "card": {
                "type": card.card_type,
                "typeName": CARD_NAMES.get(card.card_type, "会员卡"),
                "maskedNumber": masked_card(card.card_number),
            },
            "name": customer.get("realname") or customer.get("nickname"),
            "points": summary["points"],
            "money": summary["money"],
            "frozen": summary["frozen"],
            "earnings": summary["earnings"],
            "grade": self.grade(card.member_id),
            "coupons": {
                "valid": sum(1 for c in coupons["items"] if c["status"] == "valid"),
                "total": len(coupons["items"]),
            },
            "messages": self.messages.unread(card.member_id, customer) if self.messages else None,
        }

    def grade(self, member_id: int) -> dict | None:
        """The member's grade, and in words what the next one (and keeping this one) takes."""
        progress = self.members.grades.progress(member_id, self.clock.now_ms())
        if progress is None:
            return None
        grade = {k: progress[k] for k in ("level", "name", "discount", "locked")}
        way, hold = progress["next"], progress["hold"]
        grade["next"] = _shown_way(way) if way else None
        grade["hold"] = _shown_way(hold) if hold else None
        if progress["locked"]:
            grade["hint"] = f"您的{progress['name']}等级已锁定"
        elif way is None:
            grade["hint"] = "您已是最高等级" if not hold else _hold_hint(grade["hold"])
        elif grade["next"]["missing"] <= 0:
            grade["hint"] = f"已达到{way['name']}的升级条件，等级将很快更新"
        else:
            grade["hint"] = _next_hint(grade["next"])
        return grade

    def inbox(self, openid: str, tab: str) -> dict:
        """One tab of the member's messages (announcements only without a card)."""
        customer = self.customers.get(openid) or {}
        card = bound_card(customer)
        return self.messages.inbox(card.member_id if card else None, customer, tab)

    def read(self, openid: str, tab: str) -> dict:
        """Mark a tab of the bound member's messages read; the unread counts."""
        _, member_id = self.bound_member(openid)
        return self.messages.mark_read(member_id, tab)

    def prepaid_of(self, openid: str) -> dict:
        """The bound member's prepaid records, linked by the mobile verified at binding."""
        customer, _ = self.bound_member(openid)
        return self.prepaid.of_customer(customer)

    def bound_member(self, openid: str) -> tuple[dict, int]:
        """The customer and its member id; NotBound when the member has no card now."""
        customer = self.customers.get(openid) or {}
        card = bound_card(customer)
        if card is None:
            raise NotBound()
        return customer, card.member_id

    # -- histories -------------------------------------------------------------------

    def ledger(self, openid: str, kind: str, before: int | None = None, limit: int = PAGE) -> dict:
        """One ledger's rows newest first (``next``: the ``before`` of the next page)."""
        _, member_id = self.bound_member(openid)
        rows = self.members.ledger.rows(kind, member_id, limit, before)
        scale = 1 if kind == "points" else 100
        field = KINDS[kind].amount_field
        items = [
            {
                "seq": row["seq"],
                "time": row["CreateDate"],
                "type": row["Type"],
                "subject": row["Subject"],
                "explain": row["Explain"],
                "amount": row[field] if scale == 1 else yuan(row[field]),
                "balance": row["Balance"] if scale == 1 else yuan(row["Balance"]),
            }
            for row in rows
        ]
        more = len(rows) == limit and rows[-1]["seq"] > 1
        balance = self.members.ledger.balance(kind, member_id)
        return {
            "kind": kind,
            "balance": balance if scale == 1 else yuan(balance),
            "items": items,
            "next": rows[-1]["seq"] if more else None,
        }

    def purchases(self, openid: str, before: str | None = None, limit: int = PAGE) -> dict:
        """Applied purchases, recharges and refunds newest first, with their points."""
        _, member_id = self.bound_member(openid)
        page = self.members.transactions.page(member_id, limit + 1, _cursor(before))
        items = [_shown_transaction(tx) for tx in page[:limit]]
        last = page[limit - 1] if len(page) > limit else None
        return {"items": items, "next": f"{last['createTime']}|{last['_id']}" if last else None}

    # -- coupons -----------------------------------------------------------------------

    def coupons(self, customer: dict | None) -> dict:
        """The member's coupons, newest first: the CRM's own list of them when it answers in
        time, and the coupons won by shaking (seed 000's ``shake`` records on the customer).

        ``checked`` is False when the CRM did not answer: a coupon is then shown as
        valid, its state to be confirmed at the store. The platform's own coupons
        (claimed in WeChat) join this list here.
        """
        customer = customer or {}
        card = bound_card(customer)
        crm_rows, checked = self._crm_coupons(card.member_id) if card else ([], False)
        won = {r.get("coupon_no"): r for r in customer.get("shake") or [] if r.get("coupon_no")}
        now = self.clock.now_ms()
        items = [_crm_coupon(row, won.pop(row.get("COUPON_NO"), None), now) for row in crm_rows]
        items += [_won_coupon(record) for record in won.values()]
        items += [_own_coupon(coupon) for coupon in self._own_coupons(card)]
        items.sort(key=lambda c: c["time"] or 0, reverse=True)
        return {"checked": checked, "items": items}

    def _own_coupons(self, card):
        """The brand's own coupons (seed 003) the member holds: claimed, issued, redeemed."""
        wallet = self.members.wallet
        return wallet.for_member(card.member_id) if card and wallet is not None else []

    def _crm_coupons(self, member_id):
        try:
            rows, _ = self.crm.coupons(member_id=member_id, per_page=100, quick=True)
        except CRMError as error:
            log.info("coupons of member %s not read from the CRM: %s", mask(member_id), error)
            return [], False
        return [row for row in rows if isinstance(row, dict)], True


def _shown_way(way):
    spend = way["by"] == "spend"
    need, have = way["need"], way["have"]
    missing = max(0, need - have)
    return {
        "level": way["level"],
        "name": way["name"],
        "by": way["by"],
        "months": way["months"],
        "need": yuan(need) if spend else need,
        "have": yuan(have) if spend else have,
        "missing": yuan(missing) if spend else missing,
        "percent": 100 if need <= 0 else min(100, int(have * 100 / need)),
    }


def _amount(way, value):
    if way["by"] == "spend":
        return f"¥{value:,.2f}"
    return f"{value}笔" if way["by"] == "orders" else f"{value}位会员"


def _period(way):
    return f"近{way['months']}个月" if way["months"] else ""


def _next_hint(way):
    verb = MEASURE_WORDS[way["by"]]
    return f"{_period(way)}再{verb}{_amount(way, way['missing'])}即可升级为{way['name']}"


def _hold_hint(hold):
    verb = MEASURE_WORDS[hold["by"]]
    return f"您已是最高等级，{_period(hold)}{verb}满{_amount(hold, hold['need'])}可保持等级"


def _cursor(before):
    """``createTime|formId`` of the last row of the previous page, or None."""
    if not before:
        return None
    time, _, form = before.partition("|")
    if not time.isascii() or not time.isdigit() or not form:
        raise InvalidCursor()
    return int(time), form


class InvalidCursor(Refused):
    """A ``before`` that no page of ours gave."""

    def __init__(self) -> None:
        super().__init__("invalid_query", "请求格式不正确", 400)


TRANSACTION_NAMES = {"purchase": "购物消费", "recharge": "充值", "refund": "退款"}


def _shown_transaction(tx):
    effects = tx.get("effects") or {}
    shown = {
        "formId": tx["formId"],
        "type": tx["type"],
        "typeName": TRANSACTION_NAMES[tx["type"]],
        "time": tx["createTime"],
        "amount": yuan(tx["amount"]),
        "pointsEarned": effects.get("pointsEarned", 0),
        "pointsSpent": effects.get("pointsSpent", 0),
        "balancePaid": yuan(effects.get("balancePaid", 0)),
    }
    if tx["type"] == "purchase":
        shown["refunded"] = yuan(tx.get("refunded", 0))
    elif tx["type"] == "recharge":
        shown["bonus"] = yuan(effects.get("bonus", 0))
    else:
        shown.update(
            refundOf=tx.get("refundOf"),
            pointsReturned=effects.get("pointsReturned", 0),
            pointsReversed=effects.get("pointsReversed", 0),
            balanceReturned=yuan(effects.get("balanceReturned", 0)),
        )
    return shown


def _face(kind, value, title):
    """What a coupon is worth, as printed on it: ``¥500`` or ``9折``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        return ""
    if kind == "折扣券" or (kind is None and "折" in (title or "") and value < 100):
        return f"{value / 10:g}折"
    return f"¥{value:g}"


def _crm_coupon(row, won, now):
    status = COUPON_STATES.get(row.get("COUPON_STATUS"), "valid")
    end = row.get("END_DATE")
    if status == "valid" and isinstance(end, int) and end < now:
        status = "expired"
    return {
        "couponNo": row.get("COUPON_NO"),
        "name": (won or {}).get("display_name") or row.get("PROMOTION_NAME") or "优惠券",
        "title": row.get("PROMOTION_NAME"),
        "desc": (won or {}).get("promotion_desc") or "",
        "kind": row.get("COUPON_TYPE"),
        "value": row.get("COUPON_QTY"),
        "face": _face(row.get("COUPON_TYPE"), row.get("COUPON_QTY"), row.get("PROMOTION_NAME")),
        "source": "shake" if won else "crm",
        "time": (won or {}).get("createDate") or row.get("BEGIN_DATE"),
        "begin": row.get("BEGIN_DATE"),
        "end": end,
        "usedAt": row.get("USED_DATE"),
        "status": status,
        "checked": True,
    }


def _won_coupon(record):
    """A coupon won by shaking that the CRM did not list (or did not answer about)."""
    return {
        "couponNo": record["coupon_no"],
        "name": record.get("display_name") or record.get("promotion_name") or "优惠券",
        "title": record.get("promotion_name"),
        "desc": record.get("promotion_desc") or "",
        "kind": None,
        "value": _number(record.get("promotion_qty")),
        "face": _face(None, _number(record.get("promotion_qty")), record.get("promotion_name")),
        "source": "shake",
        "time": record.get("createDate"),
        "begin": None,
        "end": None,
        "usedAt": None,
        "status": "valid",
        "checked": False,  # the CRM did not say (it did not answer, or did not list it)
    }


def _own_coupon(coupon):
    """One of the platform's own coupons (``wallet.member_view``) in the list's shape."""
    discount = coupon["kind"] == "discount"
    return {
        "couponNo": coupon["couponNo"],
        "name": coupon["name"],
        "title": coupon["kindName"],
        "desc": coupon["description"],
        "kind": coupon["kindName"],  # as the CRM's rows name theirs (满减券, 折扣券, 代金券)
        "value": coupon["value"],
        "face": f"{coupon['value'] * 10:g}折" if discount else f"¥{coupon['value']:g}",
        "source": coupon["source"],
        "time": coupon["issuedAt"],
        "begin": coupon["validFrom"],
        "end": coupon["validUntil"],
        "usedAt": coupon["usedAt"],
        "status": coupon["status"],
        "checked": True,  # the platform's own: its state is known here
    }


def _number(value):
    try:
        return float(value) if "." in str(value) else int(value)
    except (TypeError, ValueError):
        return None
