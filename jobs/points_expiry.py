"""Points expiry: what the expiry policy says is due, oldest points first."""

from wxmember.members.ledger import ACCOUNTS


def run(context):
    """Expire due points of every member with points; return counts."""
    points = context.services.members.points
    counts = {"members": 0, "expired": 0}
    if points.expiry.spec == "never":
        return counts
    accounts = context.services.database[ACCOUNTS]
    for account in accounts.find({"points.balance": {"$gt": 0}}, {"_id": 1}):
        counts["expired"] += points.expire(account["_id"])
        counts["members"] += 1
        if counts["members"] % context.batch_size == 0:
            context.batch_done(counts["members"])
    return counts
