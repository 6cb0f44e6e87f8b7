"""Shake sweep: draws a crash left half-way are closed and their points given back."""

from wxmember.shake import sweep_interrupted


def run(context):
    """Sweep interrupted draws; return counts."""
    services = context.services
    swept = sweep_interrupted(
        services.database, services.members.ledger, services.records.customers
    )
    return {"swept": swept}
