"""``wxmember/job_runs``: each run of a job, for staff (start, end, counts, error)."""

import pymongo
from bson import ObjectId

from wxmember.clock import now_ms

COLLECTION = "wxmember/job_runs"


class JobRuns:
    """Records runs and lists the latest."""

    def __init__(self, database):
        self.collection = database[COLLECTION]

    def ensure_indexes(self):
        """Newest first, overall and per job."""
        self.collection.create_index([("startedAt", -1)])
        self.collection.create_index([("job", 1), ("startedAt", -1)])

    def start(self, job, owner, trigger):
        """Record that ``job`` started; returns the run's id."""
        run_id = ObjectId()
        self.collection.insert_one(
            {
                "_id": run_id,
                "job": job,
                "owner": owner,
                "trigger": trigger,
                "state": "running",
                "startedAt": now_ms(),
                "endedAt": None,
                "counts": {},
                "error": None,
            }
        )
        return run_id

    def progress(self, run_id, done, total=None):
        """Record how far a running job is (after each batch)."""
        self.collection.update_one({"_id": run_id}, {"$set": {"done": done, "total": total}})

    def get(self, run_id):
        """One run, or None."""
        return self.collection.find_one({"_id": run_id})

    def finish(self, run_id, counts, error=None):
        """Record the end of a run with what it did, or why it failed."""
        self.collection.update_one(
            {"_id": run_id},
            {
                "$set": {
                    "state": "failed" if error else "ok",
                    "endedAt": now_ms(),
                    "counts": counts,
                    "error": error,
                }
            },
        )

    def latest(self, job=None, limit=50):
        """The newest runs, of one job or all."""
        query = {"job": job} if job else {}
        cursor = self.collection.find(query).sort("startedAt", pymongo.DESCENDING)
        return list(cursor.limit(limit))
