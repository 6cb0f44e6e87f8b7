"""``/wechat``: URL verification and message delivery, plain or safe mode.

See https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
"""

import logging
import re
import time

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from wxmember.events.dispatch import DeliveryPending
from wxmember.records.dedup import NonceReused
from wxmember.wechat import message as wechat_message
from wxmember.wechat import signature
from wxmember.wechat.errors import InvalidMessage, InvalidSignature
from wxmember.wechat.reply import SUCCESS, encrypt_reply, text_reply

log = logging.getLogger(__name__)
TIMESTAMP = re.compile(r"[0-9]{1,12}")

bp = Blueprint("webhook", __name__)


def _services():
    return current_app.extensions["wxmember"]


def _token():
    return _services().config["wechat"]["token"]


def _verify_request_signature():
    args = request.args
    signature.verify(args.get("signature"), _token(), args.get("timestamp"), args.get("nonce"))


def _refuse_stale_timestamp():
    """A delivery signed outside the window is a replay of a captured request (403)."""
    window = _services().config["wechat"]["timestamp_window_s"]
    timestamp = request.args.get("timestamp", "")
    if not window:
        return
    if not TIMESTAMP.fullmatch(timestamp) or abs(time.time() - int(timestamp)) > window:
        raise InvalidSignature(f"timestamp outside the {window:g} s window")


@bp.errorhandler(InvalidSignature)
def _forbidden(exc):
    log.warning("refused WeChat request from %s: %s", request.remote_addr, exc)
    return Response("invalid signature", 403, mimetype="text/plain")


@bp.errorhandler(InvalidMessage)
def _bad_request(exc):
    log.warning("refused WeChat body from %s: %s", request.remote_addr, exc)
    return Response(f"not a WeChat message: {exc}", 400, mimetype="text/plain")


@bp.errorhandler(DeliveryPending)
def _pending(exc):
    # not 200: WeChat delivers it again, and the retry finds the record or takes over
    return Response("delivery in progress, retry", 503, mimetype="text/plain")


@bp.get("/wechat")
def verify_url():
    """WeChat checks the URL by asking us to echo ``echostr`` back."""
    _verify_request_signature()
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


@bp.post("/wechat")
def receive():
    """Handle one delivery and answer with a passive reply or ``success``."""
    _verify_request_signature()
    _refuse_stale_timestamp()
    services = _services()
    body = _read_body()
    xml = _decrypt(body, services) if services.crypto else body
    message = wechat_message.parse(xml)
    signed = f"{request.args.get('timestamp')}|{request.args.get('nonce')}"
    try:
        reply = services.dispatcher.handle(message, signed)
    except NonceReused:
        raise InvalidSignature("nonce already used by another delivery") from None
    if not reply:
        return Response(SUCCESS, mimetype="text/plain")
    answer = text_reply(message, reply)
    if services.crypto:
        answer = encrypt_reply(answer, services.crypto, _token(), request.args.get("nonce"))
    return Response(answer, mimetype="application/xml")


def _read_body():
    """The request body; 413 when it is over the limit, also when sent chunked.

    For a body without Content-Length, Werkzeug stops reading at the limit
    instead of refusing it, so a body that reaches the limit is refused here.
    """
    body = request.get_data(cache=False)
    if request.content_length is None and len(body) >= current_app.config["MAX_CONTENT_LENGTH"]:
        raise RequestEntityTooLarge()
    return body


def _decrypt(body, services):
    """The inner XML of a safe-mode delivery, after checking ``msg_signature``."""
    args = request.args
    if args.get("encrypt_type", "").lower() != "aes":
        raise InvalidMessage("safe mode is configured: encrypt_type=aes expected")
    envelope = wechat_message.element_to_dict(wechat_message.parse_xml(body))
    encrypted = envelope.get("Encrypt") if isinstance(envelope, dict) else None
    if not encrypted or not isinstance(encrypted, str):
        raise InvalidMessage("no Encrypt node")
    signature.verify(
        args.get("msg_signature"), _token(), args.get("timestamp"), args.get("nonce"), encrypted
    )
    return services.crypto.decrypt(encrypted)
