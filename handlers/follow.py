"""Follow, unfollow and QR-code scans.

See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
"""

from wxmember.events.outcome import Outcome

SCENE_PREFIX = "qrscene_"
NEW_FOLLOWER_FEED = "新粉丝关注了公众号"


def scene_of(message):
    """The QR scene a follow came from (``qrscene_123`` → ``123``), or None."""
    key = message.event_key
    return key[len(SCENE_PREFIX) :] if key.startswith(SCENE_PREFIX) else None


def on_subscribe(message, customers, feeds, replies, profiles):
    """A user follows (关注), possibly by scanning a QR code with a scene."""
    scene = scene_of(message)
    is_new = customers.follow(message.openid, scene)
    if is_new:
        feeds.append(message.openid, "follow", NEW_FOLLOWER_FEED, {"scene": scene})
    profiles.request(message.openid)
    return Outcome("subscribe", {"scene": scene, "newFollower": is_new}, replies.welcome)


def on_unsubscribe(message, customers):
    """A user unfollows (取消关注): ``isFollow`` false and when."""
    customers.unfollow(message.openid)
    return Outcome("unsubscribe")


def on_scan(message, customers):
    """A follower scans a parameterised QR code; the scene is in ``EventKey``."""
    customers.ensure(message.openid)
    return Outcome("scan", {"scene": message.event_key})
