"""One exception tree for everything WeChat sends us."""


class WeChatProtocolError(Exception):
    """Base: a request that is not a valid WeChat delivery."""


class InvalidSignature(WeChatProtocolError):
    """The signature does not match the token (answered 403)."""


class InvalidMessage(WeChatProtocolError):
    """The body is not a WeChat message (answered 400)."""
