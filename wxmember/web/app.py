"""The Flask application factory."""

import logging

from flask import Flask
from werkzeug.exceptions import HTTPException

from jobs import scheduler
from wxmember import console, db
from wxmember.composition import bootstrap
from wxmember.config import is_embedded, load_config
from wxmember.logsafe import configure_logging
from wxmember.web import api_schema, health, member_pages, member_session, staff_api, webhook
from wxmember.web.jsonerrors import http_error
from wxmember.web.jsonio import MongoJSONProvider

MAX_BODY = 1024 * 1024  # WeChat messages are a few KB; anything over 1 MiB is refused (413)


def create_app(config_path=None, *, config=None, services=None):
    """Build the app from ``config_path`` (or a loaded ``config``, or ready ``services``)."""
    if services is None:
        services = bootstrap(config if config is not None else load_config(config_path))
        _start_embedded_scheduler(services)
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
    app.register_blueprint(webhook.bp)
    app.register_blueprint(staff_api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(member_session.bp)
    app.register_blueprint(member_pages.bp)
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


def _start_embedded_scheduler(services):
    """The embedded default runs its jobs in-process; production runs ``wxmember worker``."""
    config = services.config
    if config["scheduler"]["enabled"] and is_embedded(config):
        services.scheduler = scheduler.build(services)
        services.scheduler.start()


def _mount_simulator_tools(app, services):
    """With the in-process CRM simulator, its ``/sim/…`` trial routes answer here too."""
    if services.crm_simulator is None:
        return
    from wxmember.crm import simulator

    app.extensions.update(
        {key: services.crm_simulator.app.extensions[key] for key in ("crm_state", "crm_faults")}
    )
    app.register_blueprint(simulator.sim)
