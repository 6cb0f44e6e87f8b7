"""Messages a follower sends: text (answered by keyword) and media.

See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
"""

from wxmember.outcome import Outcome


def on_text(message, customers, replies):
    """Count the message and answer a configured keyword."""
    customers.record_message(message.openid)
    return Outcome("text", reply=replies.for_text(message.fields.get("Content")))


def on_media(message, customers):
    """Image, voice, video, location or link: counted and logged, not answered."""
    customers.record_message(message.openid)
    return Outcome(message.msg_type)
