"""Sends events the way WeChat does: documented XML, signed, encrypted in safe mode.

Used by ``wxmember simulate`` while developing, by the tests and by the benchmark.
"""

import secrets
import time
from xml.sax.saxutils import escape

from wxmember.wechat import message as wechat_message
from wxmember.wechat.signature import sign

ACCOUNT = "gh_wxmember_dev"


def _card(options):
    return {
        "CardId": options.get("card_id") or "pFS7Fjg8kV1IdDz01r4SQwMkuCKc",
        "UserCardCode": options.get("card_code") or "012345678901",
    }


def _beacon(minor, distance):
    return {
        "Uuid": "FDA50693-A4E2-4FB1-AFCF-C6EB07647825",
        "Major": "10001",
        "Minor": str(minor),
        "Distance": str(distance),
    }


EVENTS = {
    "subscribe": lambda o: {
        "Event": "subscribe",
        **({"EventKey": f"qrscene_{o['scene']}", "Ticket": "TICKET"} if o.get("scene") else {}),
    },
    "unsubscribe": lambda o: {"Event": "unsubscribe"},
    "scan": lambda o: {"Event": "SCAN", "EventKey": o.get("scene") or "1", "Ticket": "TICKET"},
    "click": lambda o: {"Event": "CLICK", "EventKey": o.get("key") or "积分"},
    "view": lambda o: {"Event": "VIEW", "EventKey": o.get("key") or "https://example.com/m/me"},
    "location": lambda o: {
        "Event": "LOCATION",
        "Latitude": "31.230416",
        "Longitude": "121.473701",
        "Precision": "65.000000",
    },
    "shake": lambda o: {
        "Event": "ShakearoundUserShake",
        "ChosenBeacon": _beacon(1002, "0.057"),
        "AroundBeacons": {"AroundBeacon": [_beacon(1003, "166.816"), _beacon(1004, "15.013")]},
    },
    "user_get_card": lambda o: {
        "Event": "user_get_card",
        **_card(o),
        "IsGiveByFriend": "0",
        "OuterStr": "wxmember",
    },
    "user_del_card": lambda o: {"Event": "user_del_card", **_card(o)},
    "user_consume_card": lambda o: {
        "Event": "user_consume_card",
        **_card(o),
        "ConsumeSource": "FROM_API",
    },
    "submit_membercard_user_info": lambda o: {"Event": "submit_membercard_user_info", **_card(o)},
    "update_member_card": lambda o: {
        "Event": "update_member_card",
        **_card(o),
        "ModifyBonus": "3",
        "ModifyBalance": "0",
    },
}
MESSAGES = {
    "text": lambda o: {"Content": o.get("content") or "积分"},
    "image": lambda o: {"PicUrl": "https://example.com/a.jpg", "MediaId": "media_id"},
}


def message_fields(name, openid, create_time=None, msg_id=None, **options):
    """The fields WeChat would send for event or message ``name`` (any other name: an event)."""
    header = {
        "ToUserName": ACCOUNT,
        "FromUserName": openid,
        "CreateTime": str(create_time or int(time.time())),
    }
    if name in MESSAGES:
        body = {"MsgType": name, **MESSAGES[name](options)}
        body["MsgId"] = str(msg_id or secrets.randbelow(10**18))
        return {**header, **body}
    event = EVENTS.get(name, lambda o: {"Event": name})(options)
    return {**header, "MsgType": "event", **event}


def to_xml(fields, tag="xml"):
    """WeChat-style XML: text in CDATA, numbers bare, nested dicts and repeated tags."""
    return f"<{tag}>{''.join(_node(k, v) for k, v in fields.items())}</{tag}>"


def _node(name, value):
    if isinstance(value, dict):
        return to_xml(value, name)
    if isinstance(value, list):
        return "".join(_node(name, item) for item in value)
    if str(value).isdigit():
        return f"<{name}>{value}</{name}>"
    text = str(value).replace("]]>", "]]]]><![CDATA[>")
    return f"<{name}><![CDATA[{text}]]></{name}>"


def signed_request(xml, token, crypto=None, timestamp=None, nonce=None):
    """``(query, body)`` of the POST WeChat would make, encrypted when ``crypto`` is given."""
    timestamp = str(timestamp or int(time.time()))
    nonce = nonce or str(secrets.randbelow(10**9))
    query = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    if crypto is None:
        return query, xml
    encrypted = crypto.encrypt(xml)
    query.update(encrypt_type="aes", msg_signature=sign(token, timestamp, nonce, encrypted))
    body = (
        f"<xml><ToUserName><![CDATA[{escape(ACCOUNT)}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    return query, body


def open_reply(text, token, crypto=None):
    """The fields of a reply (decrypted and signature-checked in safe mode); {} for success."""
    if not text or text == "success":
        return {}
    fields = wechat_message.element_to_dict(wechat_message.parse_xml(text))
    if crypto is None:
        return fields
    expected = sign(token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
    if expected != fields["MsgSignature"]:
        raise ValueError("reply signature does not match")
    return wechat_message.element_to_dict(
        wechat_message.parse_xml(crypto.decrypt(fields["Encrypt"]))
    )
