"""No secret, phone number, card number or openid reaches a log line in clear."""

import io
import logging
import time

import pytest
import requests

from tests import samples
from tests.conftest import STAFF_TOKEN, LiveServer, WeChat, database_of
from wxmember.logsafe import RedactingFilter, configure_logging, mask, redact

PHONE = "13812345678"
CARD = "880012345678"
APPSECRET = "very-secret-appsecret-value"


@pytest.fixture
def log_stream():
    stream = io.StringIO()
    configure_logging(logging.DEBUG, stream)
    root = logging.getLogger()
    handler = root.handlers[-1]
    yield stream
    root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def test_a_whole_session_logs_nothing_sensitive(make_app, log_stream, monkeypatch, wechat_api):
    app = make_app(wechat={"appsecret": APPSECRET, "api_base_url": wechat_api.base_url})
    wechat = WeChat(app.test_client())
    wechat.post(samples.fill(samples.SUBSCRIBE, openid="oSensitive0001"))
    wechat.post(samples.fill(samples.TEXT, openid="oSensitive0001", content=f"我的手机 {PHONE}"))
    wechat.post(samples.fill(samples.USER_GET_CARD, openid="oSensitive0001", code=CARD))
    deadline = time.monotonic() + 10
    while "nickname" not in (database_of(app)["welab/customers"].find_one() or {}):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    monkeypatch.setattr(
        app.extensions["wxmember"].records.customers,
        "record_message",
        lambda openid: (_ for _ in ()).throw(ValueError(f"bad phone {PHONE} card {CARD}")),
    )
    wechat.post(samples.fill(samples.TEXT, openid="oSensitive0001", msgid="2"))
    app.test_client().get("/api/logs", headers={"Authorization": f"Bearer {STAFF_TOKEN}"})

    text = log_stream.getvalue()
    assert "user/info" in text and "Traceback" in text  # the lines were written...
    for secret in (PHONE, CARD, APPSECRET, "ACCESS_TOKEN", STAFF_TOKEN, "oSensitive0001"):
        assert secret not in text  # ...without any of these in clear


def _raise_with_phone_and_card(openid):
    raise ValueError(f"bad phone {PHONE} card {CARD}")


def test_redact_masks_secret_parameters_and_long_digit_runs():
    line = f"GET /token?appid=wx1&secret={APPSECRET}&access_token=abc mobile {PHONE} at 12.5"
    cleaned = redact(line)
    assert APPSECRET not in cleaned and "access_token=abc" not in cleaned
    assert PHONE not in cleaned and mask(PHONE) in cleaned
    assert "12.5" in cleaned and "appid=wx1" in cleaned


def test_filter_rewrites_formatted_arguments():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "card %s", (CARD,), None)
    RedactingFilter().filter(record)
    assert CARD not in record.getMessage()


def test_access_log_lines_carry_no_openid_in_paths_and_no_signature(make_app, log_stream):
    server = LiveServer(make_app())
    try:
        requests.get(
            f"{server.url}/api/customers/oSensitive0002",
            headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
            timeout=5,
        )
        requests.get(f"{server.url}/wechat?signature=f00dfeedcafe&timestamp=1&nonce=2", timeout=5)
    finally:
        server.stop()
    text = log_stream.getvalue()
    assert "/api/customers/" in text and "/wechat?signature=" in text  # the lines were written
    assert "oSensitive0002" not in text and "f00dfeedcafe" not in text
