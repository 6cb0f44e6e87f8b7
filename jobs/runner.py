"""Runs a job once under its lease and records the run."""

import logging

from jobs import (
    activity_pull,
    birthday_coupons,
    coupon_expiry,
    grade_coupons,
    grade_review,
    member_sync,
    outbox_delivery,
    points_expiry,
    reconcile,
    shake_sweep,
    template_messages,
    transaction_pull,
)
from jobs.context import JobContext
from jobs.lease import Lease, LeaseLost
from jobs.runs import JobRuns
from wxmember.crm import CRMError
from wxmember.scheduling import JobBusy

log = logging.getLogger(__name__)

__all__ = ["JOBS", "JobBusy", "run_job", "start_job"]

JOBS = {
    "members": member_sync.run,
    "activities": activity_pull.run,
    "reconcile": reconcile.run,
    "outbox": outbox_delivery.run,
    "transactions": transaction_pull.run,
    "grades": grade_review.run,
    "expiry": points_expiry.run,
    "shake_sweep": shake_sweep.run,
    "templates": template_messages.run,
    "coupon_expiry": coupon_expiry.run,
    "birthday_coupons": birthday_coupons.run,
    "grade_coupons": grade_coupons.run,
}


def run_job(services, name, trigger="schedule", progress=None, scheduled_every_s=None, **options):
    """Run job ``name`` now; return its run record. JobBusy when it runs elsewhere.

    ``scheduled_every_s``: a scheduled run of that interval, skipped (JobBusy) when
    another process's schedule ran the job less than half an interval ago.
    """
    lease, run_id = _begin(services, name, trigger, scheduled_every_s)
    return _execute(services, name, trigger, lease, run_id, progress, options)


def start_job(services, name, trigger="api"):
    """Start job ``name`` in the background; its run id at once. JobBusy when it runs elsewhere."""
    lease, run_id = _begin(services, name, trigger)
    services.background.submit(_execute, services, name, trigger, lease, run_id, None, {})
    return run_id


def _begin(services, name, trigger, scheduled_every_s=None):
    lease = Lease(services.database, name, services.owner, clock=services.clock)
    if not lease.acquire(scheduled_every_s):
        raise JobBusy(name)
    return lease, JobRuns(services.database, services.clock).start(name, services.owner, trigger)


def _execute(services, name, trigger, lease, run_id, progress, options):
    runs = JobRuns(services.database, services.clock)

    def report(done, total=None):
        runs.progress(run_id, done, total)
        if progress is not None:
            progress(done, total)

    batch_size = services.config["scheduler"]["batch_size"]
    context = JobContext(services, lease, batch_size, report, options)
    counts, error = {}, None
    try:
        counts = JOBS[name](context)
    except (CRMError, LeaseLost) as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.warning("job %s stopped: %s", name, error)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.exception("job %s failed", name)
    finally:
        runs.finish(run_id, counts, error)
        lease.release()
    if error is None:
        log.info("job %s (%s) done: %s", name, trigger, counts)
    return runs.get(run_id)
