"""The Flask app around ready services (``wxmember.composition.create_app`` builds them)."""

import logging

from flask import Flask
from werkzeug.exceptions import HTTPException

from wxmember import db
from wxmember.config import is_embedded
from wxmember.logsafe import configure_logging
from wxmember.refusals import Refused
from wxmember.web import (
    api_schema,
    center_pages,  # noqa: F401 - its routes are on member_pages.bp
    console,
    health,
    member_pages,
    member_session,
    offer_pages,  # noqa: F401 - its routes are on member_pages.bp
    staff_api,
    webhook,
)
from wxmember.web.jsonerrors import http_error, refused_error
from wxmember.web.jsonio import MongoJSONProvider

MAX_BODY = 1024 * 1024  # WeChat messages are a few KB; anything over 1 MiB is refused (413)


def make_app(services):
    """The web app of ``services``: webhook, staff and member APIs, member pages, health."""
    configure_logging()
    api_schema.api()  # the API's document, read and compiled once: a broken one stops the start
    app = Flask(__name__)
    app.json = MongoJSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.secret_key = services.session_secret
    app.config.update(
        SESSION_COOKIE_NAME="wxmember_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not is_embedded(services.config),
    )
    app.extensions["wxmember"] = services
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Refused, refused_error)
    app.register_blueprint(webhook.bp)
    app.register_blueprint(staff_api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(member_session.bp)
    app.register_blueprint(member_pages.bp)  # with the routes of center_pages, offer_pages
    console.register(app)  # /console: the staff web console
    _mount_simulator_tools(app, services)
    _announce(services)
    return app


def _announce(services):
    """One start-up line: which database engine, where its data is, which WeChat mode."""
    store = db.describe(services.config["mongo"])
    where = store.get("data_dir") or store.get("hosts") or store.get("note")
    logging.getLogger(__name__).info(
        "wxmember ready: database %s (%s), wechat %s mode",
        store["engine"],
        where,
        "safe" if services.crypto else "plain",
    )


def _mount_simulator_tools(app, services):
    """With the in-process CRM simulator, its ``/sim/…`` trial routes answer here too."""
    if services.crm_simulator is None:
        return
    from wxmember.crm import simulator

    app.extensions.update(
        {key: services.crm_simulator.app.extensions[key] for key in ("crm_state", "crm_faults")}
    )
    app.register_blueprint(simulator.sim)
