"""A member's own details (seed 002): name, gender, birthday, favourite style and colour,
interests (``Member_Config_Interests``), the address book (``Member_Address``) and invoice
titles (``Member_Invoice``).

Name, gender, birthday, style and colour are the customer's fields of seed 000
(``realname``, ``gender``, ``birthday``, ``favoriteStyle``, ``favoriteColor``), which the
member sync also writes from the CRM. The rest is one document per member in
``member/profile``, changed as a whole under its ``version`` (so the book has one default
however two changes meet). A change the CRM must know (the details; the default address
as the member's address) is written with its ``SaveInfo`` notice in the outbox in one
transaction, and delivered later, in order, once (``wxmember.binding.outbox``). The
birthday can be changed once, as the stores require (their birthday offers go by it).
"""

import re
import secrets
from datetime import date, datetime

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from wxmember import db
from wxmember.background import Background
from wxmember.binding.outbox import Outbox
from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import MEMBER_PROFILE
from wxmember.records.customers import CustomerStore
from wxmember.refusals import Refused
from wxmember.timeparse import SHANGHAI, day_ms

# the CRM's MEM_PSN_HOPPY codes (Member/Info) and the colours its stores record
STYLES = {
    "01": "简约大方",
    "02": "时尚潮流",
    "03": "商务正装",
    "04": "运动活力",
    "05": "优雅知性",
    "06": "休闲",
}
COLORS = ("黑色", "白色", "藏青", "灰色", "米色", "酒红", "卡其", "蓝色")
INTERESTS = ("运动健身", "户外旅行", "音乐", "阅读", "美食", "摄影", "艺术展览", "商务社交")
GENDERS = {"male": "M", "female": "F"}  # seed 000's gender, the CRM's MEM_PSN_SEX
INVOICE_TYPES = {0: "普通发票", 1: "电子普通发票", 2: "增值税专用发票"}
MOBILE = re.compile(r"1[3-9][0-9]{9}")
POSTCODE = re.compile(r"[0-9]{6}")
TAX_CODE = re.compile(r"[0-9A-Z]{15,20}")
PHONE = re.compile(r"[0-9+\-() ]{5,20}")
ACCOUNT = re.compile(r"[0-9 \-]{6,30}")
MAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,100}\.[A-Za-z]{2,}")
MOST_ADDRESSES, MOST_INVOICES, TRIES = 20, 10, 5
SAVE_INFO = "save_info"


class ProfileRefused(Refused):
    """A detail the member gave that cannot be kept; nothing was written."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message, status)


def _text(body, field, most, message, required=True):
    value = body.get(field)
    value = value.strip() if isinstance(value, str) else value
    if value in (None, "") and not required:
        return ""
    if not isinstance(value, str) or not value or len(value) > most or not value.isprintable():
        raise ProfileRefused(f"invalid_{field.lower()}", message)
    return value


def _matching(body, field, pattern, message, required=True):
    value = _text(body, field, 100, message, required)
    if value and not pattern.fullmatch(value):
        raise ProfileRefused(f"invalid_{field.lower()}", message)
    return value


def _birthday(text, today):
    try:
        day = date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not date(1900, 1, 1) <= day <= today:
        raise ProfileRefused("invalid_birthday", "请填写正确的生日")
    return day


def ms_day(ms: int | None) -> str | None:
    """A stored birthday as ``yyyy-mm-dd``."""
    if not isinstance(ms, (int, float)):
        return None
    return datetime.fromtimestamp(ms / 1000, SHANGHAI).strftime("%Y-%m-%d")


class MemberProfiles:
    """Reads and changes a bound member's own details."""

    def __init__(
        self,
        database: Database,
        customers: CustomerStore,
        outbox: Outbox,
        background: Background,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.database = database
        self.collection = database[MEMBER_PROFILE]
        self.customers, self.outbox, self.background, self.clock = (
            customers,
            outbox,
            background,
            clock,
        )

    # -- reading -----------------------------------------------------------------------

    def view(self, customer: dict, member_id: int) -> dict:
        """The member's details, book and titles, and whether the CRM has them yet."""
        doc = self._doc(member_id)
        waiting = self.outbox.latest(member_id, SAVE_INFO)
        return {
            "profile": {
                "name": customer.get("realname") or "",
                "gender": customer.get("gender") if customer.get("gender") in GENDERS else None,
                "birthday": ms_day(customer.get("birthday")),
                "birthdayEditable": not doc.get("birthdayEditedAt"),
                "favoriteStyle": customer.get("favoriteStyle") or "",
                "favoriteColor": customer.get("favoriteColor") or "",
                "interests": doc.get("interests", []),
            },
            "addresses": _book(doc.get("addresses", [])),
            "invoices": doc.get("invoices", []),
            "sync": {
                "waiting": bool(waiting and waiting["state"] == "pending"),
                "refused": waiting.get("lastError")
                if waiting and waiting["state"] == "rejected"
                else None,
            },
            "choices": {
                "styles": list(STYLES.values()),
                "colors": list(COLORS),
                "interests": list(INTERESTS),
                "invoiceTypes": {str(k): v for k, v in INVOICE_TYPES.items()},
            },
        }

    def _doc(self, member_id, session=None):
        return self.collection.find_one({"_id": member_id}, session=session) or {
            "_id": member_id,
            "version": 0,
        }

    # -- the details -----------------------------------------------------------------

    def save_details(self, customer: dict, member_id: int, body: dict) -> None:
        """Change name, gender, birthday, style, colour and interests (the ones given)."""
        fields, crm, interests, birthday = self._details(customer, body)
        if interests == self._doc(member_id).get("interests", []):
            interests = None  # as they were: nothing to tell anyone
            crm.pop("interests", None)
        if not fields and interests is None:
            return

        def work(session):
            if birthday is not None or interests is not None:
                self._change(
                    member_id,
                    lambda doc: _details_change(doc, interests, birthday, self.clock.now_ms()),
                    session,
                )
            if fields:
                self.customers.update_details(customer["wechatid"], fields, session)
            if crm:
                self.outbox.add(SAVE_INFO, member_id, customer["wechatid"], crm, session)

        db.all_or_nothing(self.database, work)
        if crm:
            self.background.submit(self.outbox.deliver, member_id)

    def _details(self, customer, body):
        """The customer fields, the CRM's SaveInfo fields, interests and a new birthday."""
        fields, crm, interests, birthday = {}, {}, None, None
        if "name" in body:
            fields["realname"] = crm["name"] = _text(body, "name", 20, "请填写姓名（不超过20个字）")
        if "gender" in body:
            if body["gender"] not in GENDERS:
                raise ProfileRefused("invalid_gender", "请选择性别")
            fields["gender"], crm["sex"] = body["gender"], GENDERS[body["gender"]]
        if body.get("birthday") not in (None, "") and body["birthday"] != ms_day(
            customer.get("birthday")
        ):
            today = datetime.fromtimestamp(self.clock.now_ms() / 1000, SHANGHAI).date()
            day = _birthday(body["birthday"], today)
            birthday = day_ms(day)
            fields["birthday"], crm["birthday"] = birthday, day.isoformat()
        if "favoriteStyle" in body:
            style = body["favoriteStyle"] or ""
            codes = {name: code for code, name in STYLES.items()}
            if style and style not in codes:
                raise ProfileRefused("invalid_style", "请选择喜好的款式")
            fields["favoriteStyle"], crm["hoppy"] = style, codes.get(style, "")
        if "favoriteColor" in body:
            color = body["favoriteColor"] or ""
            if color and color not in COLORS:
                raise ProfileRefused("invalid_color", "请选择喜好的颜色")
            fields["favoriteColor"], crm["color"] = color, color
        if "interests" in body:
            chosen = body["interests"]
            if not isinstance(chosen, list) or not set(chosen) <= set(INTERESTS):
                raise ProfileRefused("invalid_interests", "请从列表中选择兴趣爱好")
            interests = [name for name in INTERESTS if name in chosen]
            crm["interests"] = ";".join(interests)
        changed = {k: v for k, v in fields.items() if customer.get(k) != v}
        crm = {k: v for k, v in crm.items() if _crm_field_changed(k, v, changed, interests)}
        return changed, crm, interests, birthday

    # -- the address book -----------------------------------------------------------------

    def save_address(self, customer: dict, member_id: int, body: dict) -> list[dict]:
        """Add (no ``id``) or change an address; the book as it is now."""
        row = {
            "Name": _text(body, "name", 20, "请填写收货人姓名（不超过20个字）"),
            "Mobile": _matching(body, "mobile", MOBILE, "请输入正确的11位手机号"),
            "Province": _text(body, "province", 20, "请填写省份"),
            "City": _text(body, "city", 20, "请填写城市"),
            "District": _text(body, "district", 20, "区县不能超过20个字", required=False),
            "Address": _text(body, "address", 100, "请填写详细地址（不超过100个字）"),
            "Postalcode": _matching(body, "postalcode", POSTCODE, "邮政编码为6位数字", False),
            "Tag": _text(body, "tag", 6, "标签不能超过6个字", required=False),
        }
        wanted_default = body.get("isDefault") is True
        address_id = body.get("id")
        now = self.clock.now_ms()

        def change(doc):
            book = [dict(a) for a in doc.get("addresses", [])]
            if address_id:
                current = _find(book, address_id, "address_not_found", "该地址已不存在")
                current.update(row)
            else:
                if len(book) >= MOST_ADDRESSES:
                    raise ProfileRefused("too_many", f"最多保存{MOST_ADDRESSES}个地址", 409)
                current = {"ID": secrets.token_hex(8), **row, "isDefault": False, "Date": now}
                book.append(current)
            if wanted_default or not any(a["isDefault"] for a in book):
                for address in book:
                    address["isDefault"] = address is current
            return {"addresses": book}

        return self._change_book(customer, member_id, change)

    def set_default_address(self, customer: dict, member_id: int, address_id: str) -> list[dict]:
        """Make ``address_id`` the default (the member's address on the CRM)."""

        def change(doc):
            book = [dict(a) for a in doc.get("addresses", [])]
            chosen = _find(book, address_id, "address_not_found", "该地址已不存在")
            for address in book:
                address["isDefault"] = address is chosen
            return {"addresses": book}

        return self._change_book(customer, member_id, change)

    def delete_address(self, customer: dict, member_id: int, address_id: str) -> list[dict]:
        """Remove an address; the newest left becomes the default if it was."""

        def change(doc):
            book = [dict(a) for a in doc.get("addresses", [])]
            gone = _find(book, address_id, "address_not_found", "该地址已不存在")
            book.remove(gone)
            if gone["isDefault"] and book:
                max(book, key=lambda a: a["Date"])["isDefault"] = True
            return {"addresses": book}

        return self._change_book(customer, member_id, change)

    def _change_book(self, customer, member_id, change):
        """The book changed, and the CRM told of a new default address, all or nothing."""
        outcome = {}

        def work(session):
            before = _default(self._doc(member_id, session).get("addresses", []))
            doc = self._change(member_id, change, session)
            after = _default(doc["addresses"])
            outcome.update(doc=doc, notice=None)
            if after and _crm_address(after) != (_crm_address(before) if before else None):
                notice = dict(zip(("province", "city", "addr"), _crm_address(after), strict=True))
                self.outbox.add(SAVE_INFO, member_id, customer["wechatid"], notice, session)
                outcome["notice"] = notice

        db.all_or_nothing(self.database, work)
        if outcome["notice"]:
            self.background.submit(self.outbox.deliver, member_id)
        return _book(outcome["doc"]["addresses"])

    # -- invoice titles -------------------------------------------------------------------

    def save_invoice(self, member_id: int, body: dict) -> list[dict]:
        """Add (no ``id``) or change an invoice title; the titles as they are now."""
        kind = body.get("type")
        if isinstance(kind, bool) or kind not in INVOICE_TYPES:
            raise ProfileRefused("invalid_type", "请选择发票类型")
        special = kind == 2
        row = {
            "Type": kind,
            "Name": _text(body, "name", 50, "请填写发票抬头（不超过50个字）"),
            "Code": _matching(
                body, "code", TAX_CODE, "纳税人识别号为15至20位数字或大写字母", special
            ),
            "Address": _text(body, "address", 50, "请填写注册地址", required=special),
            "Tel": _matching(body, "tel", PHONE, "请填写正确的注册电话", special),
            "Bank": _text(body, "bank", 20, "请填写开户银行", required=special),
            "Account": _matching(body, "account", ACCOUNT, "请填写正确的银行账户", special),
            "Mobile": _matching(body, "mobile", MOBILE, "请输入正确的11位收票手机号", False),
            "Mail": _matching(body, "mail", MAIL, "请输入正确的收票邮箱", False),
        }
        invoice_id = body.get("id")
        now = self.clock.now_ms()

        def change(doc):
            titles = [dict(t) for t in doc.get("invoices", [])]
            if invoice_id:
                _find(titles, invoice_id, "invoice_not_found", "该发票抬头已不存在").update(row)
            elif len(titles) >= MOST_INVOICES:
                raise ProfileRefused("too_many", f"最多保存{MOST_INVOICES}个发票抬头", 409)
            else:
                titles.insert(0, {"ID": secrets.token_hex(8), **row, "CreateDate": now})
            return {"invoices": titles}

        return self._change(member_id, change)["invoices"]

    def delete_invoice(self, member_id: int, invoice_id: str) -> list[dict]:
        """Remove an invoice title."""

        def change(doc):
            titles = [dict(t) for t in doc.get("invoices", [])]
            titles.remove(_find(titles, invoice_id, "invoice_not_found", "该发票抬头已不存在"))
            return {"invoices": titles}

        return self._change(member_id, change)["invoices"]

    # -- one document, changed whole ------------------------------------------------------

    def _change(self, member_id, change, session=None):
        """Apply ``change(doc) -> fields`` under the document's version; the new document."""
        for _ in range(TRIES):
            doc = self._doc(member_id, session)
            fields = change(doc)
            version = doc["version"]
            try:
                done = self.collection.update_one(
                    {"_id": member_id, "version": version},
                    {"$set": {**fields, "version": version + 1}},
                    upsert=version == 0,
                    session=session,
                )
            except DuplicateKeyError:  # created meanwhile: read it again
                if session is not None:
                    raise
                continue
            if done.matched_count or done.upserted_id is not None:
                return {**doc, **fields, "version": version + 1}
        raise ProfileRefused("busy", "操作太频繁，请稍后再试", 409)


def _details_change(doc, interests, birthday, now):
    fields = {}
    if interests is not None:
        fields["interests"] = interests
    if birthday is not None:
        if doc.get("birthdayEditedAt"):
            raise ProfileRefused("birthday_locked", "生日仅可修改一次，如需更改请到门店办理", 409)
        fields["birthdayEditedAt"] = now
    return fields


def _crm_field_changed(name, value, changed, interests):
    own = {"name": "realname", "sex": "gender", "birthday": "birthday"}
    own.update(hoppy="favoriteStyle", color="favoriteColor")
    return interests is not None if name == "interests" else own[name] in changed


def _find(rows, row_id, code, message):
    found = next((row for row in rows if row["ID"] == row_id), None)
    if found is None:
        raise ProfileRefused(code, message, 404)
    return found


def _book(addresses):
    """The book as seed 002 orders it: the default first, then the newest."""
    return sorted(addresses, key=lambda a: (not a["isDefault"], -a["Date"]))


def _default(addresses):
    return next((a for a in addresses if a["isDefault"]), None)


def _crm_address(address):
    street = "".join(address[k] for k in ("District", "Address"))
    return address["Province"], address["City"], street
