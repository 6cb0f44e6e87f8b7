"""JSON for MongoDB documents: ObjectId as text, datetimes as epoch milliseconds."""

from datetime import datetime

from bson import ObjectId
from flask.json.provider import DefaultJSONProvider


def to_jsonable(value):
    """Convert what BSON has and JSON lacks."""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class MongoJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, taught ObjectId and datetime; keeps Chinese readable."""

    ensure_ascii = False

    @staticmethod
    def default(value):
        return to_jsonable(value)
