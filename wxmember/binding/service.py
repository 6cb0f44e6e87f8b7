"""Binding a WeChat user to a store membership card, and ending it.

The CRM is asked first (it owns the cards); the platform's record is then one
atomic update of the customer, whose unique indexes keep one card, one member
and one mobile per WeChat user. If that update loses a race, the CRM is told to
unbind again through the outbox, so neither side is left half-bound.
"""

import functools
import logging
import re
from collections.abc import Callable

from pymongo.errors import DuplicateKeyError

from wxmember import db
from wxmember.background import Background
from wxmember.binding.outbox import Outbox
from wxmember.binding.sms import SmsCodes
from wxmember.crm import CRMClient, CRMError, CRMRejected, idempotency_key, once_more_if_lost
from wxmember.logsafe import mask
from wxmember.records.customers import CustomerStore
from wxmember.records.feeds import FeedStore
from wxmember.records.logs import LogStore
from wxmember.records.member_card import bound_card, bound_member_id, is_bound
from wxmember.refusals import Refused

log = logging.getLogger(__name__)

# ASCII digits only (``\d`` takes every script's digits) and the whole value (``$``
# lets a trailing newline through): checked with ``fullmatch``.
MOBILE = re.compile(r"1[3-9][0-9]{9}")
SMS_CODE = re.compile(r"[0-9]{6}")
CARD_NUMBER = re.compile(r"[A-Za-z0-9]{4,20}")
CARD_TYPES = {"01": 1, "02": 2, "03": 3}
CARD_NAMES = {1: "白卡", 2: "VIP卡", 3: "白金VIP卡"}


class BindingRefused(Refused):
    """The member's request cannot be done; given as HTTP ``status``, ``code``, ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code, message, status)


def _refuse_from(error):
    """The member's answer to a CRM failure."""
    if isinstance(error, CRMRejected):
        status = 400 if error.code in ("card_required", "card_mismatch", "invalid") else 409
        return BindingRefused(status, error.code, error.message)
    return BindingRefused(503, "crm_unavailable", error.message)


class BindingService:
    """Bind, unbind and describe a member's card."""

    def __init__(
        self,
        customers: CustomerStore,
        feeds: FeedStore,
        logs: LogStore,
        crm: CRMClient,
        sms: SmsCodes,
        outbox: Outbox,
        background: Background,
        on_bound: Callable[[int], object] | None = None,
    ) -> None:
        self.customers, self.feeds, self.logs = customers, feeds, logs
        self.crm, self.sms, self.outbox, self.background = crm, sms, outbox, background
        self.on_bound = on_bound  # called in the background with the member id of a new binding

    # -- SMS -----------------------------------------------------------------

    def send_code(self, openid: str, mobile: str | None = None, purpose: str = "bind") -> dict:
        """Text a code to ``mobile`` (bind) or to the bound mobile (unbind)."""
        if purpose == "unbind":
            mobile = self._bound_customer(openid).get("mobile")
        _check(MOBILE, mobile, "invalid_mobile", "请输入正确的11位手机号")
        if purpose == "bind":
            self._refuse_taken(openid, mobile)
        self.sms.send(openid, mobile, purpose)
        return {"sentTo": _shown(mobile)}

    # -- bind ----------------------------------------------------------------

    def bind(
        self,
        openid: str,
        mobile: str,
        code: str,
        card_number: str | None = None,
        name: str | None = None,
    ) -> dict:
        """Bind an existing card, or open a new one when the mobile has none."""
        _check(MOBILE, mobile, "invalid_mobile", "请输入正确的11位手机号")
        _check(SMS_CODE, code, "invalid_code", "请输入6位短信验证码")
        if card_number:
            _check(CARD_NUMBER, card_number, "invalid_card", "会员卡号格式不正确")
        name = (name or "").strip() or None
        if name and len(name) > 20:
            raise BindingRefused(400, "invalid_name", "姓名不能超过20个字")
        self._refuse_taken(openid, mobile)
        stored_code = self.sms.take(openid, mobile, code, "bind")
        try:
            membership, opened = self._bind_on_crm(openid, mobile, card_number, name)
        except (CRMError, BindingRefused) as error:
            self.sms.give_back(stored_code)  # nothing happened: the code stays good
            raise error if isinstance(error, BindingRefused) else _refuse_from(error) from None
        return self._record_binding(openid, mobile, membership, opened)

    def bind_verified(self, openid: str, mobile: str, name: str | None = None) -> dict:
        """Bind with a mobile WeChat already verified (member-card activation form)."""
        _check(MOBILE, mobile, "invalid_mobile", "请输入正确的11位手机号")
        self._refuse_taken(openid, mobile)
        try:
            membership, opened = self._bind_on_crm(openid, mobile, None, name)
        except CRMError as error:
            raise _refuse_from(error) from None
        return self._record_binding(openid, mobile, membership, opened)

    def _refuse_taken(self, openid, mobile):
        if is_bound(self.customers.get(openid)):
            raise BindingRefused(409, "already_bound", "您已绑定会员卡，如需更换请先解绑")
        holder = self.customers.bound_to("mobile", mobile)
        if holder and holder["wechatid"] != openid:
            raise BindingRefused(409, "mobile_taken", "该手机号已绑定其他微信账号")

    def _bind_on_crm(self, openid, mobile, card_number, name):
        check = self.crm.check_mobile(mobile)
        if not check["exists"]:
            if not name:
                raise BindingRefused(400, "name_required", "该手机号还不是会员，请填写姓名开通新卡")
            key = idempotency_key("apply", openid, mobile, name)
            apply = functools.partial(self.crm.open_card, openid, name, mobile, idempotency_key=key)
            return once_more_if_lost(apply), True
        if check.get("openid") not in (None, "", openid):
            raise BindingRefused(409, "card_taken", "该会员卡已绑定其他微信账号")
        if not check.get("checked") and not card_number:
            raise BindingRefused(400, "card_required", "该手机号未在门店验证，请输入会员卡号")
        key = idempotency_key("bind", openid, check.get("MEMBER_ID"), card_number)
        bind = functools.partial(
            self.crm.bind_card, openid, mobile, name, card_number, idempotency_key=key
        )
        return once_more_if_lost(bind), False

    def _record_binding(self, openid, mobile, membership, opened):
        member_id = int(membership["MEMBER_ID"])
        card_type = CARD_TYPES.get(membership["LEVEL"], 1)
        binding = (member_id, membership["MEM_CARD_NO"], card_type, mobile)
        try:
            changed = db.all_or_nothing(
                self.customers.database,
                lambda session: self._write_binding(openid, binding, opened, session),
            )
        except DuplicateKeyError:
            changed = False
        if not changed and not self._already_bound_to(openid, member_id):
            self.outbox.add("unbind", member_id, openid)  # the CRM must not keep this binding
            self.background.submit(self.outbox.deliver, member_id)
            raise BindingRefused(409, "card_taken", "该会员卡或手机号已绑定其他微信账号")
        if changed:
            log.info("bound %s to member %s", mask(openid), mask(member_id))
            if self.on_bound is not None:
                self.background.submit(self.on_bound, member_id)
        return self.me(openid)

    def _write_binding(self, openid, binding, opened, session):
        """The binding with its feed item and log record, all or nothing; False if bound."""
        member_id, card_number, card_type, mobile = binding
        if not self.customers.bind(openid, *binding, session=session):
            return False
        verb = "开通" if opened else "绑定"
        self.feeds.append(
            openid,
            "bind",
            f"会员{verb}了{CARD_NAMES[card_type]}",
            {"memberID": member_id, "type": card_type},
            session=session,
        )
        self.logs.append(
            openid,
            "bind",
            {
                "memberID": member_id,
                "memberCardNumber": card_number,
                "type": card_type,
                "opened": opened,
            },
            session=session,
        )
        return True

    def _already_bound_to(self, openid, member_id):
        return bound_member_id(self.customers.get(openid)) == member_id

    # -- unbind --------------------------------------------------------------

    def unbind(self, openid: str, code: str) -> dict:
        """End the binding after the code sent to the bound mobile is given back."""
        _check(SMS_CODE, code, "invalid_code", "请输入6位短信验证码")
        customer = self._bound_customer(openid)
        self.sms.take(openid, customer["mobile"], code, "unbind")
        self.end_binding(openid, "page")
        return self.me(openid)

    def end_binding(self, openid: str, source: str, member_id: int | None = None) -> bool:
        """Unbind locally now and tell the CRM through the outbox; False if not bound."""
        member_id = db.all_or_nothing(
            self.customers.database,
            lambda session: self._write_unbinding(openid, source, member_id, session),
        )
        if member_id is None:
            return False
        self.background.submit(self.outbox.deliver, member_id)
        log.info("unbound %s from member %s (%s)", mask(openid), mask(member_id), source)
        return True

    def _write_unbinding(self, openid, source, member_id, session):
        """The unbinding, the CRM's notice, the feed item and the log record, all or nothing."""
        before = self.customers.unbind(openid, member_id, session=session)
        if before is None:
            return None
        member_id = bound_member_id(before)
        self.outbox.add("unbind", member_id, openid, session=session)
        self.feeds.append(openid, "unbind", "会员解绑了会员卡", {"memberID": member_id}, session)
        self.logs.append(
            openid, "unbind", {"memberID": member_id, "source": source}, session=session
        )
        return member_id

    def _bound_customer(self, openid):
        customer = self.customers.get(openid)
        if not is_bound(customer):
            raise BindingRefused(409, "not_bound", "您还没有绑定会员卡")
        return customer

    # -- me ------------------------------------------------------------------

    def me(self, openid: str) -> dict:
        """What the member page shows about the member."""
        customer = self.customers.get(openid) or {}
        card = bound_card(customer)
        mobile = customer.get("mobile") or ""
        return {
            "bound": card is not None,
            "nickname": customer.get("nickname"),
            "member": {
                "memberID": card.member_id,
                "cardNumber": card.card_number,
                "type": card.card_type,
                "typeName": CARD_NAMES.get(card.card_type),
                "mobile": _shown(mobile) if mobile else None,
            }
            if card
            else None,
        }


def _shown(mobile):
    """A mobile as the member page shows it: ``139****7301``."""
    return f"{mobile[:3]}****{mobile[-4:]}"


def _check(pattern, value, code, message):
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise BindingRefused(400, code, message)
