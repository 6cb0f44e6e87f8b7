"""The CRM simulator: ``wxmember/crm/openapi.yaml`` implemented as a real HTTP server.

Knobs for trials: ``latency_ms`` and ``error_rate`` (share of calls answered 500),
and at run time ``POST /sim/faults`` with ``{latency_ms, error_rate, down, garbage}`` (before
the work) or ``{slow_answer_ms, reset}`` (after it: the change is made, the answer lost).
For tests and trials only: ``GET /sim/members``, ``/sim/promotions``, ``/sim/sms?mobile=``,
``POST /sim/members/<id>`` (change fields as the store would), ``POST /sim/touch``.
"""

import contextlib
import functools
import random
import re
import socket
import time

from flask import Blueprint, Flask, current_app, jsonify, request

from wxmember.crm.sim_state import SimulatedCRM

api = Blueprint("crm", __name__, url_prefix="/v1")
sim = Blueprint("sim", __name__, url_prefix="/sim")


class Faults:
    """What the simulator does wrong, changeable while it runs."""

    def __init__(self, latency_ms=0, error_rate=0.0):
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.down = False
        self.garbage = False
        self.slow_answer_ms = 0  # the change is made, then the answer comes this late
        self.reset = False  # the change is made, then the connection drops: no answer
        self.random = random.Random(11)


def _crm():
    return current_app.extensions["crm_state"]


def _fail(status, code, message):
    return jsonify({"success": False, "error": message, "code": code}), status


def _member_not_found():
    return _fail(404, "not_found", "找不到对应的人员，请检查！")


@api.before_request
def _gatekeeper():
    faults = current_app.extensions["crm_faults"]
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    if faults.down:
        return _fail(503, "down", "系统维护中")
    if faults.garbage:
        return "<html>Bad Gateway</html>", 200
    if faults.error_rate and faults.random.random() < faults.error_rate:
        return _fail(500, "error", "系统错误")
    expected = current_app.config["CRM_API_KEY"]
    if expected and request.headers.get("X-Api-Key") != expected:
        return _fail(401, "unauthorized", "API密钥无效")
    if request.method == "POST" and not request.headers.get("Idempotency-Key"):
        return _fail(400, "invalid", "缺少Idempotency-Key")
    return None


@api.after_request
def _answer_lost(response):
    """Faults after the work is done: the CRM changed its data, the client hears nothing."""
    faults = current_app.extensions["crm_faults"]
    if faults.slow_answer_ms:
        time.sleep(faults.slow_answer_ms / 1000)
    connection = request.environ.get("werkzeug.socket")
    if faults.reset and connection is not None:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
    return response


def idempotent(view):
    """Answer a repeated Idempotency-Key with the first answer, changing nothing."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = (request.path, request.headers["Idempotency-Key"])
        state = _crm()
        with state.lock:
            if key in state.idempotent:
                body, status = state.idempotent[key]
                return jsonify(body), status
            response = view(*args, **kwargs)
            body, status = response if isinstance(response, tuple) else (response, 200)
            if status < 500:
                state.idempotent[key] = (body.get_json(), status)
            return body, status

    return wrapper


def _body(*required):
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or any(not data.get(name) for name in required):
        return None
    return data


@api.get("/health")
def health():
    return jsonify({"success": True})


@api.post("/members/check-mobile")
@idempotent
def check_mobile():
    data = _body("mobile")
    if data is None:
        return _fail(400, "invalid", "请提供手机号")
    member = _crm().by_mobile(data["mobile"])
    if member is None:
        return jsonify({"success": True, "exists": False})
    return jsonify(
        {
            "success": True,
            "exists": True,
            "MEMBER_ID": member["MEMBER_ID"],
            "checked": member["MOBILE_CHECKED"],
            "openid": member["WX_OPENID"],
        }
    )


def _membership(member):
    return jsonify(
        {
            "success": True,
            "MEMBER_ID": member["MEMBER_ID"],
            "MEM_CARD_NO": member["MEM_CARD_NO"],
            "LEVEL": member["LEVEL"],
        }
    )


@api.post("/members/bind")
@idempotent
def bind():
    data = _body("openid", "MOBILE_TELEPHONE_NO")
    if data is None:
        return _fail(400, "invalid", "请提供openid和手机号")
    state = _crm()
    member = state.by_mobile(data["MOBILE_TELEPHONE_NO"])
    if member is None:
        return _member_not_found()
    if state.by_openid(data["openid"]) not in (None, member):
        return _fail(409, "already_bound", "该微信ID已是本品牌会员，请检查！")
    if member["WX_OPENID"] not in (None, data["openid"]):
        return _fail(409, "already_bound", "该会员卡已绑定其他微信，请检查！")
    if not member["MOBILE_CHECKED"]:
        card = data.get("MEM_OLDCARD_NO")
        if not card:
            return _fail(422, "card_required", "该手机号未验证，请输入会员卡号")
        if card != member["MEM_CARD_NO"]:
            return _fail(422, "card_mismatch", "手机号与会员卡号不匹配，请检查！")
    state.change(member["MEMBER_ID"], "WX_OPENID", data["openid"])
    return _membership(member)


@api.post("/members/apply")
@idempotent
def apply():
    data = _body("openid", "MEM_PSN_CNAME", "MOBILE_TELEPHONE_NO")
    if data is None:
        return _fail(400, "invalid", "请提供openid、姓名和手机号")
    state = _crm()
    if state.by_openid(data["openid"]):
        return _fail(409, "already_bound", "该微信ID已是本品牌会员，请检查！")
    if state.by_mobile(data["MOBILE_TELEPHONE_NO"]):
        return _fail(409, "mobile_exists", "该手机号已是会员，请直接绑定")
    member = state.open_card(
        data["openid"],
        data["MEM_PSN_CNAME"],
        data["MOBILE_TELEPHONE_NO"],
        data.get("MEM_PSN_SEX"),
        data.get("MEM_PSN_BIRTHDAY"),
    )
    return _membership(member)


@api.post("/members/unbind")
@idempotent
def unbind():
    data = _body("openid", "MEMBER_ID")
    if data is None:
        return _fail(400, "invalid", "请提供openid和会员ID")
    state = _crm()
    member = state.members.get(_int(data["MEMBER_ID"]))
    if member is None:
        return _member_not_found()
    if member["WX_OPENID"] != data["openid"]:
        return _fail(409, "not_bound", "该微信未绑定此会员，解绑失败")
    state.change(member["MEMBER_ID"], "WX_OPENID", None)
    return jsonify({"success": True})


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _member_or_404(member_id):
    return _crm().members.get(member_id)


@api.get("/members/<int:member_id>")
def member_info(member_id):
    member = _member_or_404(member_id)
    if member is None:
        return _member_not_found()
    return jsonify({"success": True, "info": _crm().public_member(member)})


@api.get("/members/<int:member_id>/level")
def member_level(member_id):
    member = _member_or_404(member_id)
    if member is None:
        return _member_not_found()
    return jsonify({"success": True, "level": member["LEVEL"]})


@api.get("/members/<int:member_id>/points")
def member_points(member_id):
    return jsonify({"success": True, "point": _crm().points.get(member_id, -1)})


@api.get("/members/<int:member_id>/points/log")
def member_point_log(member_id):
    rows = _crm().point_log.get(member_id, [])
    month = request.args.get("month")
    if month:
        rows = [r for r in rows if time.strftime("%Y%m", time.localtime(r["time"] / 1000)) == month]
    chunk, total = _page(rows)
    return jsonify({"success": True, "log": chunk, "total": total})


@api.post("/points/change")
@idempotent
def change_points():
    data = _body("memberId")
    qty = _int((data or {}).get("qty"))
    if data is None or qty is None:
        return _fail(400, "invalid", "请提供会员ID和积分数")
    state = _crm()
    member_id = _int(data["memberId"])
    if member_id not in state.members:
        return _member_not_found()
    balance = state.change_points(member_id, qty, data.get("memo"))
    if balance is None:
        return _fail(409, "insufficient_points", "积分不足")
    return jsonify({"success": True, "point": balance})


@api.get("/members/<int:member_id>/spending")
def member_spending(member_id):
    if _member_or_404(member_id) is None:
        return _member_not_found()
    with _crm().lock:
        chunk, total = _page(_crm().purchases(member_id))
    return jsonify({"success": True, "log": chunk, "total": total})


INFO_FIELDS = (
    "name",
    "email",
    "industry",
    "province",
    "city",
    "addr",
    "hoppy",
    "color",
    "sex",
    "birthday",
    "interests",
)


@api.post("/members/<int:member_id>/info")
@idempotent
def save_member_info(member_id):
    if _member_or_404(member_id) is None:
        return _member_not_found()
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    if any(not isinstance(data[k], str) for k in INFO_FIELDS if k in data):
        return _fail(400, "invalid", "资料格式不正确")
    birthday = data.get("birthday")
    if birthday and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", birthday):
        return _fail(400, "invalid", "生日格式应为yyyy-MM-dd")
    request_row = {"MEMBER_ID": member_id, **{k: data[k] for k in INFO_FIELDS if k in data}}
    _crm().info_requests.append(request_row)  # lands as a change request the CRM reviews
    return jsonify({"success": True})


@api.post("/members/<int:member_id>/tags/<any(add, remove):action>")
@idempotent
def member_tags(member_id, action):
    data = _body("tag")
    if data is None:
        return _fail(400, "invalid", "请提供标签")
    if _member_or_404(member_id) is None:
        return _member_not_found()
    tags = _crm().tags.setdefault(member_id, set())
    (tags.add if action == "add" else tags.discard)(data["tag"])
    return jsonify({"success": True})


@api.post("/coupons/fetch")
@idempotent
def fetch_coupon():
    data = _body("openid", "PROMOTION_CODE")
    if data is None:
        return _fail(400, "invalid", "请提供openid和活动号")
    coupon, error = _crm().fetch_coupon(data["openid"], data["PROMOTION_CODE"], data.get("memo"))
    if error == "sold_out":
        return _fail(409, "sold_out", "此活动优惠券已发完！")
    if error:
        return _fail(404, "not_found", "找不到对应的活动，请检查！")
    return jsonify({"success": True, "coupon_no": coupon["COUPON_NO"]})


@api.get("/coupons")
def coupons():
    args = request.args
    member_id, openid = args.get("memberId", type=int), args.get("openid")
    if member_id is None and not openid:
        return _fail(400, "invalid", "请提供memberId或openid")
    rows = [
        c
        for c in _crm().coupons
        if (member_id is None or c["MEMBER_ID"] == member_id)
        and (not openid or c["openid"] == openid)
        and (not args.get("status") or c["COUPON_STATUS"] == args["status"])
    ]
    chunk, total = _page(rows)
    return jsonify({"success": True, "list": chunk, "total": total})


@api.get("/shops")
def shops():
    rows = [
        s for s in _crm().shops if not request.args.get("city") or s["CITY"] == request.args["city"]
    ]
    chunk, total = _page(rows)
    return jsonify({"success": True, "list": chunk, "total": total})


@api.get("/prepaid")
def prepaid():
    mobile = request.args.get("mobile")
    if not mobile:
        return _fail(400, "invalid", "请提供手机号")
    return jsonify({"success": True, "list": _crm().prepaid.get(mobile, [])})


def _page(rows):
    page = max(1, request.args.get("pageNum", 1, type=int))
    per_page = max(1, min(request.args.get("perPage", 20, type=int), 200))
    return rows[(page - 1) * per_page : page * per_page], len(rows)


def _feed_page(rows, key):
    """A page of a feed whose keys are 1..n in order (row k sits at index k-1)."""
    after = request.args.get("after", 0, type=int)
    limit = max(1, min(request.args.get("limit", 100, type=int), 1000))
    page = rows[after : after + limit]
    more = after + limit < len(rows)
    return jsonify(
        {"success": True, "list": page, "next": page[-1][key] if page and more else None}
    )


@api.get("/changes")
def changes():
    return _feed_page(_crm().changes, "PK_PUB_FIELD_CHANGEHIS")


@api.get("/transactions")
def transactions():
    return _feed_page(_crm().transactions, "PK_TRANSACTION")


@api.get("/promotions")
def promotions():
    page = max(1, request.args.get("pageNum", 1, type=int))
    per_page = max(1, min(request.args.get("perPage", 20, type=int), 200))
    items = list(_crm().promotions.values())
    code = request.args.get("code")
    if code:
        items = [p for p in items if p["PROMOTION_CODE"] == code]
    chunk, _ = _page(items)
    return jsonify(
        {"success": True, "list": chunk, "total": len(items), "pageNum": page, "perPage": per_page}
    )


@api.post("/sms")
@idempotent
def send_sms():
    data = _body("mobile", "content")
    if data is None:
        return _fail(400, "invalid", "请提供手机号和内容")
    _crm().sms.setdefault(data["mobile"], []).append(data["content"])
    return jsonify({"success": True})


# -- inspection and knobs, for tests and trials ----------------------------------


@sim.get("/members")
def sim_members():
    state = _crm()
    with state.lock:
        members = [
            state.public_member(m) | {"MOBILE_CHECKED": m["MOBILE_CHECKED"]}
            for m in state.members.values()
        ]
    return jsonify(members)


@sim.get("/promotions")
def sim_promotions():
    return jsonify(list(_crm().promotions.values()))


@sim.get("/info-requests")
def sim_info_requests():
    """The SaveInfo change requests received, in order (``?memberId=`` for one member's)."""
    member_id = request.args.get("memberId", type=int)
    rows = _crm().info_requests
    return jsonify([row for row in rows if member_id is None or row["MEMBER_ID"] == member_id])


@sim.get("/sms")
def sim_sms():
    return jsonify(_crm().sms.get(request.args.get("mobile", ""), []))


@sim.post("/members/<int:member_id>")
def sim_change_member(member_id):
    state = _crm()
    with state.lock:
        if member_id not in state.members:
            return _fail(404, "not_found", "no such member")
        for field, value in (request.get_json(silent=True) or {}).items():
            state.change(member_id, field, value)
        return jsonify(state.public_member(state.members[member_id]))


@sim.post("/transactions")
def sim_add_transaction():
    body = request.get_json(silent=True) or {}
    with _crm().lock:
        row = _crm().add_transaction(
            body.get("MEMBER_ID"),
            body.get("TYPE", "01"),
            body.get("AMT", 0),
            body.get("FORM_ID"),
            body.get("REFUND_OF"),
            body.get("ITEMS"),
            body.get("POINT_USED", 0),
            body.get("BALANCE_USED", 0),
        )
    return jsonify(row)


@sim.post("/touch")
def sim_touch():
    count = request.args.get("count", 1, type=int)
    with _crm().lock:
        _crm().touch_members(count)
    return jsonify({"changes": len(_crm().changes)})


@sim.post("/faults")
def sim_faults():
    faults = current_app.extensions["crm_faults"]
    for name, value in (request.get_json(silent=True) or {}).items():
        if hasattr(faults, name) and name != "random":
            setattr(faults, name, value)
    return jsonify(
        {
            "latency_ms": faults.latency_ms,
            "error_rate": faults.error_rate,
            "down": faults.down,
            "garbage": faults.garbage,
            "slow_answer_ms": faults.slow_answer_ms,
            "reset": faults.reset,
        }
    )


def create_simulator(members=200, api_key="", latency_ms=0, error_rate=0.0, seed=7):
    """The simulator as a Flask app; its state is ``app.extensions['crm_state']``."""
    app = Flask("crm-simulator")
    app.json.ensure_ascii = False
    app.config["CRM_API_KEY"] = api_key
    app.extensions["crm_state"] = SimulatedCRM(members, seed)
    app.extensions["crm_faults"] = Faults(latency_ms, error_rate)
    app.register_blueprint(api)
    app.register_blueprint(sim)
    return app
