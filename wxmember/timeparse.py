"""Reading the times staff type: epoch milliseconds or ISO dates (Asia/Shanghai if naive);
Shanghai days for the daily counts of the staff console."""

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
EPOCH_MS = re.compile(r"[0-9]{1,16}")  # ASCII digits (isdigit() takes "١٢" and "²" too)
MAX_MS = 2**53  # beyond it MongoDB cannot compare it with a stored time (a 64-bit integer)
LAST_SHOWN_MS = 253_402_271_999_999  # 9999-12-31 23:59:59.999 in Shanghai: the last a page shows


def to_ms(text):
    """``1700000000000``, ``2026-11-01`` or ``2026-11-01T08:00`` → epoch ms; ValueError else."""
    text = text.strip()
    if EPOCH_MS.fullmatch(text) and int(text) < MAX_MS:
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither epoch milliseconds nor an ISO date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return int(moment.timestamp() * 1000)


# Asia/Shanghai has kept UTC+8 without summer time since 1991: a day there is a fixed
# slice of epoch milliseconds, so a database can group by it with integer arithmetic.
SHANGHAI_OFFSET_MS = 8 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000


def day_ms(day):
    """Midnight of the calendar ``day`` (a ``date``) in Shanghai, in epoch ms: how a
    birthday is stored."""
    return int(datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).timestamp() * 1000)


def day_expression(field):
    """An aggregation expression: the Shanghai day of the epoch-ms ``field``, as the
    shifted ms of its midnight (``day_label`` reads it)."""
    shifted = {"$add": [f"${field}", SHANGHAI_OFFSET_MS]}
    return {"$subtract": [shifted, {"$mod": [shifted, DAY_MS]}]}


def day_label(shifted_ms):
    """``2026-05-29`` for a value of ``day_expression``."""
    return datetime.fromtimestamp(int(shifted_ms) / 1000, timezone.utc).strftime("%Y-%m-%d")


def day_start(ms):
    """Epoch ms of the Shanghai midnight that begins the day of ``ms``."""
    return ms - (ms + SHANGHAI_OFFSET_MS) % DAY_MS


def days_between(since, until):
    """``["2026-05-29", …]``: every Shanghai day from ``since`` (a midnight) up to ``until``."""
    labels, day = [], since
    while day < until:
        labels.append(day_label(day + SHANGHAI_OFFSET_MS))
        day += DAY_MS
    return labels
