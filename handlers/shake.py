"""Shake-around (摇一摇周边): a follower shook near the brand's beacons.

A bound member draws in the running activity and gets the result as the reply.
See https://developers.weixin.qq.com/doc/offiaccount/Shake_Nearby/Shake_Nearby_event.html
"""

from wxmember.events.outcome import Outcome
from wxmember.shake.draws import ShakeRefused


def beacons(fields):
    """``AroundBeacons`` as a list, whether WeChat sent none, one or many."""
    around = fields.get("AroundBeacons") or {}
    found = around.get("AroundBeacon", []) if isinstance(around, dict) else []
    return found if isinstance(found, list) else [found]


def on_shake(message, customers, shakes):
    """Record the beacons and draw once for this delivery (its CreateTime is the shake's key)."""
    customers.ensure(message.openid)
    data = {
        "chosenBeacon": message.fields.get("ChosenBeacon") or {},
        "aroundBeacons": beacons(message.fields),
    }
    try:
        result = shakes.shake(message.openid, nonce=f"event-{message.create_time}")
    except ShakeRefused as refused:
        data["refused"] = refused.code
        return Outcome("shake", data, refused.message)
    data["result"] = {k: result.get(k) for k in ("win", "prize_code", "coupon_no", "points")}
    return Outcome("shake", data, result["message"])
