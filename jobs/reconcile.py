"""Binding reconciliation: every binding compared with the CRM; safe drift repaired.

Per binding, the CRM's member is read and:
- it names our openid: in agreement (a changed card number or type is copied, the
  CRM owns cards); open drift of the binding is closed;
- it names no openid (the "unbind failed / 找不到对应的人员" drift): the binding is
  written to the CRM again, since the member proved the mobile to us; unless an
  unbind of ours is still in the outbox;
- it names another openid, or the member is gone: recorded for staff, not touched.
Each repair writes a log record. Bindings are read in pages by ``_id``.
"""

import logging

from wxmember.crm import CRMRejected, idempotency_key
from wxmember.logsafe import mask
from wxmember.records.member_card import bound_card

log = logging.getLogger(__name__)


def run(context):
    """Compare every bound customer with the CRM; return counts per outcome."""
    services = context.services
    customers = services.records.customers
    total = customers.count_bound()
    counts = {"checked": 0, "agree": 0, "repaired": 0, "recorded": 0, "skipped": 0}
    for page in customers.bound_pages(context.batch_size):
        for customer in page:
            counts[_reconcile(services, customer)] += 1
            counts["checked"] += 1
        context.batch_done(counts["checked"], total)
    return counts


def _reconcile(services, customer):
    openid = customer["wechatid"]
    member_id = bound_card(customer).member_id
    try:
        member = services.crm.member(member_id)
    except CRMRejected as refused:
        if refused.code != "not_found":
            raise
        services.drift.record("member_missing", openid, member_id)
        return "recorded"
    crm_openid = member.get("WX_OPENID")
    if crm_openid == openid:
        return _agree(services, customer, member)
    if crm_openid:
        services.drift.record("bound_elsewhere", openid, member_id, {"crmOpenid": crm_openid})
        return "recorded"
    if services.outbox.pending(member_id):
        return "skipped"  # our own unbind is on its way
    return _rebind_on_crm(services, customer, member)


def _agree(services, customer, member):
    openid, ours = customer["wechatid"], bound_card(customer)
    card, card_type = member.get("MEM_CARD_NO"), int(member.get("LEVEL") or ours.card_type)
    outcome = "agree"
    if (card, card_type) != (ours.card_number, ours.card_type):
        services.records.customers.refresh_card(customer["_id"], card, card_type)
        _log_repair(
            services,
            openid,
            "card_refreshed",
            ours.member_id,
            {"type": card_type, "before": ours.card_type},
        )
        outcome = "repaired"
    services.drift.resolve(openid, ours.member_id)
    return outcome


def _rebind_on_crm(services, customer, member):
    openid, member_id = customer["wechatid"], bound_card(customer).member_id
    try:
        services.crm.bind_card(
            openid,
            customer.get("mobile") or member.get("MOBILE_TELEPHONE_NO"),
            card_number=member.get("MEM_CARD_NO"),
            idempotency_key=idempotency_key("reconcile-bind", openid, member_id),
        )
    except CRMRejected as refused:
        services.drift.record("unbound_on_crm", openid, member_id, {"crmError": refused.code})
        return "recorded"
    services.drift.record("unbound_on_crm", openid, member_id, state="repaired")
    _log_repair(services, openid, "rebound_on_crm", member_id)
    return "repaired"


def _log_repair(services, openid, repair, member_id, extra=None):
    services.records.logs.append(
        openid, "binding_repair", {"repair": repair, "memberID": member_id, **(extra or {})}
    )
    log.info("reconcile: %s for %s", repair, mask(openid))
