"""Grade coupons: members upgraded since the last run get their new grade's coupons.

The cursor (``lavico/user/lastId``, ``grade_coupons``) is the time of the newest grade
change seen; each run looks again a little before it (grants are once per member and
coupon, so a change seen twice gives nothing twice).
"""

from jobs import cursor as cursors

CURSOR_ID = "grade_coupons"
OVERLAP_MS = 10 * 60_000  # changes written out of time order by concurrent processes


def run(context):
    """Issue the coupons of upgrades since the cursor; return counts."""
    services = context.services
    since = max(0, cursors.read_cursor(services.database, CURSOR_ID) - OVERLAP_MS)
    counts, newest = services.members.grants.upgrades(since)
    if newest is not None:
        cursors.save_cursor(services.database, CURSOR_ID, newest, services.clock)
    return counts
