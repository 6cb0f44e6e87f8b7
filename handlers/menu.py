"""Custom menu events: a click on a key button, a jump to a link.

See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
"""

from wxmember.events.outcome import Outcome
from wxmember.members.reply import (
    center_reply,
    coupons_reply,
    figures_reply,
    is_center_request,
    is_coupon_request,
    is_member_query,
)


def on_click(message, customers, replies, center):
    """A menu button with a key: "积分"/"余额" show a bound member's figures, "会员中心"
    (or ``MEMBER_CENTER``) links to the member center, other keys the configured keywords,
    and "领券" (or ``COUPONS``) without one the coupons."""
    key = message.event_key
    if is_center_request(key):
        customers.ensure(message.openid)
        reply = center_reply(customers.get(message.openid), replies)
        return Outcome("click", {"key": key, "to": "center"}, reply)
    if is_member_query(key, replies.keywords):
        binding = customers.ensure_member_query(message.openid)
        return Outcome("click", {"key": key}, figures_reply(binding, key, center, replies))
    customers.ensure(message.openid)
    keyword_reply = replies.for_text(key)
    if keyword_reply is None and is_coupon_request(key):
        reply = coupons_reply(customers.get(message.openid), replies)
        return Outcome("click", {"key": key, "to": "coupons"}, reply)
    return Outcome("click", {"key": key}, keyword_reply)


def on_view(message, customers):
    """A menu button that opens a URL."""
    customers.ensure(message.openid)
    return Outcome("view", {"url": message.event_key})
