"""Member sync: CRM member changes since the cursor onto the bound customers.

The cursor (``lavico/user/lastId``) moves only after a batch is stored, to the
highest change key of that batch, so a crash or a CRM error resumes where it
stopped without loss or double work. A batch is one ``bulk_write``. A member
unbound or rebound on the CRM side is recorded as drift for the reconciliation.
"""

import logging
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from jobs import cursor as cursors
from wxmember.members.profile import STYLES  # the CRM's MEM_PSN_HOPPY codes
from wxmember.records.member_card import CARD_NUMBER, CARD_TYPE, is_bound
from wxmember.timeparse import day_ms

log = logging.getLogger(__name__)

CURSOR_ID = "member_sync"
MEMBER_TABLE = "PUB_MEMBER_PSN"


def _date_ms(text):
    """``yyyy-MM-dd`` (a Shanghai calendar day) to epoch milliseconds."""
    return day_ms(datetime.strptime(text, "%Y-%m-%d").date())


FIELD_MAP = {  # CRM column -> (customer field, conversion)
    "MEM_PSN_CNAME": ("realname", str),
    "MEM_PSN_SEX": ("gender", lambda v: {"M": "male", "F": "female"}.get(v, v)),
    "MEM_PSN_BIRTHDAY": ("birthday", _date_ms),
    "MOBILE_TELEPHONE_NO": ("mobile", str),
    "MEM_PSN_EMAIL": ("email", str),
    "MEM_INDUSTRY": ("profession", str),
    "PROVINCE": ("province", str),
    "CITY": ("city", str),
    "MEM_PSN_ADDRESS": ("address", str),
    "MEM_PSN_HOPPY": ("favoriteStyle", lambda v: STYLES.get(v, v)),
    "MEM_PSN_COLOR": ("favoriteColor", str),
    "LEVEL": (CARD_TYPE, int),
    "MEM_CARD_NO": (CARD_NUMBER, str),
}


def read_cursor(database):
    """The highest change key already stored (0 before the first sync)."""
    return cursors.read_cursor(database, CURSOR_ID)


def run(context):
    """Pull and apply every change after the cursor; return counts."""
    services = context.services
    database = services.database
    batched = context.options.get("batched", True)
    counts = {"changes": 0, "members": 0, "updated": 0, "drift": 0, "batches": 0}
    pages = cursors.follow_feed(
        database,
        CURSOR_ID,
        services.crm.changes,
        "PK_PUB_FIELD_CHANGEHIS",
        context.batch_size,
        services.clock,
    )
    for rows in pages:
        member_rows = [row for row in rows if row.get("TABLE_NAME", MEMBER_TABLE) == MEMBER_TABLE]
        if batched:
            _apply_batch(services, member_rows, counts)
        else:
            _apply_one_by_one(services, member_rows, counts)
        counts["changes"] += len(rows)
        counts["batches"] += 1
        context.batch_done(counts["changes"])
    return counts


def fold(rows):
    """``{member_id: {customer field: value}}`` with later changes winning, and openid rows."""
    fields, openids = {}, {}
    for row in sorted(rows, key=lambda r: r["PK_PUB_FIELD_CHANGEHIS"]):
        member_id = int(row["RK_VALUE"])
        if row["FIELD_NAME"] == "WX_OPENID":
            openids[member_id] = row["NEW_VALUE"]
            continue
        mapped = FIELD_MAP.get(row["FIELD_NAME"])
        if mapped is None or row["NEW_VALUE"] is None:
            continue
        name, convert = mapped
        try:
            fields.setdefault(member_id, {})[name] = convert(row["NEW_VALUE"])
        except ValueError:
            log.warning(
                "change %s: %s has an unreadable value",
                row["PK_PUB_FIELD_CHANGEHIS"],
                row["FIELD_NAME"],
            )
    return fields, openids


def _apply_batch(services, rows, counts):
    """A page in one bulk write, durable once the cursor has moved past it
    (``CustomerStore.refresh_members``)."""
    fields, openids = fold(rows)
    counts["members"] += len(fields)
    if fields:
        updated, conflicts = services.records.customers.refresh_members(fields)
        counts["updated"] += updated
        for member_id in conflicts:
            _record_conflict(services, member_id, counts)
    _notice_openid_changes(services, openids, counts)


def _apply_one_by_one(services, rows, counts):
    """The unbatched path, kept for the benchmark's comparison: one write per change
    (run with pages of one change, so the cursor is written once per change too)."""
    customers = services.records.customers
    for row in rows:
        fields, openids = fold([row])
        for member_id, values in fields.items():
            counts["members"] += 1
            try:
                counts["updated"] += customers.refresh_member(member_id, values)
            except DuplicateKeyError:
                _record_conflict(services, member_id, counts)
        _notice_openid_changes(services, openids, counts)


def _record_conflict(services, member_id, counts):
    holder = services.records.customers.bound_to_member(member_id)
    services.drift.record("mobile_conflict", holder["wechatid"] if holder else None, member_id)
    counts["drift"] += 1


def _notice_openid_changes(services, openids, counts):
    """A binding changed on the CRM side: record it for the reconciliation and for staff."""
    customers = services.records.customers
    for member_id, openid in openids.items():
        holder = customers.bound_to_member(member_id)
        if holder is None:
            if openid and not is_bound(customers.get(openid)):
                services.drift.record("crm_only", openid, member_id)
                counts["drift"] += 1
            continue
        if openid == holder["wechatid"]:
            continue
        kind = "unbound_on_crm" if not openid else "bound_elsewhere"
        services.drift.record(kind, holder["wechatid"], member_id, {"crmOpenid": openid})
        services.records.logs.append(
            holder["wechatid"], "binding_drift", {"kind": kind, "memberID": member_id}
        )
        counts["drift"] += 1
