"""Birthday coupons: each bound member born this month gets this year's birthday coupons."""


def run(context):
    """Issue the month's birthday coupons, a page of members at a time; return counts."""
    grants = context.services.members.grants
    return grants.birthdays(context.batch_size, context.batch_done)
