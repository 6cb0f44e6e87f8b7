"""The jobs as the services expose them (``wxmember.scheduling.JobControl``)."""

from bson import ObjectId

from jobs.lease import Lease
from jobs.runner import JOBS, run_job, start_job
from jobs.runs import JobRuns
from jobs.scheduler import intervals
from wxmember.scheduling import UnknownJob


class Jobs:
    """Every job of ``jobs.runner.JOBS``, run with the services it is built with."""

    names = tuple(JOBS)

    def __init__(self, services):
        self.services = services

    def intervals(self) -> dict[str, int]:
        return intervals(self.services.config)

    def run(self, name: str, trigger: str = "cli", progress=None, **options) -> dict:
        return run_job(
            self.services, self._known(name), trigger=trigger, progress=progress, **options
        )

    def start(self, name: str, trigger: str = "api") -> ObjectId:
        return start_job(self.services, self._known(name), trigger=trigger)

    def runs(self, job: str | None = None, limit: int = 50) -> list[dict]:
        return JobRuns(self.services.database).latest(job and self._known(job), limit)

    def run_record(self, run_id: ObjectId) -> dict | None:
        return JobRuns(self.services.database).get(run_id)

    def leases(self) -> list[dict]:
        return Lease.holders(self.services.database)

    def _known(self, name):
        if name not in JOBS:
            raise UnknownJob(self.names)
        return name
