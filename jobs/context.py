"""What a job is handed when it runs."""

from dataclasses import dataclass, field


@dataclass
class JobContext:
    """The services, the lease to renew after each batch and where progress goes."""

    services: object
    lease: object
    batch_size: int = 100
    progress: object = None  # callable(done, total=None), or None
    options: dict = field(default_factory=dict)

    def batch_done(self, done, total=None):
        """Report progress and keep the lease."""
        if self.progress is not None:
            self.progress(done, total)
        self.lease.renew()
