"""The APScheduler schedule of every job, from the ``scheduler`` section of the config."""

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from wxmember.scheduling import JobBusy
from wxmember.timeparse import SHANGHAI

log = logging.getLogger(__name__)


def scheduled(jobs, name, every_s):
    """The job function APScheduler calls: run ``name`` unless another process has it or
    just ran it (every worker schedules every job; each interval needs one run)."""
    try:
        jobs.run(name, trigger="schedule", scheduled_every_s=every_s)
    except JobBusy:
        log.debug("job %s is running elsewhere or just ran there", name)


def intervals(config):
    """``{job: seconds}`` from the config."""
    section = config["scheduler"]
    return {
        "members": section["member_sync_minutes"] * 60,
        "activities": section["activities_minutes"] * 60,
        "reconcile": section["reconcile_minutes"] * 60,
        "outbox": section["outbox_seconds"],
        "transactions": section["transactions_minutes"] * 60,
        "grades": section["grades_minutes"] * 60,
        "expiry": section["points_expiry_minutes"] * 60,
        "shake_sweep": section["shake_sweep_minutes"] * 60,
        "templates": section["template_seconds"],
        "coupon_expiry": section["coupon_expiry_minutes"] * 60,
        "birthday_coupons": section["birthday_coupons_minutes"] * 60,
        "grade_coupons": section["grade_coupons_minutes"] * 60,
    }


def build(jobs, blocking=False):
    """A scheduler with every job of ``jobs`` (a ``JobControl``) added.

    The jobs get what they need as arguments; a run more than half an interval late
    (the machine slept, the process was stopped) is dropped, the next one comes on time.
    """
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="Asia/Shanghai")
    start = datetime.now(SHANGHAI)
    for offset, (name, seconds) in enumerate(jobs.intervals().items()):
        # each job also runs once just after start, a second apart, to catch up at once
        scheduler.add_job(
            scheduled,
            "interval",
            seconds=seconds,
            args=[jobs, name, seconds],
            id=name,
            name=f"job {name}",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, seconds // 2),
            next_run_time=start + timedelta(seconds=1 + offset),
        )
    return scheduler
