"""The member card of a customer: seed 000's ``HaiLanMemberInfo`` and ``isRegister``.

A bound customer (``isRegister: true``) carries its store card in
``HaiLanMemberInfo``: ``memberID`` (the CRM's member), ``memberCardNumber``,
``type`` (1 白卡, 2 VIP卡, 3 白金VIP卡), ``action`` (``bind``, or ``unbind`` once
the binding ended: the card stays on the customer) and ``createTime``. Code reads
and writes a card through these names and functions, never by the field names.
"""

from dataclasses import dataclass

CARD = "HaiLanMemberInfo"
MEMBER_ID = f"{CARD}.memberID"
CARD_NUMBER = f"{CARD}.memberCardNumber"
CARD_TYPE = f"{CARD}.type"
ACTION = f"{CARD}.action"
BOUND = "isRegister"


@dataclass(frozen=True)
class MemberCard:
    """A card as it stands on a customer."""

    member_id: int | None
    card_number: str | None
    card_type: int | None


def is_bound(customer: dict | None) -> bool:
    """True for a customer bound to a store card now."""
    return bool(customer and customer.get(BOUND))


def card_of(customer: dict | None) -> MemberCard | None:
    """The card recorded on ``customer`` (still there after unbinding), or None."""
    info = (customer or {}).get(CARD)
    if not info:
        return None
    return _card(info)


def bound_card(customer: dict | None) -> MemberCard | None:
    """The card of a bound customer; None when the customer is not bound."""
    if not is_bound(customer):
        return None
    return _card(customer.get(CARD) or {})


def bound_member_id(customer: dict | None) -> int | None:
    """The member id of a bound customer; None when the customer is not bound."""
    card = bound_card(customer)
    return card.member_id if card else None


def new_card(member_id: int, card_number: str, card_type: int, now_ms: int) -> dict:
    """The ``HaiLanMemberInfo`` a binding writes."""
    return {
        "createTime": now_ms,
        "memberID": member_id,
        "memberCardNumber": card_number,
        "type": card_type,
        "action": "bind",
    }


def _card(info: dict) -> MemberCard:
    return MemberCard(info.get("memberID"), info.get("memberCardNumber"), info.get("type"))
