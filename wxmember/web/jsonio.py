"""JSON in and out: ObjectId as text, datetimes as epoch milliseconds; strict parsing.

Request bodies are parsed strictly: ``NaN``/``Infinity`` (not JSON, though Python
accepts them), nesting past ``MAX_DEPTH`` and strings with a lone surrogate
(``"\ud800"``: valid JSON syntax, but no Unicode text, and MongoDB cannot store
it) are refused as bad JSON, so every route answers 400 instead of storing a NaN,
running out of stack or failing to write.
"""

import json
from datetime import datetime

from bson import ObjectId
from flask import request
from flask.json.provider import DefaultJSONProvider


def object_body():
    """The request's JSON object, or ``{}`` when it has none: the domain call it goes to
    then names the field that is missing."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def to_jsonable(value):
    """Convert what BSON has and JSON lacks."""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


MAX_DEPTH = 32  # no request of ours nests deeper than a few levels


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def strict_loads(text):
    """``json.loads`` without NaN/Infinity, deep nesting or lone surrogates (ValueError)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if _depth_over(text, MAX_DEPTH):
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH}")
    value = json.loads(text, parse_constant=_refuse_constant)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate: UnicodeEncodeError
    return value


def _depth_over(text, limit):
    """True when brackets outside strings nest deeper than ``limit`` (a linear scan)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


class MongoJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, taught ObjectId and datetime; keeps Chinese readable."""

    ensure_ascii = False

    @staticmethod
    def default(value):
        return to_jsonable(value)

    def loads(self, s, **kwargs):
        return strict_loads(s)
