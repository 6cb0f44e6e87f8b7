"""Coupon expiry: every valid coupon whose time has passed becomes expired (已过期)."""


def run(context):
    """Expire due coupons; return counts."""
    return {"expired": context.services.members.wallet.expire_due()}
