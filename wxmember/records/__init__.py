"""The record stores of seed 000 and the platform's own bookkeeping collections."""

from dataclasses import dataclass

from wxmember.records.customers import CustomerStore
from wxmember.records.dedup import DeliveryLedger
from wxmember.records.feeds import FeedStore
from wxmember.records.logs import LogStore

__all__ = ["CustomerStore", "DeliveryLedger", "FeedStore", "LogStore", "Records", "open_records"]


@dataclass
class Records:
    """All record stores over one database."""

    customers: CustomerStore
    feeds: FeedStore
    logs: LogStore
    deliveries: DeliveryLedger


def open_records(database, dedup_ttl_s=3600):
    """Build the stores over ``database`` and make sure their indexes exist."""
    records = Records(
        customers=CustomerStore(database),
        feeds=FeedStore(database),
        logs=LogStore(database),
        deliveries=DeliveryLedger(database, ttl_s=dedup_ttl_s),
    )
    for store in (records.customers, records.feeds, records.logs, records.deliveries):
        store.ensure_indexes()
    return records
