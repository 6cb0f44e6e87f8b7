"""Custom menu events: a click on a key button, a jump to a link.

See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
"""

from wxmember.outcome import Outcome


def on_click(message, customers, replies):
    """A menu button with a key; the key is answered like a keyword."""
    customers.ensure(message.openid)
    return Outcome("click", {"key": message.event_key}, replies.for_text(message.event_key))


def on_view(message, customers):
    """A menu button that opens a URL."""
    customers.ensure(message.openid)
    return Outcome("view", {"url": message.event_key})
