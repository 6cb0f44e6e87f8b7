"""The scheduled jobs as the core sees them: what staff can ask of them, and their refusals.

``jobs/`` implements :class:`JobControl`; the composition root hands it to the
services as ``services.jobs``, so the web layer and the CLI never import ``jobs``.
"""

from typing import Protocol

from bson import ObjectId

from wxmember.refusals import Refused


class JobBusy(Refused):
    """Another process holds the job's lease, or its schedule ran it moments ago."""

    def __init__(self, name: str):
        super().__init__("job_busy", f"{name} is running in another process")
        self.name = name


class UnknownJob(Refused):
    """No job has that name."""

    default_status = 404

    def __init__(self, names):
        super().__init__("unknown_job", f"job must be one of {', '.join(names)}")


class JobControl(Protocol):
    """Every job by name: run it, start it in the background, and what its runs did."""

    names: tuple[str, ...]

    def intervals(self) -> dict[str, int]:
        """``{job: seconds}`` between scheduled runs."""

    def run(self, name: str, trigger: str = "cli", progress=None) -> dict:
        """Run ``name`` here and now; its run record. JobBusy when it runs elsewhere."""

    def start(self, name: str, trigger: str = "api") -> ObjectId:
        """Start ``name`` in the background; its run id at once. JobBusy as ``run``."""

    def runs(self, job: str | None = None, limit: int = 50) -> list[dict]:
        """The newest runs, of one job or all."""

    def run_record(self, run_id: ObjectId) -> dict | None:
        """One run: state, progress, counts, error."""

    def leases(self) -> list[dict]:
        """Who holds each job's lease, and until when."""
