"""Time in the units the seed documents use: milliseconds, and seconds for ``followTime``."""

import time
from datetime import datetime, timezone


def now_ms():
    """Milliseconds since the epoch."""
    return int(time.time() * 1000)


def now_s():
    """Whole seconds since the epoch."""
    return int(time.time())


def utcnow():
    """An aware UTC datetime, for TTL indexes."""
    return datetime.now(timezone.utc)
