"""Coupon expiry: every valid coupon whose time has passed becomes expired (已过期); and
checkouts a crash left pending are completed (their coupons were used: the purchase is
recorded, or the coupons come back)."""


def run(context):
    """Expire due coupons, finish left checkouts; return counts."""
    members = context.services.members
    counts = {"expired": members.wallet.expire_due()}
    counts.update(members.checkout.finish_pending())
    return counts
