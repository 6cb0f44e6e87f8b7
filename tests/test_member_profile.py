"""The member's own details (``/m/profile``, ``/m/api/profile``): name, gender, birthday
(once), style, colour, interests, the address book and invoice titles; what the CRM must
know goes through the outbox as SaveInfo, in order, once, and the page says while it waits."""

import re

import pytest
import requests

from jobs.runner import run_job
from tests.conftest import database_of
from tests.crm_helpers import Member, Sim, bound_member

ADDRESS = {
    "name": "王芳",
    "mobile": "13900007301",
    "province": "上海",
    "city": "上海",
    "district": "静安区",
    "address": "南京西路1266号",
}


@pytest.fixture
def profile_app(make_app):
    return make_app(crm={"timeout_s": 1, "retries": 0})


@pytest.fixture
def member(profile_app):
    return bound_member(profile_app, "oProfile")


def delivered(app):
    """Wait for the background deliveries, then what the CRM received (SaveInfo requests)."""
    app.extensions["wxmember"].background.shutdown()
    return requests.get(f"{Sim(app).url}/sim/info-requests", timeout=5).json()


def save(member, **body):
    return member.client.post("/m/api/profile", json=body)


def customer(app, openid="oProfile"):
    return database_of(app)["welab/customers"].find_one({"wechatid": openid})


def outbox(app):
    return list(database_of(app)["wxmember/outbox"].find({"kind": "save_info"}).sort("_id", 1))


def has_chinese(text):
    return re.search(r"[\u4e00-\u9fff]", text) is not None


# -- the details ---------------------------------------------------------------------------


def test_details_are_kept_and_sent_to_the_crm_once(profile_app, member):
    answer = save(
        member,
        name="王芳",
        gender="female",
        birthday="1990-05-20",
        favoriteStyle="优雅知性",
        favoriteColor="藏青",
        interests=["阅读", "音乐"],
    )

    assert answer.status_code == 200, answer.json
    profile = answer.json["profile"]
    assert profile == {
        "name": "王芳",
        "gender": "female",
        "birthday": "1990-05-20",
        "birthdayEditable": False,
        "favoriteStyle": "优雅知性",
        "favoriteColor": "藏青",
        "interests": ["音乐", "阅读"],  # in the list's order
    }
    stored = customer(profile_app)
    assert stored["realname"] == "王芳" and stored["gender"] == "female"
    assert stored["favoriteStyle"] == "优雅知性"
    assert delivered(profile_app) == [
        {
            "MEMBER_ID": member.id,
            "name": "王芳",
            "sex": "F",
            "birthday": "1990-05-20",
            "hoppy": "05",
            "color": "藏青",
            "interests": "音乐;阅读",
        }
    ]
    assert [item["state"] for item in outbox(profile_app)] == ["done"]
    run_job(profile_app.extensions["wxmember"], "outbox")  # delivered again: nothing new
    assert len(delivered(profile_app)) == 1


def test_only_what_changed_is_sent_and_nothing_when_nothing_changed(profile_app, member):
    save(member, name="王芳", gender="female")
    save(member, name="王芳", gender="male")
    save(member, name="王芳", gender="male", interests=[])

    sent = delivered(profile_app)

    assert sent == [
        {"MEMBER_ID": member.id, "name": "王芳", "sex": "F"},
        {"MEMBER_ID": member.id, "sex": "M"},
    ]


def test_the_birthday_can_be_changed_once(profile_app, member):
    assert save(member, birthday="1990-05-20").status_code == 200
    assert save(member, birthday="1990-05-20").status_code == 200  # the same: no change

    again = save(member, birthday="1991-01-01", name="改名")

    assert again.status_code == 409 and again.json["error"] == "birthday_locked"
    assert again.json["message"] == "生日仅可修改一次，如需更改请到门店办理"
    assert customer(profile_app).get("realname") != "改名"  # nothing of it was written
    assert len(delivered(profile_app)) == 1
    html = member.client.get("/m/profile").get_data(as_text=True)
    assert re.search(r'<input id="birthday"[^>]*disabled', html) and "生日已修改过" in html


def test_changes_wait_for_the_crm_in_order_and_the_page_says_so(profile_app, member):
    sim = Sim(profile_app)
    sim.faults(down=True)
    save(member, name="第一次")
    save(member, name="第二次")
    delivered(profile_app)  # the tries in the background failed

    waiting = member.client.get("/m/api/profile").json["sync"]
    page = member.client.get("/m/profile").get_data(as_text=True)

    assert waiting == {"waiting": True, "refused": None}
    assert "资料已提交，正在同步到门店系统" in page
    assert customer(profile_app)["realname"] == "第二次"  # the platform has it already

    sim.faults(down=False)
    services = profile_app.extensions["wxmember"]
    database_of(profile_app)["wxmember/outbox"].update_many(
        {}, {"$set": {"nextAttemptAt": services.clock.utcnow()}}
    )
    run_job(services, "outbox")
    run_job(services, "outbox")

    assert [row["name"] for row in delivered(profile_app)] == ["第一次", "第二次"]
    assert member.client.get("/m/api/profile").json["sync"]["waiting"] is False
    assert "正在同步" not in member.client.get("/m/profile").get_data(as_text=True)


def test_a_change_the_crm_refuses_is_said_on_the_page(profile_app, member):
    state = profile_app.extensions["wxmember"].crm_simulator.app.extensions["crm_state"]
    state.members.pop(member.id)  # the CRM no longer knows the member

    save(member, name="王芳")
    delivered(profile_app)

    sync = member.client.get("/m/api/profile").json["sync"]
    assert sync["waiting"] is False and sync["refused"] == "找不到对应的人员，请检查！"
    assert "门店系统未接受上次的修改" in member.client.get("/m/profile").get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"name": "长" * 21}, "invalid_name"),
        ({"name": "  "}, "invalid_name"),
        ({"gender": "other"}, "invalid_gender"),
        ({"birthday": "1990-13-01"}, "invalid_birthday"),
        ({"birthday": "2999-01-01"}, "invalid_birthday"),
        ({"birthday": "20/05/1990"}, "invalid_birthday"),
        ({"favoriteStyle": "朋克"}, "invalid_style"),
        ({"favoriteColor": "荧光绿"}, "invalid_color"),
        ({"interests": ["打游戏"]}, "invalid_interests"),
        ({"interests": "阅读"}, "invalid_interests"),
    ],
)
def test_bad_details_are_refused_in_chinese_and_change_nothing(profile_app, member, body, error):
    before = customer(profile_app)

    answer = save(member, **body)

    assert answer.status_code == 400 and answer.json["error"] == error
    assert has_chinese(answer.json["message"])
    assert customer(profile_app) == before and outbox(profile_app) == []


# -- the address book ------------------------------------------------------------------------


def test_the_book_has_one_default_which_is_the_members_address_on_the_crm(profile_app, member):
    first = member.client.post("/m/api/addresses", json=ADDRESS).json["addresses"]
    assert first[0]["isDefault"] is True  # the first is the default
    second = member.client.post(
        "/m/api/addresses",
        json={
            **ADDRESS,
            "city": "杭州",
            "province": "浙江",
            "district": "西湖区",
            "address": "西湖路1号",
            "isDefault": True,
        },
    ).json["addresses"]
    assert [a["City"] for a in second] == ["杭州", "上海"]
    assert [a["isDefault"] for a in second] == [True, False]

    back = second[1]["ID"]
    member.client.post(f"/m/api/addresses/{back}/default")
    book = member.client.post(f"/m/api/addresses/{back}/delete").json["addresses"]

    assert len(book) == 1 and book[0]["City"] == "杭州" and book[0]["isDefault"] is True
    assert [(r["province"], r["city"], r["addr"]) for r in delivered(profile_app)] == [
        ("上海", "上海", "静安区南京西路1266号"),
        ("浙江", "杭州", "西湖区西湖路1号"),
        ("上海", "上海", "静安区南京西路1266号"),
        ("浙江", "杭州", "西湖区西湖路1号"),
    ]
    page = member.client.get("/m/profile/addresses").get_data(as_text=True)
    assert "西湖路1号" in page and "默认" in page and "南京西路" not in page


def test_an_address_is_changed_in_place(profile_app, member):
    [added] = member.client.post("/m/api/addresses", json=ADDRESS).json["addresses"]
    changed = member.client.post(
        "/m/api/addresses",
        json={**ADDRESS, "id": added["ID"], "tag": "公司", "postalcode": "200040"},
    ).json["addresses"]
    assert (
        len(changed) == 1 and changed[0]["Tag"] == "公司" and changed[0]["Postalcode"] == "200040"
    )
    assert changed[0]["isDefault"] is True and len(delivered(profile_app)) == 1  # same address


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({**ADDRESS, "mobile": "12345"}, "invalid_mobile"),
        ({**ADDRESS, "name": ""}, "invalid_name"),
        ({**ADDRESS, "address": "x" * 101}, "invalid_address"),
        ({**ADDRESS, "postalcode": "20004"}, "invalid_postalcode"),
        ({k: v for k, v in ADDRESS.items() if k != "city"}, "invalid_city"),
    ],
)
def test_a_bad_address_is_refused_in_chinese(profile_app, member, body, error):
    answer = member.client.post("/m/api/addresses", json=body)
    assert answer.status_code == 400 and answer.json["error"] == error
    assert has_chinese(answer.json["message"])
    assert member.client.get("/m/api/profile").json["addresses"] == []


def test_the_book_holds_twenty_and_another_members_addresses_are_out_of_reach(profile_app, member):
    for n in range(20):
        member.client.post("/m/api/addresses", json={**ADDRESS, "tag": str(n)})
    full = member.client.post("/m/api/addresses", json=ADDRESS)
    assert full.status_code == 409 and full.json["message"] == "最多保存20个地址"

    other = bound_member(profile_app, "oOther", index=1)
    mine = member.client.get("/m/api/profile").json["addresses"][0]["ID"]
    for path in (f"/m/api/addresses/{mine}/delete", f"/m/api/addresses/{mine}/default"):
        answer = other.client.post(path)
        assert answer.status_code == 404 and answer.json["message"] == "该地址已不存在"
    answer = other.client.post("/m/api/addresses", json={**ADDRESS, "id": mine})
    assert answer.status_code == 404
    assert len(member.client.get("/m/api/profile").json["addresses"]) == 20
    assert other.client.get("/m/api/profile").json["addresses"] == []


# -- invoice titles ------------------------------------------------------------------------


def test_invoice_titles_are_added_changed_and_deleted(profile_app, member):
    personal = member.client.post(
        "/m/api/invoices", json={"type": 1, "name": "王芳", "mail": "wf@example.com"}
    )
    assert personal.status_code == 200
    company = {
        "type": 2,
        "name": "上海某某服饰有限公司",
        "code": "91310000MA1FL0XX2K",
        "address": "上海市静安区南京西路1266号",
        "tel": "021-62880000",
        "bank": "招商银行上海分行",
        "account": "1219 0888 8810 001",
    }
    titles = member.client.post("/m/api/invoices", json=company).json["invoices"]
    assert [t["Name"] for t in titles] == ["上海某某服饰有限公司", "王芳"]

    changed = member.client.post(
        "/m/api/invoices", json={**company, "id": titles[0]["ID"], "name": "新名称"}
    )
    left = member.client.post(f"/m/api/invoices/{titles[1]['ID']}/delete").json["invoices"]

    assert changed.json["invoices"][0]["Name"] == "新名称"
    assert [t["Name"] for t in left] == ["新名称"]
    assert "新名称" in member.client.get("/m/profile/invoices").get_data(as_text=True)
    assert delivered(profile_app) == []  # invoice titles are the platform's own


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"type": 2, "name": "某公司"}, "invalid_code"),
        ({"type": 2, "name": "某公司", "code": "91310000MA1FL0XX2K"}, "invalid_address"),
        ({"type": 5, "name": "某公司"}, "invalid_type"),
        ({"type": 1, "name": ""}, "invalid_name"),
        ({"type": 1, "name": "王芳", "mail": "not-a-mail"}, "invalid_mail"),
    ],
)
def test_a_bad_invoice_title_is_refused_in_chinese(profile_app, member, body, error):
    answer = member.client.post("/m/api/invoices", json=body)
    assert answer.status_code == 400 and answer.json["error"] == error
    assert has_chinese(answer.json["message"])
    assert member.client.get("/m/api/profile").json["invoices"] == []


# -- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/m/api/profile", None),
        ("POST", "/m/api/profile", {"name": "王芳"}),
        ("POST", "/m/api/addresses", ADDRESS),
        ("POST", "/m/api/invoices", {"type": 1, "name": "王芳"}),
    ],
)
def test_a_follower_without_a_card_has_no_profile_to_change(profile_app, method, path, body):
    guest = Member(profile_app, "oGuest", Sim(profile_app))
    answer = guest.client.open(path, method=method, json=body)
    assert answer.status_code == 409 and answer.json["message"] == "请先绑定会员卡"
    for page in ("/m/profile", "/m/profile/addresses", "/m/profile/invoices"):
        assert "您还没有绑定会员卡" in guest.client.get(page).get_data(as_text=True)
    assert database_of(profile_app)["member/profile"].count_documents({}) == 0
