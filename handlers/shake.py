"""Shake-around (摇一摇周边): a follower shook near the brand's beacons.

See https://developers.weixin.qq.com/doc/offiaccount/Shake_Nearby/Shake_Nearby_event.html
"""

from wxmember.outcome import Outcome


def beacons(fields):
    """``AroundBeacons`` as a list, whether WeChat sent none, one or many."""
    around = fields.get("AroundBeacons") or {}
    found = around.get("AroundBeacon", []) if isinstance(around, dict) else []
    return found if isinstance(found, list) else [found]


def on_shake(message, customers):
    """Record the shake with the chosen beacon and every beacon around."""
    customers.ensure(message.openid)
    data = {
        "chosenBeacon": message.fields.get("ChosenBeacon") or {},
        "aroundBeacons": beacons(message.fields),
    }
    return Outcome("shake", data)
