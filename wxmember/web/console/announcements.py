"""Console: announcements (公告) to every member — the published ones, newest first, and
the form operators publish one with. Members read them under 消息 in the member center
(those of the last ``RECENT_DAYS``); the form goes through the same
``MemberMessages.announce`` as ``POST /api/announcements``, refusals in Chinese.
"""

from flask import g, redirect, request, url_for

from wxmember.members.messages import RECENT_DAYS
from wxmember.refusals import Refused
from wxmember.web.console.auth import bp, log_change, requires, services
from wxmember.web.console.forms import form_page

NOTICES = {"published": "公告已发布：会员打开会员中心的“消息”即可看到。"}


@bp.get("/announcements")
@requires("viewer")
def announcements():
    """The announcements published, newest first; operators publish one."""
    return _page()


def _page(status=200, error="", form=None):
    names = services().staff.accounts.usernames_by_user_id()
    rows = [
        {**row, "author": names.get(row.get("UserID"), "API") if row.get("UserID") else "API"}
        for row in services().center.messages.announcements()
    ]
    return form_page(
        "console/announcements.html",
        NOTICES,
        status,
        error,
        rows=rows,
        form=form or {"contents": "", "url": ""},
        recent_days=RECENT_DAYS,
    )


@bp.post("/announcements")
@requires("operator")
def publish_announcement():
    """Publish the announcement of the form to every member."""
    contents, url = request.form.get("contents", ""), request.form.get("url", "").strip()
    try:
        row = services().center.messages.announce(contents, url or None, g.actor.user_id)
    except Refused as refused:
        return _page(400, refused.zh, {"contents": contents, "url": url})
    log_change("announcement.publish", f"announcement:{row['_id']}", {"contents": row["Contents"]})
    return redirect(url_for("console.announcements", done="published"))
