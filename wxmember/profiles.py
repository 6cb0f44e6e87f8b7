"""Schedules profile fetches on a small thread pool so the reply never waits for them."""

import logging
from concurrent.futures import ThreadPoolExecutor

from wxmember.logsafe import mask

log = logging.getLogger(__name__)


class ProfileRequests:
    """``request(openid)`` queues a ``user/info`` fetch; a no-op without an appsecret."""

    def __init__(self, fetcher=None, workers=4):
        self.fetcher = fetcher
        self.executor = ThreadPoolExecutor(workers, "profile") if fetcher else None

    def request(self, openid):
        """Fetch ``openid``'s profile in the background; returns the future or None."""
        if self.executor is None:
            return None
        return self.executor.submit(self._refresh, openid)

    def _refresh(self, openid):
        try:
            return self.fetcher.refresh(openid)
        except Exception:
            log.exception("profile refresh crashed for %s", mask(openid))
            return False

    def shutdown(self):
        """Let queued fetches finish and stop the pool."""
        if self.executor is not None:
            self.executor.shutdown(wait=True)
