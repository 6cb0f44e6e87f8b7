"""The record stores of seed 000 and the platform's own bookkeeping collections."""

from dataclasses import dataclass

from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.records.coupons import CouponActivities
from wxmember.records.customers import CustomerStore
from wxmember.records.dedup import DeliveryLedger
from wxmember.records.feeds import FeedStore
from wxmember.records.logs import LogStore

__all__ = [
    "CouponActivities",
    "CustomerStore",
    "DeliveryLedger",
    "FeedStore",
    "LogStore",
    "Records",
    "open_records",
]


@dataclass
class Records:
    """All record stores over one database."""

    customers: CustomerStore
    feeds: FeedStore
    logs: LogStore
    deliveries: DeliveryLedger
    coupons: CouponActivities  # its index is made by the activities job, which writes it


def open_records(
    database: Database, dedup_ttl_s: float = 3600, clock: Clock = SYSTEM_CLOCK
) -> Records:
    """Build the stores over ``database`` and make sure their indexes exist."""
    records = Records(
        customers=CustomerStore(database, clock),
        feeds=FeedStore(database, clock),
        logs=LogStore(database, clock),
        deliveries=DeliveryLedger(database, ttl_s=dedup_ttl_s, clock=clock),
        coupons=CouponActivities(database),
    )
    for store in (records.customers, records.feeds, records.logs, records.deliveries):
        store.ensure_indexes()
    return records
