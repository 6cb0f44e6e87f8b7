"""Bad requests get a clear status (403/400/413) and write nothing."""

import base64
import logging
import time

import pytest
import requests

from tests import samples
from tests.conftest import AES_KEY, APPID, TOKEN, WeChat, count_documents
from wxmember.wechat.crypto import MessageCrypto
from wxmember.wechat.signature import sign
from wxmember.wechat.simulator import signed_request

NOTHING = {
    "welab/customers": 0,
    "welab/feeds": 0,
    "lavico/user/logs": 0,
    "wxmember/deliveries": 0,
}


def test_url_verification_echoes_echostr(client):
    query = {"signature": sign(TOKEN, "1700000000", "nonce1"), "timestamp": "1700000000"}
    response = client.get("/wechat", query_string={**query, "nonce": "nonce1", "echostr": "e42"})
    assert (response.status_code, response.get_data(as_text=True)) == (200, "e42")


@pytest.mark.parametrize(
    "query",
    [
        {"signature": "0" * 40, "timestamp": "1700000000", "nonce": "n", "echostr": "e"},
        {"timestamp": "1700000000", "nonce": "n", "echostr": "e"},
        {"echostr": "e"},
    ],
    ids=["wrong", "missing-signature", "missing-all"],
)
def test_url_verification_refuses_bad_signature(client, query):
    response = client.get("/wechat", query_string=query)
    assert response.status_code == 403
    assert response.data != b"e"


def test_post_with_wrong_signature_is_403_and_writes_nothing(app, client):
    wechat = WeChat(client)
    response = wechat.post(samples.fill(samples.SUBSCRIBE), signature="f" * 40)
    assert response.status_code == 403
    assert count_documents(app) == NOTHING


@pytest.mark.parametrize("age_s", [-360, 360, 365 * 86400])
def test_a_delivery_signed_outside_the_window_is_a_replay_403(wechat_app, age_s, mode):
    app, client = wechat_app, wechat_app.test_client()
    crypto = MessageCrypto(AES_KEY, APPID) if mode == "safe" else None
    stale = int(time.time()) - age_s
    query, body = signed_request(samples.fill(samples.USER_DEL_CARD), TOKEN, crypto, stale)
    assert client.post("/wechat", query_string=query, data=body).status_code == 403
    assert count_documents(app) == NOTHING
    fresh, body = signed_request(samples.fill(samples.USER_DEL_CARD), TOKEN, crypto)
    assert client.post("/wechat", query_string=fresh, data=body).status_code == 200


def test_a_captured_signature_reused_for_another_body_is_403(app, client):
    query, body = signed_request(samples.fill(samples.TEXT, content="积分"), TOKEN)
    assert client.post("/wechat", query_string=query, data=body).status_code == 200
    forged = samples.fill(samples.USER_DEL_CARD)  # plain mode: the signature skips the body
    assert client.post("/wechat", query_string=query, data=forged).status_code == 403
    assert client.post("/wechat", query_string=query, data=body).status_code == 200  # a retry
    actions = [r["action"] for r in app.extensions["wxmember"].database["lavico/user/logs"].find()]
    assert actions == ["text"]


@pytest.mark.parametrize("timestamp", ["①", "17e9", "", "-5"])
def test_a_timestamp_that_is_not_a_number_is_403(app, client, timestamp):
    query = {"signature": sign(TOKEN, timestamp, "n"), "timestamp": timestamp, "nonce": "n"}
    response = client.post("/wechat", query_string=query, data=samples.fill(samples.TEXT))
    assert response.status_code == 403
    assert count_documents(app) == NOTHING


def test_post_signed_with_another_token_is_403(app, client):
    query = {"signature": sign("other-token", "1700000000", "n"), "timestamp": "1700000000"}
    response = client.post(
        "/wechat", query_string={**query, "nonce": "n"}, data=samples.fill(samples.TEXT)
    )
    assert response.status_code == 403
    assert count_documents(app) == NOTHING


HEADER = (
    b"<xml><ToUserName>a</ToUserName><FromUserName>o</FromUserName>"
    b"<CreateTime>1700000000</CreateTime><MsgType>text</MsgType></xml>"
)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"hello, not xml",
        b"<xml><ToUserName>x</ToUserName>",
        b"<notxml><a>1</a></notxml>",
        b"<xml><FromUserName>o</FromUserName><CreateTime>1</CreateTime></xml>",
        b"<xml><ToUserName>a</ToUserName><FromUserName>o</FromUserName>"
        b"<CreateTime>soon</CreateTime><MsgType>text</MsgType></xml>",
        b"\xff\xfe\x00garbage",
        HEADER.replace(b"1700000000", "①".encode()),
        HEADER.replace(b"1700000000", "17²".encode()),
        HEADER.replace(b"1700000000", "１７００".encode()),  # full-width digits
        HEADER.replace(b"</xml>", b"<a>" * 600 + b"</a>" * 600 + b"</xml>"),
        HEADER.replace(b"</xml>", b"<a/>" * 200_000 + b"</xml>"),
    ],
    ids=[
        "empty",
        "text",
        "truncated",
        "wrong-root",
        "no-msgtype",
        "bad-time",
        "binary",
        "circled-time",
        "superscript-time",
        "fullwidth-time",
        "nested-600",
        "200k-elements",
    ],
)
def test_body_that_is_not_a_wechat_message_is_400(app, client, body):
    query, _ = signed_request("", TOKEN)
    response = client.post("/wechat", query_string=query, data=body)
    assert response.status_code == 400
    assert count_documents(app) == NOTHING


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><ToUserName>a</ToUserName><FromUserName>&lol3;</FromUserName>
<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>a</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content></xml>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "xxe"])
def test_entity_declarations_are_refused(app, client, body):
    response = WeChat(client).post(body.decode())
    assert response.status_code == 400
    assert b"entity" in response.data
    assert count_documents(app) == NOTHING


def test_body_over_one_mebibyte_is_413(app, client):
    padding = "x" * (1024 * 1024 + 1)
    response = WeChat(client).post(samples.fill(samples.TEXT, content=padding))
    assert response.status_code == 413
    assert count_documents(app) == NOTHING


def test_body_over_one_mebibyte_without_length_is_413(app, live_server):
    query, _ = signed_request("", TOKEN)
    chunks = (b"<xml>" + b"x" * 65536 for _ in range(20))  # chunked: no Content-Length
    response = requests.post(f"{live_server.url}/wechat", params=query, data=chunks, timeout=10)
    assert response.status_code == 413
    assert count_documents(app) == NOTHING


# Safe mode


def _safe_post(client, envelope, encrypted=None, **overrides):
    timestamp, nonce = str(int(time.time())), "nonce7"
    query = {
        "signature": sign(TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": sign(TOKEN, timestamp, nonce, encrypted or ""),
    }
    query.update(overrides)
    return client.post("/wechat", query_string=query, data=envelope)


def _envelope(encrypted):
    return f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"


def _valid_ciphertext():
    return MessageCrypto(AES_KEY, APPID).encrypt(samples.fill(samples.TEXT))


@pytest.fixture
def safe_app(make_app):
    return make_app(safe=True)


@pytest.mark.parametrize(
    "encrypted",
    [
        "%%%not-base64%%%",
        _valid_ciphertext()[:40],  # truncated: not whole blocks
        base64.b64encode(base64.b64decode(_valid_ciphertext())[:-16]).decode(),  # a block short
        base64.b64encode(bytes(64)).decode(),  # corrupt: decrypts to garbage
        MessageCrypto(AES_KEY, "wxSomeOtherApp0000").encrypt(samples.fill(samples.TEXT)),
        MessageCrypto(base64.b64encode(bytes(32)).decode()[:43], APPID).encrypt("<xml/>"),
    ],
    ids=["bad-base64", "truncated", "block-short", "corrupt", "wrong-appid", "wrong-key"],
)
def test_safe_mode_bad_ciphertext_is_400_and_the_same_answer_for_every_fault(safe_app, encrypted):
    client = safe_app.test_client()
    response = _safe_post(client, _envelope(encrypted), encrypted)
    assert response.status_code == 400
    # one refusal whatever went wrong: no padding oracle
    assert response.data == b"not a WeChat message: Encrypt cannot be decrypted for this account"
    assert count_documents(safe_app) == NOTHING


def test_safe_mode_without_encrypt_node_is_400(safe_app):
    client = safe_app.test_client()
    response = _safe_post(client, samples.fill(samples.TEXT))
    assert response.status_code == 400
    assert b"Encrypt" in response.data
    assert count_documents(safe_app) == NOTHING


def test_safe_mode_refuses_plain_delivery(safe_app):
    response = WeChat(safe_app.test_client()).post(samples.fill(samples.TEXT))
    assert response.status_code == 400
    assert count_documents(safe_app) == NOTHING


def test_safe_mode_wrong_msg_signature_is_403(safe_app):
    encrypted = _valid_ciphertext()
    client = safe_app.test_client()
    response = _safe_post(client, _envelope(encrypted), encrypted, msg_signature="0" * 40)
    assert response.status_code == 403
    assert count_documents(safe_app) == NOTHING


def test_failing_handler_is_logged_and_answered_success(make_app, caplog, monkeypatch):
    app = make_app()
    customers = app.extensions["wxmember"].records.customers

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(customers, "record_message", broken)
    with caplog.at_level(logging.ERROR):
        response = WeChat(app.test_client()).post(samples.fill(samples.TEXT))

    assert (response.status_code, response.get_data(as_text=True)) == (200, "success")
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info and "disk on fire" in str(record.exc_info[1])
    counts = count_documents(app)
    assert counts["lavico/user/logs"] == 0 and counts["welab/customers"] == 0
