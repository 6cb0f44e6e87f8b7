"""Anything WeChat sends that no other handler knows: logged, answered ``success``."""

from wxmember.events.outcome import Outcome


def on_unknown(message, customers):
    """Keep the follower and the whole message so nothing is lost."""
    customers.ensure(message.openid)
    return Outcome(message.event or message.msg_type, {"unhandled": True})
