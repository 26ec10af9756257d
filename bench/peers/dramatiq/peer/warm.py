"""Warm mode: the meter training called in the worker's own Python (imported only when
PEER_TRAIN_MODE=warm). Everything the job imports, lazily included, is imported here once, as a warm
worker would; progress lines go to the calling task's status instead of stdout."""

from __future__ import annotations

import threading

import xgboost  # noqa: F401  the job imports it on first fit; a warm worker has it already

import jobs.common.store  # noqa: F401
import jobs.simulator.meters  # noqa: F401
from jobs.common.protocol import JobError, json_safe
from jobs.meters import train as meter_train

from .progress import Tracker

_current = threading.local()
_print_progress = meter_train.progress


def _progress(pct: float, stage: str | None = None, message: str | None = None) -> None:
    tracker = getattr(_current, "tracker", None)
    if tracker is None:
        _print_progress(pct, stage, message)
    else:
        tracker.on_progress(max(0.0, min(100.0, float(pct))), stage, message)


# train.py calls `progress` through its module globals, so this reaches every stage of every thread.
meter_train.progress = _progress


def run_training(tracker: Tracker, meter_id: str, meter_type: str, task_id: str) -> dict:
    from .tasks import JobFailed

    args = meter_train.build_parser().parse_args(
        ["--meter-id", meter_id, "--meter-type", meter_type, "--task-id", task_id])
    _current.tracker = tracker
    try:
        return json_safe(meter_train.main(args))
    except JobError as err:
        if 64 <= err.exit_code <= 78:
            raise JobFailed(f"{type(err).__name__}: {err}") from err
        raise
    finally:
        _current.tracker = None
