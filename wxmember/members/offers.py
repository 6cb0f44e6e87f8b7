"""Seed 003's offers on the member system: coupons, the checkout, points redemption."""

from pymongo.database import Database

from wxmember.clock import Clock
from wxmember.members.checkout import CheckoutSettings, Quoting
from wxmember.members.checkout_commit import Checkout
from wxmember.members.coupon_grants import CouponGrants
from wxmember.members.coupons import CouponDefinitions
from wxmember.members.redemption import Redemptions
from wxmember.members.wallet import CouponWallet
from wxmember.records.logs import LogStore


def add_offers(system, database: Database, logs: LogStore, clock: Clock) -> None:
    """Build the offers onto ``system`` (a ``MemberSystem``) and make their indexes."""
    system.coupons = CouponDefinitions(database, clock, system.grades)
    system.wallet = CouponWallet(database, system.coupons, clock)
    settings = CheckoutSettings(database, clock)
    quoting = Quoting(settings, system.wallet, system.grades, system.points, system.knows, clock)
    system.checkout = Checkout(database, quoting, system.wallet, system.transactions, clock)
    system.transactions.refund_hooks.append(system.checkout.refunded)  # its coupons come back
    system.redemptions = Redemptions(database, system.ledger, system.coupons, system.wallet, clock)
    system.grants = CouponGrants(system.wallet, system.coupons, system.customers, logs, clock)
    for store in (system.coupons, system.wallet, system.checkout, system.redemptions):
        store.ensure_indexes()
