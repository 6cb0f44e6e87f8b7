"""The simulator serves every operation of the written contract, and the client reaches each."""

from pathlib import Path

import pytest
import requests
import yaml

from wxmember.crm import CRMClient, CRMRejected
from wxmember.crm.simulator import create_simulator
from wxmember.httpserver import BackgroundServer

CONTRACT = Path(__file__).resolve().parent.parent / "wxmember" / "crm" / "openapi.yaml"


@pytest.fixture(scope="module")
def simulator():
    server = BackgroundServer(create_simulator(members=40)).start()
    yield server
    server.stop()


@pytest.fixture
def crm(simulator):
    return CRMClient(simulator.url, timeout_s=2, retries=0)


def operations():
    paths = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))["paths"]
    return [(method.upper(), path) for path, item in paths.items() for method in item]


@pytest.mark.parametrize(("method", "path"), operations())
def test_every_contract_operation_is_served(simulator, method, path):
    url = simulator.url + "/v1" + path.replace("{memberId}", "16426780")
    response = requests.request(
        method, url, json={}, headers={"Idempotency-Key": f"{method}{path}"}, timeout=5
    )
    body = response.json()
    # An empty body is either enough (200) or refused as incomplete (400), never 404/405/5xx.
    assert response.status_code in (200, 400), (response.status_code, body)
    if response.status_code == 200:
        assert body["success"] is True
    else:
        assert (body["success"], body["code"]) == (False, "invalid") and body["error"]


def test_changes_need_an_idempotency_key(simulator):
    response = requests.post(f"{simulator.url}/v1/sms", json={"mobile": "1", "content": "x"})
    assert response.status_code == 400


def test_points_change_and_log(crm):
    before = crm.points(16426781)
    assert crm.change_points(16426781, 50, "活动赠送", idempotency_key="p1") == before + 50
    assert crm.change_points(16426781, 50, "活动赠送", idempotency_key="p1") == before + 50
    rows, total = crm.point_log(16426781)
    assert total == 1 and rows[0]["value"] == 50
    with pytest.raises(CRMRejected) as refused:
        crm.change_points(16426781, -(before + 51), "扣减")
    assert refused.value.code == "insufficient_points"


def test_coupon_issue_and_sold_out(crm):
    crm.open_card("oCoupon", "券客", "13600000009")
    issued = {
        crm.fetch_coupon("oCoupon", "CQL201408010005", idempotency_key=f"c{n}") for n in range(100)
    }
    assert len(issued) == 100  # the activity's whole stock
    with pytest.raises(CRMRejected) as refused:
        crm.fetch_coupon("oCoupon", "CQL201408010005", idempotency_key="c100")
    assert (refused.value.code, refused.value.message) == ("sold_out", "此活动优惠券已发完！")
    coupons, total = crm.coupons(openid="oCoupon", per_page=5)
    assert total == 100 and len(coupons) == 5


# The simulator makes a member's purchases up from the member id (random.Random(member_id))
# and keeps them: of its first members, 16426786 has six, 16426782 four, 16426783 none.
SIX, FOUR, NONE = 16426786, 16426782, 16426783


def test_purchases_answer_the_members_whole_total_on_every_page(crm):
    everything, total = crm.purchases(SIX)  # the client's default page: 20 rows
    assert (total, len(everything)) == (6, 6)
    rows, total = crm.purchases(FOUR)
    assert (total, len(rows)) == (4, 4)
    assert crm.purchases(NONE) == ([], 0)
    assert crm.purchases(SIX) == (everything, 6)  # made up once, then kept
    assert all(199 <= row["AMT"] <= 3999 and row["SHOP_NAME"] for row in everything)


@pytest.mark.parametrize(
    ("per_page", "lengths"),
    [
        (4, [4, 2, 0]),  # a full page, the rest, then nothing
        (6, [6, 0]),  # exactly one page: the second is empty
        (5, [5, 1, 0]),
        (1, [1, 1, 1, 1, 1, 1, 0]),  # the contract's smallest page
        (200, [6, 0]),  # and its largest
    ],
)
def test_purchases_pages_split_the_rows_in_order(crm, per_page, lengths):
    everything, _ = crm.purchases(SIX)
    pages = [crm.purchases(SIX, page=n, per_page=per_page) for n in range(1, len(lengths) + 1)]
    assert [len(rows) for rows, _ in pages] == lengths
    assert [total for _, total in pages] == [6] * len(lengths)
    assert [row for rows, _ in pages for row in rows] == everything


def test_tags_shops_prepaid_and_info(crm, simulator):
    assert crm.tag(16426782, "高价值")["success"]
    shops, _ = crm.shops(city="上海")
    assert shops and shops[0]["CITY"] == "上海"
    member = requests.get(f"{simulator.url}/sim/members", timeout=5).json()[0]
    [customer] = crm.prepaid(member["MOBILE_TELEPHONE_NO"])
    assert customer["customerPhone"] == member["MOBILE_TELEPHONE_NO"]
    assert customer["records"][0]["balance"] <= customer["records"][0]["amount"]
    assert crm.prepaid("10000000000") == []
    assert crm.save_info(16426782, {"city": "杭州"})["success"]


class ContractChecker:
    """Checks every request the client sends and every answer it gets against the contract."""

    def __init__(self, base_url):
        from openapi_core import OpenAPI

        spec = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
        spec["servers"] = [{"url": f"{base_url}/v1"}]
        self.openapi = OpenAPI.from_dict(spec)
        self.checked, self.problems = 0, []

    def __call__(self, response, *args, **kwargs):
        from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

        request = RequestsOpenAPIRequest(response.request)
        try:
            self.openapi.validate_request(request)
            self.openapi.validate_response(request, RequestsOpenAPIResponse(response))
        except Exception as problem:  # every kind of mismatch is a finding to report
            cause = problem.__cause__ or problem
            self.problems.append(f"{response.request.method} {response.url}: {cause}")
        self.checked += 1
        return response


@pytest.fixture
def keyed_simulator():
    server = BackgroundServer(create_simulator(members=20, api_key="contract-key")).start()
    yield server
    server.stop()


def test_every_call_of_the_client_keeps_to_the_contract(keyed_simulator):
    pytest.importorskip("openapi_core")
    simulator = keyed_simulator
    checker = ContractChecker(simulator.url)
    crm = CRMClient(simulator.url, api_key="contract-key", timeout_s=2, retries=0)
    crm.session.hooks["response"].append(checker)
    member = requests.get(f"{simulator.url}/sim/members", timeout=5).json()[3]
    mobile, member_id = member["MOBILE_TELEPHONE_NO"], member["MEMBER_ID"]

    crm.health()
    crm.check_mobile(mobile)
    crm.check_mobile("13000000000")
    with pytest.raises(CRMRejected):
        crm.bind_card("oContract", "13000000000")  # not found: the failure shape
    crm.open_card("oContract2", "契约", "13000000001", sex="F", birthday="1990-01-01")
    crm.member(member_id)
    crm.level(member_id)
    with pytest.raises(CRMRejected):
        crm.level(1)
    crm.points(member_id)
    crm.change_points(member_id, 5, "契约测试")
    crm.point_log(member_id)
    crm.purchases(member_id)
    crm.save_info(member_id, {"city": "杭州"})
    crm.tag(member_id, "契约")
    crm.tag(member_id, "契约", remove=True)
    crm.changes(0, 10)
    crm.transactions(0, 10)
    crm.promotions(1, 2)
    crm.fetch_coupon("oContract2", "CQL201404010004", "契约")
    crm.coupons(openid="oContract2")
    crm.shops(city="上海")
    crm.prepaid(mobile)
    crm.send_sms(mobile, "契约测试")
    crm.unbind("oContract2", crm.check_mobile("13000000001")["MEMBER_ID"])

    assert checker.checked >= 25
    assert checker.problems == []
