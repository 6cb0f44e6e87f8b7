"""Messages a follower sends: text (answered by keyword) and media.

See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
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


def on_text(message, customers, replies, center):
    """Count the message; a member asking for points or balance ("我想查积分") gets the
    figures, "会员中心" the way there, anything else the configured keywords, and "领券"
    without one the way to the coupons."""
    content = message.fields.get("Content")
    if is_member_query(content, replies.keywords):
        binding = customers.record_member_query(message.openid)
        return Outcome("text", reply=figures_reply(binding, content, center, replies))
    customers.record_message(message.openid)
    if is_center_request(content):
        return Outcome("text", reply=center_reply(customers.get(message.openid), replies))
    keyword_reply = replies.for_text(content)  # the brand's own words come first
    if keyword_reply is None and is_coupon_request(content):
        return Outcome("text", reply=coupons_reply(customers.get(message.openid), replies))
    return Outcome("text", reply=keyword_reply)


def on_media(message, customers):
    """Image, voice, video, location or link: counted and logged, not answered."""
    customers.record_message(message.openid)
    return Outcome(message.msg_type)
