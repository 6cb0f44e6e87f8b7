"""Time in the units the seed documents use: milliseconds, and seconds for ``followTime``.

The composition root makes one ``Clock`` and hands it to every store and service
that reads the time; tests hand them a ``FakeClock`` instead and set it.
"""

import time
from datetime import datetime, timedelta, timezone


class Clock:
    """The system clock."""

    def now_ms(self) -> int:
        """Milliseconds since the epoch."""
        return int(time.time() * 1000)

    def now_s(self) -> int:
        """Whole seconds since the epoch."""
        return int(time.time())

    def utcnow(self) -> datetime:
        """An aware UTC datetime, for TTL indexes."""
        return datetime.now(timezone.utc)


SYSTEM_CLOCK = Clock()  # the default of every constructor that takes a clock


class FakeClock(Clock):
    """A clock that stands still until it is set or advanced (tests).

    It starts at the system time of its creation, or at ``now_ms``.
    """

    def __init__(self, now_ms: int | None = None) -> None:
        self.ms = SYSTEM_CLOCK.now_ms() if now_ms is None else now_ms

    def set(self, now_ms: int) -> None:
        """From now on, the time is ``now_ms``."""
        self.ms = now_ms

    def advance(self, ms: int = 0, *, seconds: float = 0) -> None:
        """Move the time forward by ``ms`` milliseconds and ``seconds`` seconds."""
        self.ms += ms + int(seconds * 1000)

    def now_ms(self) -> int:
        return self.ms

    def now_s(self) -> int:
        return self.ms // 1000

    def utcnow(self) -> datetime:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=self.ms)
