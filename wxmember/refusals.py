"""One exception for every request the platform refuses, and its JSON answer.

A refusal carries ``code`` (for programs), a Chinese ``message`` (for people) and
the HTTP ``status``; whatever raises it has changed nothing.
"""

from wxmember.web.jsonerrors import json_error


class Refused(Exception):
    """Base of the refusals of binding, SMS codes, shakes and withdrawals."""

    default_status = 409

    def __init__(self, code, message, status=None):
        super().__init__(code)
        self.code, self.message = code, message
        self.status = self.default_status if status is None else status

    def answer(self):
        """``{"code", "message"}``: what a repeat of the request is told."""
        return {"code": self.code, "message": self.message}


def refused_response(error):
    """``{"ok": false, "error": code, "message": …}`` with the refusal's status."""
    return json_error(error.status, error.code, error.message)
