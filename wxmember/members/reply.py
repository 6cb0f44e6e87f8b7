"""The answer to "积分" / "余额" in WeChat: points, balance and grade of a bound member."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wxmember.records.member_card import bound_card

if TYPE_CHECKING:  # for the annotation only: the handlers hand the member system in
    from wxmember.members.system import MemberSystem

QUERIES = {"积分", "余额", "我的积分", "我的余额", "查积分", "查余额", "会员"}


def is_member_query(text: str | None) -> bool:
    """True for the words a member sends (or a menu key) to see points and balance."""
    return (text or "").strip() in QUERIES


def member_status(customer: dict | None, members: MemberSystem) -> str | None:
    """The reply text for a bound member, or None for a follower without a card."""
    card = bound_card(customer)
    if card is None:
        return None
    summary = members.summary(card.member_id)
    grade = summary["grade"]["name"] if summary["grade"] else "普通会员"
    return (
        f"会员卡号：{card.card_number}\n"
        f"会员等级：{grade}\n"
        f"当前积分：{summary['points']}\n"
        f"账户余额：¥{summary['money']:.2f}"
    )
