"""Coupon activity pull: the CRM's coupon activities into ``lavico/activity`` (seed 000).

Activities are upserted by ``promotion_code``; one the CRM no longer lists is kept
(shake records point at it) but marked ``active: false``.
"""


def _activity(row, pulled_at):
    return {
        "promotion_code": row["PROMOTION_CODE"],
        "promotion_name": row.get("PROMOTION_NAME", ""),
        "promotion_desc": row.get("PROMOTION_DESC", ""),
        "promotion_qty": row.get("QTY"),
        "type": row.get("TYPE"),
        "type_code": row.get("TYPE_CODE"),
        "total": row.get("TOTAL"),
        "used": row.get("USED"),
        "active": True,
        "pulledAt": pulled_at,
    }


def run(context):
    """Pull every page of activities; return counts."""
    services = context.services
    coupons = services.records.coupons
    coupons.ensure_indexes()
    started = services.clock.now_ms()
    counts = {"activities": 0, "pages": 0, "retired": 0}
    page, total = 1, None
    while total is None or (page - 1) * context.batch_size < total:
        rows, total = services.crm.promotions(page, context.batch_size)
        rows = [row for row in rows if isinstance(row, dict) and row.get("PROMOTION_CODE")]
        if not rows:
            break
        coupons.store([_activity(row, started) for row in rows])
        counts["activities"] += len(rows)
        counts["pages"] += 1
        context.batch_done(counts["activities"], total)
        page += 1
    counts["retired"] = coupons.retire_older_than(started)
    return counts
