"""One exception for every request the platform refuses.

A refusal carries ``code`` (for programs), a ``message`` (for people: Chinese on
the member pages, English for staff) and the HTTP ``status``; whatever raises it
has changed nothing. The web layer answers every one of them the same way
(``wxmember.web.jsonerrors.refused_error``); the core knows nothing of HTTP but
the number.
"""


class Refused(Exception):
    """Base of every refusal: binding, SMS codes, shakes, withdrawals, bad requests."""

    default_status = 409

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(code)
        self.code, self.message = code, message
        self.status = self.default_status if status is None else status
        self.zh = message  # the Chinese wording for the staff console (see InvalidRequest)

    def answer(self) -> dict:
        """``{"code", "message"}``: what a repeat of the request is told."""
        return {"code": self.code, "message": self.message}


class InvalidRequest(Refused):
    """A request with a value that cannot be used: 400 with the family's one ``code``.

    ``message`` is the staff API's (English); ``zh``, when given, says the same in
    Chinese for the staff console's forms, which make the same checks.
    """

    default_status = 400
    code = "invalid_request"

    def __init__(self, message: str, zh: str | None = None) -> None:
        super().__init__(type(self).code, message)
        self.zh = zh or message
