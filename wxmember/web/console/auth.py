"""Console sign-in and sign-out, sessions, CSRF and roles.

- A session lives in MongoDB (``wxmember.staff.sessions``); the browser holds its
  id in the ``wxmember_console`` cookie (HttpOnly, SameSite=Lax, path ``/console``,
  Secure outside the embedded default), apart from the member pages' session.
- Every POST of the console carries the session's CSRF token (form field
  ``csrf_token`` or header ``X-CSRF-Token``); the sign-in form carries one tied to
  a cookie of its own. ``/wechat`` and ``/api`` are not the console's: no CSRF there.
- Failed sign-ins are limited per username and per address (``RateLimiter``).
- ``requires(role)`` guards each view; a role too low gets a Chinese 403 page and
  nothing is changed.
"""

import functools
import hashlib
import hmac
import logging
import re
import secrets

from flask import (
    Blueprint,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from wxmember.binding.ratelimit import RateLimiter
from wxmember.config import is_embedded
from wxmember.logsafe import mask
from wxmember.staff import Actor, role_allows
from wxmember.staff.accounts import ROLE_NAMES

log = logging.getLogger(__name__)

COOKIE = "wxmember_console"
LOGIN_COOKIE = "wxmember_console_login"
USER_LIMIT, ADDRESS_LIMIT, LIMIT_WINDOW_S = 5, 20, 900  # failed sign-ins per 15 minutes
SAFE_NEXT = re.compile(r"/console(/[A-Za-z0-9/_\-.?=&%+:]{0,300})?")
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
root = Blueprint("console_root", __name__)


@root.get("/")
@root.get("/admin")
@root.get("/admin/")
def to_console():
    """The site's root and ``/admin`` lead staff to the console."""
    return redirect(url_for("console.home"))


def services():
    return current_app.extensions["wxmember"]


def log_change(action, target, details=None):
    """Write the signed-in staff member's change to the audit log (who did what)."""
    services().staff.audit.record(g.actor, action, target, details or {})


def refuse(status, message):
    """A Chinese error page with ``status``; whatever refused it changed nothing."""
    return render_template("console/error.html", status=status, message=message), status


def requires(role):
    """Guard a view: staff below ``role`` get a 403 page."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            actor = g.actor
            if not role_allows(actor.role, role):
                return refuse(
                    403,
                    f"您的角色“{ROLE_NAMES[actor.role]}”无权执行此操作，"
                    f"需要“{ROLE_NAMES[role]}”或更高权限。",
                )
            return view(*args, **kwargs)

        guarded.required_role = role
        return guarded

    return decorate


# -- every request ---------------------------------------------------------------


@bp.before_request
def _identify():
    """Who is signed in; the way to the sign-in page otherwise; the CSRF check of a POST."""
    g.console_session = None
    if request.endpoint == "console.static":
        return None
    staff = services().staff
    session = staff.sessions.resolve(request.cookies.get(COOKIE))
    account = staff.accounts.active(session["username"]) if session else None
    if account is not None:
        g.console_session = session
        g.actor = Actor(account["_id"], account["userId"], account["role"], "console")
    if request.endpoint == "console.login":
        return None
    if account is None:
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("console.login", next=_safe_next(request.full_path)))
        return refuse(401, "登录已过期，请重新登录。")
    if request.method not in ("GET", "HEAD") and not _csrf_matches(session["csrf"]):
        return refuse(400, "页面已过期或请求来源无法确认，请刷新页面后重试。")
    return None


def _csrf_matches(expected):
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    return hmac.compare_digest(given.encode(), expected.encode())


@bp.after_request
def _headers(response):
    """Console pages are never cached, framed or sniffed, and load only our own files."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = CSP
    return response


@bp.context_processor
def _page_globals():
    """What every console template may use: the signed-in actor, its CSRF token, ``can``."""
    session = g.get("console_session")
    actor = g.get("actor") if session else None
    return {
        "csrf_token": session["csrf"] if session else "",
        "actor": actor,
        "role_name": ROLE_NAMES.get(actor.role) if actor else "",
        "can": (lambda role: actor is not None and role_allows(actor.role, role)),
    }


# -- sign-in, sign-out -----------------------------------------------------------


def _login_token(nonce):
    key = services().session_secret.encode()
    return hmac.new(key, f"console-login|{nonce}".encode(), hashlib.sha256).hexdigest()


def _secure():
    return not is_embedded(services().config)


def _safe_next(target):
    if (
        isinstance(target, str)
        and SAFE_NEXT.fullmatch(target.rstrip("?"))
        and "//" not in target
        and ".." not in target
    ):
        return target.rstrip("?")
    return url_for("console.home")


def _login_page(status=200, message="", username="", next_page=""):
    nonce = secrets.token_urlsafe(16)
    response = make_response(
        render_template(
            "console/login.html",
            message=message,
            username=username,
            next_page=_safe_next(next_page or request.args.get("next")),
            login_token=_login_token(nonce),
        ),
        status,
    )
    response.set_cookie(
        LOGIN_COOKIE, nonce, httponly=True, samesite="Lax", secure=_secure(), path="/console"
    )
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form (``username``, ``password``) and its check."""
    if request.method == "GET":
        if g.get("console_session"):
            return redirect(_safe_next(request.args.get("next")))
        return _login_page()
    username = request.form.get("username", "").strip().lower()[:64]
    next_page = request.form.get("next", "")
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    given = request.form.get("csrf_token", "")
    if not nonce or not hmac.compare_digest(given.encode(), _login_token(nonce).encode()):
        return _login_page(400, "页面已过期，请重新输入后登录。", username, next_page)
    limiter = RateLimiter(services().database, services().clock)
    address = request.remote_addr or "unknown"
    hits = []
    for name, key, limit in (
        ("console_login_address", address, ADDRESS_LIMIT),
        ("console_login_user", username, USER_LIMIT),
    ):
        hit = limiter.allow(name, key, limit, LIMIT_WINDOW_S)
        if hit is None:
            for earlier in hits:
                limiter.give_back(earlier)
            log.warning("console sign-in limited for %s from %s", mask(username), address)
            return _login_page(429, "登录失败次数过多，请15分钟后再试。", username, next_page)
        hits.append(hit)
    staff = services().staff
    account = staff.accounts.verify(username, request.form.get("password", ""))
    if account is None:
        log.info("console sign-in refused for %s", mask(username))
        return _login_page(401, "用户名或密码错误。", username, next_page)
    for hit in hits:  # only failures count against the limits
        limiter.give_back(hit)
    session_id, _ = staff.sessions.open(account["_id"])
    actor = Actor(account["_id"], account["userId"], account["role"], "console")
    staff.audit.record(actor, "staff.login", f"staff:{account['_id']}", {"address": address})
    response = redirect(_safe_next(next_page))
    response.set_cookie(
        COOKIE, session_id, httponly=True, samesite="Lax", secure=_secure(), path="/console"
    )
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@bp.post("/logout")
@requires("viewer")
def logout():
    """End this session."""
    services().staff.sessions.close(request.cookies.get(COOKIE))
    response = redirect(url_for("console.login"))
    response.delete_cookie(COOKIE, path="/console")
    return response
