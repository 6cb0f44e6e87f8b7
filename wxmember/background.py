"""Work done after the answer: a small thread pool whose failures are logged, never raised."""

import logging
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)


class Background:
    """``submit(fn, *args)`` runs ``fn`` on a worker thread and returns its future."""

    def __init__(self, workers=4):
        self.executor = ThreadPoolExecutor(workers, "background")

    def submit(self, fn, *args):
        """Run ``fn(*args)`` later; an exception is logged with its traceback.

        Work handed in while the pool shuts down (a task queueing a follow-up)
        runs at once in the caller's thread instead of being lost.
        """
        try:
            return self.executor.submit(self._run, fn, args)
        except RuntimeError:
            future = Future()
            future.set_result(self._run(fn, args))
            return future

    @staticmethod
    def _run(fn, args):
        try:
            return fn(*args)
        except Exception:
            log.exception("background task %s failed", getattr(fn, "__qualname__", fn))
            return None

    def shutdown(self):
        """Let queued work finish and stop the pool."""
        self.executor.shutdown(wait=True)
