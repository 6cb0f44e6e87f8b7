"""Outbox delivery: notifications the CRM did not take yet, in order per member."""


def run(context):
    """Deliver what is due; return counts."""
    counts = context.services.outbox.deliver()
    context.batch_done(counts["delivered"])
    return counts
