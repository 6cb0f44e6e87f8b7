"""Messages a follower sends: text (answered by keyword) and media.

See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
"""

from wxmember.events.outcome import Outcome
from wxmember.members.reply import is_member_query, member_status


def on_text(message, customers, replies, members):
    """Count the message; a bound member asking "积分"/"余额" gets the figures, else keywords."""
    content = message.fields.get("Content")
    reply = None
    if is_member_query(content):
        reply = member_status(customers.record_member_query(message.openid), members)
    else:
        customers.record_message(message.openid)
    return Outcome("text", reply=reply or replies.for_text(content))


def on_media(message, customers):
    """Image, voice, video, location or link: counted and logged, not answered."""
    customers.record_message(message.openid)
    return Outcome(message.msg_type)
