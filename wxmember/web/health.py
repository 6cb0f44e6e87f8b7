"""``/healthz``: whether MongoDB and the CRM answer (only MongoDB decides the status)."""

from flask import Blueprint, current_app, jsonify

from wxmember import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when MongoDB answers, 503 otherwise, with each dependency's state."""
    services = current_app.extensions["wxmember"]
    mongo_problem = db.ping(services.database)
    body = {
        "ok": mongo_problem is None,
        "mongo": "ok" if mongo_problem is None else f"error: {mongo_problem}",
        "database": db.describe(services.config["mongo"]),
        "crm": {
            "base_url": _crm_label(services.config["crm"]["base_url"]),
            "ok": services.crm.health(),
        },
        "wechat": {"mode": "safe" if services.crypto else "plain"},
    }
    return jsonify(body), 200 if mongo_problem is None else 503


def _crm_label(base_url):
    return "simulator" if base_url == "simulator" else base_url.split("?")[0]
