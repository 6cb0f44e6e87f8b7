"""Shake sweep: open draws finished — a lost CRM answer asked again, a crash's points returned."""

from wxmember.shake.recovery import ShakeRecovery


def run(context):
    """Finish the stale open draws; return counts."""
    services = context.services
    return ShakeRecovery(services.shakes, services.shake_activities).sweep()
