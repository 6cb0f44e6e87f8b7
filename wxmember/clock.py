"""Time in the units the seed documents use: milliseconds, and seconds for ``followTime``."""

import time
from datetime import datetime, timezone


def now_ms():
    """Milliseconds since the epoch."""
    return int(time.time() * 1000)


def now_s():
    """Whole seconds since the epoch."""
    return int(time.time())


def as_utc(moment):
    """A datetime read back from MongoDB (naive UTC in mongomock) as an aware UTC one."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def utcnow():
    """An aware UTC datetime, for TTL indexes."""
    return datetime.now(timezone.utc)
