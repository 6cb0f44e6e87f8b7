"""Reported location (上报地理位置), sent when a follower enters the conversation.

See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
"""

from wxmember.events.outcome import Outcome


def on_location(message, customers):
    """Keep the follower's latest position on the customer."""
    position = {
        "latitude": _number(message.fields, "Latitude"),
        "longitude": _number(message.fields, "Longitude"),
        "precision": _number(message.fields, "Precision"),
    }
    customers.update_location(message.openid, position)
    return Outcome("location", position)


def _number(fields, name):
    """The field as a float, or None when WeChat left it out or garbled it."""
    try:
        return float(fields.get(name, ""))
    except (TypeError, ValueError):
        return None
