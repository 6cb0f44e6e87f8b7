"""Reading the times staff type: epoch milliseconds or ISO dates (Asia/Shanghai if naive)."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
EPOCH_MS = re.compile(r"[0-9]{1,16}")  # ASCII digits (isdigit() takes "١٢" and "²" too)
MAX_MS = 2**53  # beyond it MongoDB cannot compare it with a stored time (a 64-bit integer)


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
