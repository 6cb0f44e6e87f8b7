"""The JSON answer of a refused request: ``{"ok": false, "error": code, "message": text}``."""

from flask import jsonify


def json_error(status, code, message):
    """A response with ``status`` and the error body every JSON API here uses."""
    response = jsonify({"ok": False, "error": code, "message": message})
    response.status_code = status
    return response
