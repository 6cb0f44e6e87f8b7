"""What a member asking in WeChat is answered: points, balance and grade of a bound member
("积分", "我想查积分", "余额多少"), the way to the member center ("会员中心") and to the
coupons ("领券", "我的优惠券").

A text asks for the figures when it is one of ``QUERIES``, or names points or the balance
with a word of asking ("查", "多少", "还有"…) or in a few characters; a question about the
rules ("积分规则", "怎么兑换") is not one, nor a text that holds a longer keyword the brand
configured (its reply is the more precise).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from wxmember.records.member_card import bound_card

if TYPE_CHECKING:  # for the annotation only: the handlers hand the member center in
    from wxmember.members.center import MemberCenter

QUERIES = {"积分", "余额", "我的积分", "我的余额", "查积分", "查余额", "会员"}
SUBJECTS = ("积分", "余额", "储值")
ASKING = ("查", "多少", "几", "剩", "还有", "我的", "看看", "看一下", "看下", "显示", "告诉")
ABOUT_RULES = ("规则", "怎么获得", "怎么得", "怎么赚", "如何获得", "兑换", "换什么", "过期", "清零")
CENTER = {"会员中心", "个人中心", "我的会员", "会员主页", "member_center"}
COUPONS = {"优惠券", "领券", "领优惠券", "领券中心", "我的优惠券", "我的券", "卡券", "coupons"}
SHORT = 6  # "积分呢", "查下余额": a subject and a few characters is a question about it
_NOISE = re.compile(r"[\s\u3000,.!?;:~，。！？；：、…“”\"'（）()【】\[\]]+")


def _plain(text: str | None) -> str:
    return _NOISE.sub("", text or "").lower()


def is_member_query(text: str | None, keywords: dict | None = None) -> bool:
    """True for a text (or menu key) asking for the member's points or balance."""
    plain = _plain(text)
    if plain in QUERIES:
        return True
    subject = next((word for word in SUBJECTS if word in plain), None)
    if subject is None or any(word in plain for word in ABOUT_RULES):
        return False
    if any(len(k) > len(subject) and subject in k and k in plain for k in keywords or {}):
        return False
    return len(plain) <= SHORT or any(word in plain for word in ASKING)


def is_center_request(text: str | None) -> bool:
    """True for a text or menu key that asks for the member center."""
    return _plain(text) in CENTER


def member_status(
    customer: dict | None, center: MemberCenter, link: str | None = None
) -> str | None:
    """The reply text for a bound member, or None for a follower without a card."""
    card = bound_card(customer)
    if card is None:
        return None
    summary = center.members.balances(card.member_id)
    grade = center.grade(card.member_id)
    lines = [f"会员卡号：{card.card_number}"]
    if grade:  # the brand may define no grades: then none is named, as in the member center
        lines.append(f"会员等级：{grade['name']}")
    lines += [f"当前积分：{summary['points']}", f"账户余额：¥{summary['money']:,.2f}"]
    if grade and grade["hint"]:
        lines.append(grade["hint"])
    if link:
        lines.append(f"查看明细：{link}")
    return "\n".join(lines)


def figures_reply(customer: dict | None, text: str | None, center: MemberCenter, replies) -> str:
    """The answer to a member query ``text`` (a message or a menu key) with the links of
    ``replies`` (events.Replies): the figures, or without a card the brand's own keyword
    for it, else the way to bind."""
    reply = member_status(customer, center, replies.link("/m/", "会员中心"))
    if reply is None:
        reply = replies.for_text(text) or unbound_answer(replies.link("/m/bind", "绑定会员卡"))
    return reply


def center_reply(customer: dict | None, replies) -> str:
    """The answer to "会员中心" for ``customer`` with the links of ``replies``."""
    return center_answer(replies.link("/m/", "进入会员中心"), bound_card(customer) is not None)


def unbound_answer(link: str | None) -> str:
    """What a follower without a card asking for the figures is told."""
    text = "您还没有绑定会员卡，绑定后即可查询积分、余额和优惠券。"
    return f"{text}\n{link}" if link else text


def is_coupon_request(text: str | None) -> bool:
    """True for a text or menu key that asks for coupons ("领券", "我的优惠券")."""
    return _plain(text) in COUPONS


def coupons_answer(claim_link: str | None, mine_link: str | None, bind_link: str | None) -> str:
    """The answer to "领券": where to claim and where the member's coupons are (a bound
    member: ``mine_link`` given), or binding first."""
    if claim_link is None:
        return "请点击菜单“会员中心”，在“优惠券”里领券和查看您的券。"
    if mine_link is None:
        return f"绑定会员卡后即可领取优惠券：\n{bind_link}"
    return f"可以领取的优惠券都在这里：\n{claim_link}\n您已有的券：{mine_link}"


def coupons_reply(customer: dict | None, replies) -> str:
    """The answer to "领券" for ``customer`` with the links of ``replies`` (events.Replies)."""
    bound = bound_card(customer) is not None
    return coupons_answer(
        replies.link("/m/coupons?status=claim", "领券中心"),
        replies.link("/m/coupons", "我的优惠券") if bound else None,
        replies.link("/m/bind", "绑定会员卡"),
    )


def center_answer(center_link: str | None, bound: bool) -> str:
    """The answer to "会员中心": the link to it (or to binding first)."""
    if center_link is None:
        return "请点击菜单“会员中心”，查看积分、余额、优惠券和消费记录。"
    if bound:
        return f"您的积分、余额、优惠券和消费记录都在这里：\n{center_link}"
    return f"绑定会员卡后，可在会员中心查看积分、余额和优惠券：\n{center_link}"
