"""Schedules profile fetches in the background so the reply never waits for them."""


class ProfileRequests:
    """``request(openid)`` queues a ``user/info`` fetch; a no-op without an appsecret."""

    def __init__(self, fetcher, background):
        self.fetcher = fetcher
        self.background = background

    def request(self, openid):
        """Fetch ``openid``'s profile in the background; returns the future or None."""
        if self.fetcher is None:
            return None
        return self.background.submit(self.fetcher.refresh, openid)
