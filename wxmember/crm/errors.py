"""One exception tree for everything the store CRM does wrong."""


class CRMError(Exception):
    """Base. ``message`` is Chinese text fit to show a member."""

    message = "会员系统暂时无法处理，请稍后再试"

    def __init__(self, detail, message=None):
        super().__init__(detail)
        if message:
            self.message = message


class CRMUnavailable(CRMError):
    """The CRM did not answer in time, refused the connection or failed (5xx).

    ``unsent`` is True when the CRM certainly did not handle the request (the
    connection was refused or never made, or it answered 503/429): a change is
    then known not to have happened. Otherwise the outcome of a change is
    unknown — ask again with the same idempotency key.
    """

    message = "会员系统繁忙，请稍后再试"

    def __init__(self, detail, message=None, unsent=False):
        super().__init__(detail, message)
        self.unsent = unsent


def outcome_unknown(error):
    """True when a change the CRM was asked for may have happened despite ``error``."""
    if isinstance(error, CRMRejected):
        return False
    return not (isinstance(error, CRMUnavailable) and error.unsent)


class CRMProtocolError(CRMError):
    """The CRM answered something that is not the contract (not JSON, missing fields)."""

    message = "会员系统返回异常，请稍后再试"


class CRMRejected(CRMError):
    """The CRM refused the request (4xx) with a reason: ``code`` and Chinese ``message``."""

    def __init__(self, status, code, message):
        super().__init__(f"HTTP {status} {code}", message or "会员系统拒绝了此操作")
        self.status = status
        self.code = code or "rejected"
