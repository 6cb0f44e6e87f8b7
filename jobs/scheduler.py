"""The APScheduler schedule of every job, from the ``scheduler`` section of the config."""

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from jobs.runner import JobBusy, run_job
from wxmember.timeparse import SHANGHAI

log = logging.getLogger(__name__)

_services = None  # set by start(): APScheduler job arguments stay plain names


def scheduled(name):
    """The job function APScheduler calls: run ``name`` unless another process has it or
    just ran it (every worker schedules every job; each interval needs one run)."""
    try:
        every_s = intervals(_services.config)[name]
        run_job(_services, name, trigger="schedule", scheduled_every_s=every_s)
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
    }


def build(services, blocking=False):
    """A scheduler with every job added (explicit ids, replace_existing)."""
    global _services
    _services = services
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="Asia/Shanghai")
    start = datetime.now(SHANGHAI)
    for offset, (name, seconds) in enumerate(intervals(services.config).items()):
        # each job also runs once just after start, a second apart, to catch up at once
        scheduler.add_job(
            scheduled,
            "interval",
            seconds=seconds,
            args=[name],
            id=name,
            name=f"job {name}",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=start + timedelta(seconds=1 + offset),
        )
    return scheduler
