"""``wxmember/job_runs``: each run of a job, for staff (start, end, counts, error)."""

import pymongo
from bson import ObjectId
from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import JOB_RUNS


class JobRuns:
    """Records runs and lists the latest."""

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.collection = database[JOB_RUNS]
        self.clock = clock

    def ensure_indexes(self) -> None:
        """Newest first, overall and per job."""
        self.collection.create_index([("startedAt", -1)])
        self.collection.create_index([("job", 1), ("startedAt", -1)])

    def start(self, job: str, owner: str, trigger: str) -> ObjectId:
        """Record that ``job`` started; returns the run's id."""
        run_id = ObjectId()
        self.collection.insert_one(
            {
                "_id": run_id,
                "job": job,
                "owner": owner,
                "trigger": trigger,
                "state": "running",
                "startedAt": self.clock.now_ms(),
                "endedAt": None,
                "counts": {},
                "error": None,
            }
        )
        return run_id

    def progress(self, run_id: ObjectId, done: int, total: int | None = None) -> None:
        """Record how far a running job is (after each batch)."""
        self.collection.update_one({"_id": run_id}, {"$set": {"done": done, "total": total}})

    def get(self, run_id: ObjectId) -> dict | None:
        """One run, or None."""
        return self.collection.find_one({"_id": run_id})

    def finish(self, run_id: ObjectId, counts: dict, error: str | None = None) -> None:
        """Record the end of a run with what it did, or why it failed."""
        self.collection.update_one(
            {"_id": run_id},
            {
                "$set": {
                    "state": "failed" if error else "ok",
                    "endedAt": self.clock.now_ms(),
                    "counts": counts,
                    "error": error,
                }
            },
        )

    def latest(self, job: str | None = None, limit: int = 50) -> list[dict]:
        """The newest runs, of one job or all."""
        query = {"job": job} if job else {}
        cursor = self.collection.find(query).sort("startedAt", pymongo.DESCENDING)
        return list(cursor.limit(limit))
