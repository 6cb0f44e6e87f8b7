"""Console: staff accounts for admins — the list, add one or change its role and password
(which also enables it again), disable one. The same ``Staff.add``/``Staff.disable`` as
``wxmember staff``: the audit rows are written there, with the admin as the author."""

from flask import g, redirect, request, url_for

from wxmember.refusals import Refused
from wxmember.staff.accounts import ROLE_NAMES, ROLES
from wxmember.web.console.auth import bp, requires, services
from wxmember.web.console.forms import Form, FormRefused, form_page

NOTICES = {
    "created": "已添加员工账号。",
    "updated": "已更新员工账号；该账号需用新密码重新登录。",
    "disabled": "已停用该账号：它的登录会话已结束，API 令牌不再可用。",
}


@bp.get("/staff")
@requires("admin")
def staff_accounts():
    """Every staff account: role, state, last sign-in, tokens."""
    return _page()


def _page(status=200, error="", form=None):
    staff = services().staff
    rows = [
        {
            **account,
            "role_name": ROLE_NAMES.get(account["role"]),
            "tokens": staff.tokens.count(account["_id"]),
        }
        for account in staff.accounts.all()
    ]
    return form_page(
        "console/staff.html",
        NOTICES,
        status,
        error,
        rows=rows,
        roles=[(role, ROLE_NAMES[role]) for role in ROLES],
        form=form or _editing(request.args.get("edit", "")),
    )


def _editing(username):
    """The form for the account ``?edit=`` names (its role chosen), else an empty one."""
    account = services().staff.accounts.get(username) if username else None
    if account is None:
        return {"username": "", "role": "viewer"}
    return {"username": account["_id"], "role": account["role"]}


@bp.post("/staff")
@requires("admin")
def save_staff():
    """Add an account, or change the role and password of one (enabling it again)."""
    form = Form(request.form)
    typed = {"username": form.raw("username"), "role": form.raw("role")}
    try:
        username = form.text("username", "用户名", longest=32).lower()
        role = form.choice("role", "角色", ROLES)
        password = request.form.get("password", "")
        if password != request.form.get("password2", ""):
            raise FormRefused("两次输入的密码不一致。")
        if username == g.actor.username and role != "admin":
            raise FormRefused("不能降低自己的角色：请让另一位管理员操作。")
        _, created = services().staff.add(username, role, password, g.actor)
    except Refused as refused:
        return _page(400, refused.zh, typed)
    return redirect(url_for("console.staff_accounts", done="created" if created else "updated"))


@bp.post("/staff/<username>/disable")
@requires("admin")
def disable_staff(username):
    """Disable an account: its sessions end, its tokens stop working."""
    if username == g.actor.username:
        return _page(400, "不能停用自己的账号。")
    try:
        services().staff.disable(username, g.actor)
    except Refused as refused:
        return _page(refused.status, refused.zh)
    return redirect(url_for("console.staff_accounts", done="disabled"))
