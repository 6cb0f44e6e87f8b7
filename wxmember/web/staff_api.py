"""``/api``: the staff JSON API, authenticated by ``Authorization: Bearer <token>``: the shared
``console.api_token`` (machines) or a staff account's own token (``web.console.api_access``).
"""

from bson import ObjectId
from bson.errors import InvalidId
from flask import Blueprint, current_app, jsonify, request

from wxmember.records.logs import InvalidQuery
from wxmember.timeparse import to_ms
from wxmember.web import api_schema, center_api, coupon_api, member_api, shake_api
from wxmember.web.console import api_access
from wxmember.web.console.present import mask_data
from wxmember.web.jsonerrors import json_error

bp = Blueprint("staff_api", __name__, url_prefix="/api")
bp.register_blueprint(member_api.bp)  # the member system's routes, under the same auth
bp.register_blueprint(shake_api.bp)
bp.register_blueprint(center_api.bp)  # announcements, prepaid links (the member center)
bp.register_blueprint(coupon_api.staff_bp)  # coupons, checkout, points redemption (seed 003)


bp.before_request(api_access.authenticate)  # the machine token or a staff token, roles
bp.before_request(api_schema.check_request)  # after the token: bodies and queries as documented
bp.after_request(api_access.record_change)  # each change that succeeded, with its author


@bp.get("/logs")
def list_logs():
    """Log records newest first: ``{"items": [...], "next": cursor or null}``."""
    args = request.args
    records, next_cursor = current_app.extensions["wxmember"].records.logs.query(
        wxid=args.get("wxid") or None,
        action=args.get("action") or None,
        since=_time_arg("since"),
        until=_time_arg("until"),
        limit=_int_arg("limit", 50),
        cursor=args.get("cursor") or None,
    )
    if api_access.current_actor().masked:  # a viewer's token: mobiles and card numbers masked
        records = [{**record, "data": mask_data(record.get("data") or {})} for record in records]
    return jsonify({"items": records, "next": next_cursor})


@bp.get("/customers/<wxid>")
def get_customer(wxid):
    """One follower's document."""
    customer = current_app.extensions["wxmember"].records.customers.get(wxid)
    if customer is None:
        return json_error(404, "not_found", f"no customer with wechatid {wxid}")
    return jsonify(mask_data(customer) if api_access.current_actor().masked else customer)


@bp.get("/jobs")
def list_jobs():
    """The latest job runs (``?job=`` for one job) and who holds each job's lease."""
    jobs = current_app.extensions["wxmember"].jobs
    job = request.args.get("job") or None
    if job and job not in jobs.names:
        raise InvalidQuery(f"job must be one of {', '.join(jobs.names)}")
    return jsonify({"items": jobs.runs(job, _int_arg("limit", 50)), "leases": jobs.leases()})


@bp.post("/jobs/<name>")
def start(name):
    """Start a job now in this process: ``202 {"runId"}``, followed at ``/api/jobs/runs/<id>``."""
    run_id = current_app.extensions["wxmember"].jobs.start(name, trigger="api")  # or Refused
    return jsonify({"ok": True, "runId": str(run_id)}), 202


@bp.get("/jobs/runs/<run_id>")
def job_run(run_id):
    """One run: state, progress (``done``/``total``), counts, error."""
    try:
        run = current_app.extensions["wxmember"].jobs.run_record(ObjectId(run_id))
    except InvalidId:
        run = None
    if run is None:
        return json_error(404, "not_found", "no such run")
    return jsonify({"ok": True, "run": run})


@bp.get("/drift")
def list_drift():
    """Where the platform and the CRM disagree (``?state=open|repaired|resolved``)."""
    services = current_app.extensions["wxmember"]
    state = request.args.get("state") or None
    if state not in (None, "open", "repaired", "resolved"):
        raise InvalidQuery("state must be open, repaired or resolved")
    return jsonify({"items": services.drift.latest(state, _int_arg("limit", 100))})


def _time_arg(name):
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return to_ms(raw)
    except ValueError as exc:
        raise InvalidQuery(f"{name}: {exc}") from None


def _int_arg(name, default):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidQuery(f"{name} must be a whole number") from None
