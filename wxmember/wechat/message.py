"""Parsing WeChat's XML into a ``WeChatMessage`` that keeps every field WeChat sent.

Parsing is done with defusedxml: a document type or entity declaration is refused
before anything is expanded. The raw ``Event`` is kept (a ``subscribe`` with a
``qrscene_`` key stays a ``subscribe``), and nested nodes such as
``AroundBeacons`` become dicts and lists.
See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
"""

import re
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from wxmember.wechat.errors import InvalidMessage

REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")
DIGITS = re.compile(r"[0-9]{1,12}")  # ASCII only: str.isdigit() takes "①" and "²"
MAX_ELEMENTS = 500  # a shake event with many beacons has a few dozen
MAX_DEPTH = 8  # <xml><AroundBeacons><AroundBeacon><Uuid> is 4


@dataclass(frozen=True)
class WeChatMessage:
    """One delivery from WeChat: a user message or an event."""

    fields: dict

    @property
    def openid(self):
        return self.fields["FromUserName"]

    @property
    def account(self):
        return self.fields["ToUserName"]

    @property
    def create_time(self):
        return int(self.fields["CreateTime"])

    @property
    def msg_type(self):
        return self.fields["MsgType"].lower()

    @property
    def is_event(self):
        return self.msg_type == "event"

    @property
    def event(self):
        """The event name in lower case, or None for a user message."""
        return self.fields.get("Event", "").lower() if self.is_event else None

    @property
    def event_key(self):
        return self.fields.get("EventKey") or ""

    @property
    def kind(self):
        """The name handlers are registered under: ``event.<name>`` or the message type."""
        return f"event.{self.event}" if self.is_event else self.msg_type

    @property
    def dedup_key(self):
        """Identifies one delivery however often WeChat retries it."""
        f = self.fields
        if not self.is_event:
            return f"msg|{f.get('MsgId', '')}|{self.openid}|{self.create_time}"
        key = f"evt|{self.openid}|{self.create_time}|{self.event}|{self.event_key}"
        if f.get("UserCardCode"):
            key += f"|{f['UserCardCode']}"
        return key


def parse(xml):
    """Parse a message body; raise InvalidMessage when it is not a WeChat message."""
    root = parse_xml(xml)
    fields = element_to_dict(root)
    if not isinstance(fields, dict):
        raise InvalidMessage("empty <xml> element")
    missing = [name for name in REQUIRED if not fields.get(name)]
    if missing:
        raise InvalidMessage(f"missing {', '.join(missing)}")
    if not all(isinstance(fields[name], str) for name in REQUIRED):
        raise InvalidMessage("header fields must be plain text")
    if not DIGITS.fullmatch(fields["CreateTime"]):
        raise InvalidMessage("CreateTime is not a number")
    if fields["MsgType"].lower() == "event" and not isinstance(fields.get("Event"), str):
        raise InvalidMessage("event without Event")
    return WeChatMessage(fields)


def parse_xml(xml):
    """The root ``<xml>`` element of ``xml`` (bytes or str), safely."""
    if not xml:
        raise InvalidMessage("empty body")
    try:
        root = fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise InvalidMessage("document type and entity declarations are refused") from None
    except (ParseError, ValueError):
        raise InvalidMessage("body is not well-formed XML") from None
    if root.tag != "xml":
        raise InvalidMessage("root element is not <xml>")
    _check_shape(root)
    return root


def _check_shape(root):
    """Refuse documents no WeChat message comes close to: too many or too deep elements."""
    depths = {root: 1}
    for count, element in enumerate(root.iter(), start=1):
        if count > MAX_ELEMENTS:
            raise InvalidMessage(f"more than {MAX_ELEMENTS} elements")
        depth = depths.pop(element)
        if depth > MAX_DEPTH:
            raise InvalidMessage(f"elements nested deeper than {MAX_DEPTH}")
        depths.update((child, depth + 1) for child in element)


def element_to_dict(element):
    """Text for a leaf; a dict for children (a list where a tag repeats). Linear in size."""
    children = list(element)
    if not children:
        return (element.text or "").strip()
    result, repeated = {}, set()
    for child in children:
        value = element_to_dict(child)
        if child.tag not in result:
            result[child.tag] = value
        elif child.tag in repeated:
            result[child.tag].append(value)
        else:
            result[child.tag] = [result[child.tag], value]
            repeated.add(child.tag)
    return result
