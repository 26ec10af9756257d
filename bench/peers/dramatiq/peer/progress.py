"""A task's status as the seed tracked it: PENDING -> STARTED -> CONNECTING (5) -> FETCHING_DATA (10) ->
VALIDATING_DATA (35) -> TRAINING_MODEL (50) -> SAVING_MODEL (90) -> SUCCESS (100) | FAILED, with
started_at, updated_at and an estimated completion, written to Redis on every change."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from .broker import now_iso, write_status

# The job's progress-line stages and the seed's status names.
STAGE_STATUS = {
    "connecting": "CONNECTING",
    "fetching_data": "FETCHING_DATA",
    "validating_data": "VALIDATING_DATA",
    "training_model": "TRAINING_MODEL",
    "saving_model": "SAVING_MODEL",
}


def pending(task_id: str, meter_id: str, meter_type: str) -> dict:
    return {"task_id": task_id, "status": "PENDING", "progress": 0, "message": "Task queued for processing",
            "meter_id": meter_id, "meter_type": meter_type, "started_at": None, "updated_at": now_iso(),
            "estimated_completion": None}


class Tracker:
    """One task's status document, rewritten whole on every change."""

    def __init__(self, task_id: str, status: dict):
        self.task_id = task_id
        self.status = status
        self._t0 = time.monotonic()

    def update(self, **fields) -> None:
        self.status.update(fields, updated_at=now_iso())
        write_status(self.task_id, self.status)

    def started(self) -> None:
        self._t0 = time.monotonic()
        self.update(status="STARTED", progress=0, message="Worker picked up the task", started_at=now_iso(),
                    error=None, estimated_completion=None)

    def on_progress(self, pct: float, stage: str | None, message: str | None) -> None:
        """A progress line of the job: the seed's status for its stage, and a completion time extrapolated
        from the share done so far (the seed's "time estimates")."""
        elapsed = time.monotonic() - self._t0
        estimate = None
        if pct > 0:
            remaining = elapsed * (100.0 - pct) / pct
            estimate = (datetime.now(timezone.utc) + timedelta(seconds=remaining)).isoformat()
        self.update(status=STAGE_STATUS.get(stage or "", self.status["status"]), progress=pct,
                    message=message or self.status.get("message"), estimated_completion=estimate)

    def seconds(self) -> float:
        return time.monotonic() - self._t0
