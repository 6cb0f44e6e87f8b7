"""Configured replies: the welcome message and keyword replies (Chinese, set by the brand),
and links to the member pages (``member.site_url``)."""


class ReplyRules:
    """Chooses the text answer to a follow, a text message or a menu click."""

    def __init__(self, welcome="", keywords=None, site_url=""):
        self.welcome = welcome or None
        self.keywords = dict(keywords or {})
        # Longest keyword first, so "积分规则" wins over "积分" inside the same text.
        self._by_length = sorted(self.keywords, key=len, reverse=True)
        self.site_url = (site_url or "").rstrip("/")

    @classmethod
    def from_config(cls, config):
        """Rules from the ``replies`` section (and the member pages' ``member.site_url``)."""
        replies = config["replies"]
        return cls(replies["welcome"], replies["keywords"], config["member"]["site_url"])

    def for_text(self, text):
        """The reply to ``text``: an exact keyword, else the longest keyword inside it."""
        text = (text or "").strip()
        if not text:
            return None
        if text in self.keywords:
            return self.keywords[text]
        for keyword in self._by_length:
            if keyword in text:
                return self.keywords[keyword]
        return None

    def link(self, path, text):
        """``<a href="…">text</a>`` to a member page, or None without ``member.site_url``."""
        if not self.site_url:
            return None
        return f'<a href="{self.site_url}{path}">{text}</a>'
