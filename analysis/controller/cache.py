"""What the analysis controller has observed: every AnalysisRun, and the Jobs of runs that have finished since
the run's last pass.

Runs are fed by the watch (``observe_run``) and by the controller's own status writes (``record_write``), so that
the pass after a write sees it even before the watch delivers it — otherwise that pass would measure again what
was just recorded. An event older than what is cached (by resourceVersion) does not replace it, and no copy of a
run brings it back once its DELETED event was applied (``kube.deleted_objects``).

Jobs are not stored: a Job matters only at the moment it finishes, when the measurement waiting on it can be read
at once instead of at its ``resumeAt``. So a Job event that says "finished" (Complete, Failed, or deleted) notes
the Job's name against its owner run, and the run's next pass takes the names (``take_finished_jobs``).

Objects are stored as they arrive and handed out without copying: readers must not mutate them.
"""

from __future__ import annotations

from collections.abc import Collection

from analysis.providers.job import RUN_KIND, job_finished
from analysis.runner.measurements import is_completed
from kube.deleted_objects import DeletedObjects
from kube.json_data import JsonObject
from kube.object_meta import ObjectKey, controller_reference, is_older, object_key, uid_of
from kube.watch_events import DELETED


class RunCache:
    """Observed AnalysisRuns by namespace and name, and finished Jobs not yet seen by their run's pass."""

    def __init__(self) -> None:
        self._runs: dict[ObjectKey, JsonObject] = {}
        self._finished_jobs: dict[ObjectKey, set[str]] = {}
        # What a DELETED event removed: a late answer to one of our writes must not bring it back.
        self._deleted = DeletedObjects()

    # -- runs --------------------------------------------------------------------------------------------

    def observe_run(self, event_type: str | None, run: JsonObject) -> ObjectKey | None:
        """Apply one watch event of a run (``event_type`` None for the initial listing); the run to queue."""
        key = object_key(run)
        if key is None:
            return None
        if event_type == DELETED:
            self._deleted.record(run)
            cached = self._runs.get(key)
            if cached is not None and uid_of(run) and uid_of(run) != uid_of(cached):
                return None  # the deletion of an earlier incarnation; the cached run is a newer one
            self._runs.pop(key, None)
            self._finished_jobs.pop(key, None)
            return key
        if self._deleted.is_deleted(run):
            return None  # the answer to a write that raced the deletion: the run is gone
        cached = self._runs.get(key)
        if cached is not None and is_older(run, cached):
            # A late event of a version we already hold (our own write got here first): keep the newer.
            return key
        if cached is not None and uid_of(cached) != uid_of(run):
            self._finished_jobs.pop(key, None)  # Jobs of the run of that name that was deleted
        self._runs[key] = run
        return key

    def record_write(self, run: JsonObject) -> None:
        """Apply a run as the API server returned it from our own status write."""
        self.observe_run(None, run)

    def get(self, key: ObjectKey) -> JsonObject | None:
        return self._runs.get(key)

    def run_keys(self) -> list[ObjectKey]:
        return list(self._runs)

    def __len__(self) -> int:
        return len(self._runs)

    # -- jobs --------------------------------------------------------------------------------------------

    def observe_job(self, event_type: str | None, job: JsonObject) -> ObjectKey | None:
        """Apply one watch event of a Job; the run to wake when the Job has just become worth reading.

        Only Jobs a run controls count, only while that run is cached and not complete (a completed run reads
        nothing more), and only once finished or deleted — a Job's progress in between changes nothing a pass
        would read.
        """
        owner = controller_reference(job, RUN_KIND)
        job_key = object_key(job)
        if owner is None or job_key is None:
            return None
        run_key = ObjectKey(job_key.namespace, str(owner.get("name") or ""))
        run = self._runs.get(run_key)
        if run is None or uid_of(run) != owner.get("uid") or is_completed((run.get("status") or {}).get("phase")):
            return None
        if event_type != DELETED and not job_finished(job):
            return None
        self.remember_finished_jobs(run_key, (job_key.name,))
        return run_key

    def remember_finished_jobs(self, key: ObjectKey, names: Collection[str]) -> None:
        """Note Jobs of the run at ``key`` that finished (also: hand back names a failed pass could not use)."""
        if names and key in self._runs:
            self._finished_jobs.setdefault(key, set()).update(names)

    def take_finished_jobs(self, key: ObjectKey) -> frozenset[str]:
        """The names of the run's Jobs that finished since its last pass, forgotten as they are handed out."""
        return frozenset(self._finished_jobs.pop(key, ()))
