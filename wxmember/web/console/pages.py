"""Console pages: home, logs (filtered, paged, exported) and the audit log."""

import os
from datetime import datetime

from flask import Response, g, jsonify, render_template, request

from wxmember.records.logs import InvalidQuery
from wxmember.refusals import Refused
from wxmember.staff.accounts import ROLE_NAMES
from wxmember.timeparse import SHANGHAI, to_ms
from wxmember.web.console import exports
from wxmember.web.console.auth import bp, log_change, refuse, requires, services
from wxmember.web.console.present import ACTION_NAMES, action_name, fields, mask_data, when

PAGE_SIZES = (20, 50, 100)
AUDIT_PAGE = 50
AUDIT_ACTIONS = {
    "staff.login": "登录",
    "staff.create": "新建员工账号",
    "staff.update": "修改员工账号",
    "staff.disable": "停用员工账号",
    "staff.token": "签发API令牌",
    "staff.revoke_tokens": "吊销API令牌",
    "points.adjust": "积分调整",
    "grade.lock": "锁定等级",
    "grade.unlock": "解除等级锁定",
    "logs.export": "导出日志",
    "activity.create": "新建摇一摇活动",
    "activity.pause": "暂停摇一摇活动",
    "activity.resume": "恢复摇一摇活动",
    "announcement.publish": "发布会员公告",
    "job.run": "手动运行任务",
    "drift.resolve": "处理绑定差异",
    "withdrawal.approve": "通过提现",
    "withdrawal.reject": "拒绝提现",
    "point_rule.save": "保存积分规则",
    "point_rule.delete": "删除积分规则",
    "grade.save": "保存会员等级",
    "recharge_promotion.save": "保存充值优惠",
    "recharge_promotion.active": "停用/启用充值优惠",
    "coupon.create": "新建优惠券",
    "coupon.update": "修改优惠券",
    "coupon.issue": "发放优惠券",
    "coupon.export": "导出优惠券领取名单",
    "redemption.create": "上架兑换品",
    "redemption.active": "兑换品上架/下架",
    "redemption.stock": "兑换品补库存",
    "redemption.change": "修改兑换品",
    "checkout.settings": "修改结算规则",
}


@bp.app_template_filter("when")
def _when(ms):
    return when(ms)


@bp.get("", strict_slashes=False)
@requires("viewer")
def home():
    """Who is signed in, and where to go."""
    return render_template("console/home.html", role_names=ROLE_NAMES)


# -- logs --------------------------------------------------------------------------


class Filters:
    """The logs query of a request: ``wxid``, ``action``, ``since``, ``until`` (Shanghai)."""

    def __init__(self, args):
        self.wxid = args.get("wxid", "").strip()[:128] or None
        self.action = args.get("action", "").strip()[:64] or None
        self.since_text = args.get("since", "").strip()[:40]
        self.until_text = args.get("until", "").strip()[:40]
        self.since = _time(self.since_text, "开始时间")
        self.until = _time(self.until_text, "结束时间")

    def query_args(self):
        """The filter as query parameters (for links and exports)."""
        pairs = {
            "wxid": self.wxid,
            "action": self.action,
            "since": self.since_text,
            "until": self.until_text,
        }
        return {name: value for name, value in pairs.items() if value}

    def log_filters(self):
        """The filter as ``LogStore.count``/``scan`` take it (times in ms)."""
        return {"wxid": self.wxid, "action": self.action, "since": self.since, "until": self.until}


def _time(text, label):
    if not text:
        return None
    try:
        return to_ms(text)
    except ValueError:
        raise InvalidQuery(f"{label}格式不正确，请用 2026-11-01 或 2026-11-01T08:00") from None


@bp.errorhandler(Refused)
def _refused(error):
    """A refusal a console view did not show on its own form: a Chinese page."""
    return refuse(error.status, error.zh)


@bp.get("/logs")
@requires("viewer")
def logs():
    """``lavico/user/logs`` newest first, filtered and paged with a cursor."""
    filters = Filters(request.args)
    limit = request.args.get("limit", 50, type=int)
    limit = limit if limit in PAGE_SIZES else 50
    cursor = request.args.get("cursor") or None
    try:
        records, next_cursor = services().records.logs.query(
            filters.wxid, filters.action, filters.since, filters.until, limit, cursor
        )
    except InvalidQuery:
        raise InvalidQuery("翻页参数无效，请回到第一页重新查询") from None
    masked = g.actor.masked
    rows = [
        {
            "time": when(record["createTime"]),
            "wxid": record["wxid"],
            "action": record["action"],
            "action_name": action_name(record["action"]),
            "fields": fields(mask_data(record.get("data")) if masked else record.get("data")),
        }
        for record in records
    ]
    return render_template(
        "console/logs.html",
        rows=rows,
        filters=filters,
        limit=limit,
        page_sizes=PAGE_SIZES,
        next_cursor=next_cursor,
        first_page=cursor is None,
        actions=sorted(ACTION_NAMES.items()),
    )


def _export_name(extension):
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M%S")
    return f"wxmember-logs-{stamp}.{extension}"


def _start_export(fmt):
    filters = Filters(request.args)
    logs = services().records.logs
    chosen = filters.log_filters()
    total = logs.count(**chosen)
    progress = _export_progress().start(request.args.get("progress"), g.actor.username, fmt, total)
    rows = exports.log_rows(logs, chosen, g.actor.masked)
    details = {"format": fmt, "rows": total, **filters.query_args()}
    log_change("logs.export", "lavico/user/logs", details)
    return rows, progress


@bp.get("/logs.csv")
@requires("viewer")
def logs_csv():
    """The current filter as CSV, streamed row by row."""
    rows, progress = _start_export("csv")
    chunks = (chunk.encode("utf-8") for chunk in exports.csv_chunks(rows, progress))
    return Response(
        chunks,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={_export_name('csv')}",
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


@bp.get("/logs.xlsx")
@requires("viewer")
def logs_xlsx():
    """The current filter as an Excel file (written to disk first, then streamed)."""
    rows, progress = _start_export("xlsx")
    path, done = exports.xlsx_file(rows, progress)
    return Response(
        exports.file_chunks(path, progress, done),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f"attachment; filename={_export_name('xlsx')}",
            "Content-Length": str(os.path.getsize(path)),
        },
    )


def _export_progress():
    return services().staff.exports


@bp.get("/exports/<export_id>")
@requires("viewer")
def export_progress(export_id):
    """``{state, done, total}`` of one of my exports (the page polls it)."""
    found = _export_progress().of(export_id, g.actor.username)
    if found is None:
        return jsonify({"ok": False, "state": "unknown"}), 404
    return jsonify(
        {"ok": True, "state": found["state"], "done": found["done"], "total": found["total"]}
    )


# -- audit -------------------------------------------------------------------------


@bp.get("/audit")
@requires("admin")
def audit():
    """Who changed what, newest first; filter by who, action, since, until."""
    args = request.args
    who = args.get("who", "").strip().lower()[:64] or None
    action = args.get("action", "").strip()[:64] or None
    since_text, until_text = args.get("since", "").strip(), args.get("until", "").strip()
    page = max(1, min(args.get("page", 1, type=int), 10_000))
    log = services().staff.audit
    rows, more = log.query(
        who,
        action,
        _time(since_text, "开始时间"),
        _time(until_text, "结束时间"),
        AUDIT_PAGE,
        (page - 1) * AUDIT_PAGE,
    )
    known = sorted(set(log.actions()) | set(AUDIT_ACTIONS))
    filters = {"who": who, "action": action, "since": since_text, "until": until_text}
    return render_template(
        "console/audit.html",
        rows=[{**row, "fields": fields(row.get("details"))} for row in rows],
        filters={k: v for k, v in filters.items() if v},
        page=page,
        more=more,
        actions=[(name, AUDIT_ACTIONS.get(name, name)) for name in known],
        action_names=AUDIT_ACTIONS,
    )
