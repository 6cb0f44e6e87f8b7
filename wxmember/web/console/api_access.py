"""Who may call the staff API: the shared machine token, or a staff account's own token.

``console.api_token`` stays for machines (POS bridges, scripts): every right, and
recorded as ``api-token``. A staff token (``wxmember staff token USERNAME``) acts as
its account with that account's role: viewers read, operators change members,
activities, jobs and decisions, admins also the rules. Every change that succeeds
is written to the audit log with its author.
"""

import hmac
import json
import logging

from flask import current_app, g, request

from wxmember.config import DEV_API_TOKEN
from wxmember.staff import MACHINE, Actor, role_allows
from wxmember.staff.accounts import ROLE_NAMES
from wxmember.web.jsonerrors import json_error
from wxmember.web.loopback import from_this_machine

log = logging.getLogger(__name__)
READS = ("GET", "HEAD", "OPTIONS")
READ_POSTS = ("/api/checkout/quote",)  # POSTs that change nothing: a read (viewer, no audit)
ADMIN_PATHS = ("/api/grades", "/api/point-rules", "/api/recharge-promotions")


def current_actor():
    """The author of this request's changes (the machine when no one signed in)."""
    return g.get("actor") or MACHINE


def required_role(method, path):
    """The least role that may make this request of the staff API."""
    if method in READS or path in READ_POSTS:
        return "viewer"
    if path.rstrip("/") in ADMIN_PATHS or path.startswith(tuple(f"{p}/" for p in ADMIN_PATHS)):
        return "admin"
    return "operator"


def authenticate():
    """``before_request`` of ``/api``: 401 without a valid token, 403 for a role too low."""
    services = current_app.extensions["wxmember"]
    expected = services.config["console"]["api_token"]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return json_error(401, "unauthorized", "a valid Bearer token is required")
    if expected and hmac.compare_digest(given.encode(), expected.encode()):
        if expected == DEV_API_TOKEN and not from_this_machine():
            return json_error(
                401, "unauthorized", "the development token works only on this machine"
            )
        g.actor = MACHINE
        return None
    username = services.staff.tokens.username_for(given)
    account = services.staff.accounts.active(username) if username else None
    if account is None:
        return json_error(401, "unauthorized", "a valid Bearer token is required")
    actor = Actor(account["_id"], account["userId"], account["role"], "api")
    needed = required_role(request.method, request.path)
    if not role_allows(actor.role, needed):
        return json_error(
            403,
            "forbidden",
            f"角色“{ROLE_NAMES[actor.role]}”无权执行此操作（需要{ROLE_NAMES[needed]}）",
        )
    g.actor = actor
    return None


def record_change(response):
    """``after_request`` of ``/api``: a change that succeeded goes to the audit log."""
    actor = g.get("actor")
    read = request.method in READS or request.path in READ_POSTS
    if actor is None or read or response.status_code >= 400:
        return response
    body = request.get_json(silent=True)
    details = {"path": request.path, "status": response.status_code}
    if body is not None:
        details["body"] = json.dumps(body, ensure_ascii=False, sort_keys=True)
    endpoint = (request.endpoint or "unknown").removeprefix("staff_api.")
    try:
        current_app.extensions["wxmember"].staff.audit.record(
            actor, f"api.{endpoint}", request.path, details
        )
    except Exception:  # the change is made; its answer must not turn into a failure
        log.exception("audit row of %s %s not written", request.method, request.path)
    return response
