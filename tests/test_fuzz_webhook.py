"""``/wechat`` under random and mutated deliveries, both modes: never a 5xx.

Every body is signed as WeChat signs (so it reaches the parser and the handlers,
not just the signature check). Statuses allowed: 200 (a WeChat message), 400 (not
one), 413 (too big). Hypothesis shrinks any 5xx to the smallest body that causes it.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import samples
from tests.conftest import AES_KEY, APPID, TOKEN
from wxmember import create_app
from wxmember.config import load_config
from wxmember.wechat.crypto import MessageCrypto
from wxmember.wechat.simulator import signed_request

TEMPLATES = [
    samples.TEXT,
    samples.SUBSCRIBE,
    samples.SUBSCRIBE_QRSCENE,
    samples.CLICK,
    samples.LOCATION,
    samples.SHAKE,
    samples.SHAKE_ONE_BEACON,
    samples.USER_GET_CARD,
    samples.USER_DEL_CARD,
    samples.SUBMIT_MEMBERCARD_USER_INFO,
]
ALLOWED = {200, 400, 413}
EXAMPLES = 300

tag_names = st.sampled_from(
    ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "EventKey", "Content",
     "MsgId", "AroundBeacons", "AroundBeacon", "Uuid", "UserCardCode", "a", "xml"]
)  # fmt: skip
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
digits_of_any_script = st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=12)


@st.composite
def mutated_samples(draw):
    """A real delivery with bytes cut, doubled or replaced at random places."""
    body = samples.fill(draw(st.sampled_from(TEMPLATES)), content=draw(texts))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(body)))
        action = draw(st.sampled_from(["cut", "double", "insert"]))
        if action == "cut":
            body = body[:at] + body[at + draw(st.integers(1, 20)) :]
        elif action == "double":
            body = body[:at] + body[at : at + 30] + body[at:]
        else:
            body = (
                body[:at] + draw(st.sampled_from(["<", ">", "&", "]]>", "\x00", "①"])) + body[at:]
            )
    return body


elements = st.recursive(
    texts.map(lambda text: text.replace("<", "").replace("&", "")),
    lambda children: st.lists(st.tuples(tag_names, children), max_size=5).map(
        lambda pairs: "".join(f"<{tag}>{child}</{tag}>" for tag, child in pairs)
    ),
    max_leaves=30,
)
random_trees = elements.map(lambda inner: f"<xml>{inner}</xml>")
field_values = st.builds(
    samples.fill,
    st.sampled_from(TEMPLATES),
    openid=st.one_of(texts, st.just("oUser0001")),
    time=st.one_of(st.integers(-(2**70), 2**70), digits_of_any_script, texts),
    content=texts,
    msgid=st.one_of(texts, digits_of_any_script, st.integers(-(2**70), 2**70).map(str)),
    key=texts,
    code=texts,
)
bodies = st.one_of(mutated_samples(), random_trees, field_values, texts)


def _post(client, body, safe):
    crypto = MessageCrypto(AES_KEY, APPID) if safe else None
    query, data = signed_request(body, TOKEN, crypto)
    return client.post("/wechat", query_string=query, data=data.encode())


@pytest.fixture(scope="module", params=["plain", "safe"])
def fuzz_client(request, engine_dir, tmp_path_factory):
    """One app per mode on the engine for all examples (an app per example would cost more)."""
    from tests.conftest import TEST_MONGO, write_config

    TEST_MONGO.clear()
    TEST_MONGO.update(uri="embedded://", data_dir=str(engine_dir), database=f"fuzz_{request.param}")
    path = write_config(tmp_path_factory.mktemp("fuzz"), safe=request.param == "safe")
    app = create_app(config=load_config(path, environ={}))
    yield app.test_client(), request.param == "safe"
    app.extensions["wxmember"].close()
    app.extensions["wxmember"].database.client.drop_database(f"fuzz_{request.param}")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_no_delivery_gets_a_5xx(fuzz_client, body):
    client, safe = fuzz_client
    response = _post(client, body, safe)
    assert response.status_code in ALLOWED, (response.status_code, body)
