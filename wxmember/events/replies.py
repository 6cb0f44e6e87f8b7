"""Configured replies: the welcome message and keyword replies (Chinese, set by the brand)."""


class ReplyRules:
    """Chooses the text answer to a follow, a text message or a menu click."""

    def __init__(self, welcome="", keywords=None):
        self.welcome = welcome or None
        self.keywords = dict(keywords or {})
        # Longest keyword first, so "积分规则" wins over "积分" inside the same text.
        self._by_length = sorted(self.keywords, key=len, reverse=True)

    @classmethod
    def from_config(cls, config):
        """Rules from the ``replies`` section."""
        return cls(config["replies"]["welcome"], config["replies"]["keywords"])

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
