"""``/api/activities``: shake activities for staff (mounted under the staff API's auth)."""

from flask import Blueprint, current_app, jsonify, request

from wxmember.web.jsonerrors import json_error

bp = Blueprint("shake_api", __name__)


def _activities():
    return current_app.extensions["wxmember"].shake_activities


@bp.route("/activities", methods=["GET", "POST"])
def activities():
    """List activities, or create one (answered with its ``aid``)."""
    if request.method == "POST":
        activity = _activities().create(request.get_json(silent=True))
        return jsonify({"ok": True, "aid": activity["aid"], "activity": activity})
    return jsonify({"items": _activities().all()})


@bp.get("/activities/<aid>")
def activity(aid):
    found = _activities().get(aid)
    if found is None:
        return json_error(404, "not_found", "no such activity")
    return jsonify({"ok": True, "activity": found})


@bp.post("/activities/<aid>/<any(pause, resume):action>")
def pause_or_resume(aid, action):
    """Pause (no shakes are taken) or resume an activity."""
    found = _activities().set_active(aid, action == "resume")
    if found is None:
        return json_error(404, "not_found", "no such activity")
    return jsonify({"ok": True, "activity": found})


@bp.get("/activities/<aid>/stats")
def stats(aid):
    """``{shakes, members, wins: {code: n}, stock: {code: n}, days: [...]}``."""
    found = _activities().stats(aid, current_app.extensions["wxmember"].shakes.done(aid))
    if found is None:
        return json_error(404, "not_found", "no such activity")
    return jsonify(found)
