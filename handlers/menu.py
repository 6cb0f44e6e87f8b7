"""Custom menu events: a click on a key button, a jump to a link.

See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
"""

from wxmember.events.outcome import Outcome
from wxmember.members.reply import is_member_query, member_status


def on_click(message, customers, replies, members):
    """A menu button with a key; "积分"/"余额" show a bound member's figures, else keywords."""
    key = message.event_key
    reply = None
    if is_member_query(key):
        reply = member_status(customers.ensure_member_query(message.openid), members)
    else:
        customers.ensure(message.openid)
    return Outcome("click", {"key": key}, reply or replies.for_text(key))


def on_view(message, customers):
    """A menu button that opens a URL."""
    customers.ensure(message.openid)
    return Outcome("view", {"url": message.event_key})
