"""The JSON answer of a refused request: ``{"ok": false, "error": code, "message": text}``."""

from flask import Response, jsonify, request

from wxmember.refusals import Refused

JSON_APIS = ("/api/", "/m/api/")
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "json_required",
    500: "internal_error",
}


def json_error(status: int, code: str, message: str) -> Response:
    """A response with ``status`` and the error body every JSON API here uses."""
    response = jsonify({"ok": False, "error": code, "message": message})
    response.status_code = status
    return response


def refused_error(error: Refused) -> Response:
    """Every refusal, wherever it is raised: its ``code`` and ``message`` with its ``status``."""
    return json_error(error.status, error.code, error.message)


def http_error(error):
    """Werkzeug's HTTP errors (no route, wrong method, body too large…) as JSON in the JSON APIs.

    Elsewhere (pages, the webhook) the error is answered as Werkzeug words it.
    """
    if not request.path.startswith(JSON_APIS):
        return error
    response = json_error(error.code, HTTP_CODES.get(error.code, "http_error"), error.description)
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # e.g. 405's Allow
            response.headers[name] = value
    return response
