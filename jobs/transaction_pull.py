"""Transaction pull: the CRM's store transactions since the cursor, each applied once.

The cursor (``lavico/user/lastId``, ``_id: "transactions"``) moves after each page
is applied; a transaction is applied once per form id however often it arrives,
so a page repeated after a crash counts once. A member's CRM points become an
opening row before the first transaction of that member is applied.
"""

import logging

from jobs.cursor import follow_feed
from wxmember.members.transactions import InvalidTransaction, parse

log = logging.getLogger(__name__)

CURSOR_ID = "transactions"
TYPES = {"01": "purchase", "02": "recharge", "03": "refund"}


def to_transaction(row):
    """The API shape of a CRM transaction row."""
    return {
        "formId": row.get("FORM_ID"),
        "memberID": row.get("MEMBER_ID"),
        "type": TYPES.get(row.get("TYPE")),
        "amount": row.get("AMT"),
        "refundOf": row.get("REFUND_OF"),
        "items": [
            {"productId": i.get("GOODSNO"), "amount": i.get("AMT")} for i in row.get("ITEMS") or []
        ]
        or None,
        "pointsSpent": row.get("POINT_USED") or 0,
        "balancePaid": row.get("BALANCE_USED") or 0,
    }


def run(context):
    """Pull and apply every transaction after the cursor; return counts."""
    services = context.services
    members = services.members
    counts = {"transactions": 0, "applied": 0, "refused": 0, "pages": 0}
    pages = follow_feed(
        services.database,
        CURSOR_ID,
        services.crm.transactions,
        "PK_TRANSACTION",
        context.batch_size,
        services.clock,
    )
    for rows in pages:
        for row in rows:
            counts["applied" if _apply(members, row) else "refused"] += 1
        counts["transactions"] += len(rows)
        counts["pages"] += 1
        context.batch_done(counts["transactions"])
    return counts


def _apply(members, row):
    try:
        tx = parse(to_transaction(row))
        members.points.open_from_crm(tx["memberID"])
        members.transactions.apply(tx)
    except InvalidTransaction as refused:
        log.warning("CRM transaction %s not applied: %s", row.get("PK_TRANSACTION"), refused.code)
        return False
    return True
