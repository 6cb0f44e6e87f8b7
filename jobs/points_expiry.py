"""Points expiry: what the expiry policy says is due, oldest points first."""


def run(context):
    """Expire due points of every member with points; return counts."""
    points = context.services.members.points
    counts = {"members": 0, "expired": 0}
    if points.expiry.spec == "never":
        return counts
    for member_id in points.ledger.members_with_balance("points"):
        counts["expired"] += points.expire(member_id)
        counts["members"] += 1
        if counts["members"] % context.batch_size == 0:
            context.batch_done(counts["members"])
    return counts
