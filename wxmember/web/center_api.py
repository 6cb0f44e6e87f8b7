"""``/api`` for the member center's staff side: announcements to every member, and the
prepaid records a member's verified mobile links (seed 001). Mounted under the staff API."""

from flask import Blueprint, current_app, jsonify, request

from wxmember.web.console.api_access import current_actor
from wxmember.web.console.present import mask_number
from wxmember.web.member_api import known_member

bp = Blueprint("center_api", __name__)


def _center():
    return current_app.extensions["wxmember"].center


@bp.route("/announcements", methods=["GET", "POST"])
def announcements():
    """The announcements newest first, or publish one ``{contents, url?}`` to every member."""
    messages = _center().messages
    if request.method == "POST":
        body = request.get_json(silent=True) or {}
        row = messages.announce(body.get("contents"), body.get("url"), current_actor().user_id)
        return jsonify({"ok": True, "announcement": row})
    return jsonify({"items": messages.announcements()})


@bp.get("/members/<int:member_id>/prepaid")
def member_prepaid(member_id):
    """The member's link to the prepaid records of its verified mobile, and the records."""
    found = _center().prepaid.for_staff(known_member(member_id))
    link = found.get("link")
    if link and current_actor().masked:  # a viewer's token: the mobile masked
        link["mobile"] = mask_number(link["mobile"])
    return jsonify({"ok": True, **found})
