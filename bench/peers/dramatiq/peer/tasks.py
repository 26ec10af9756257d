"""The actors (the seed's task_system.py): `train_model`, the meter training behind POST /trainmodel/, and
`sleep_job`, a `sleep` subprocess for the throughput comparison.

PEER_TRAIN_MODE (worker environment) says how a training runs:
- subprocess (default): `<project .venv>/bin/python -m jobs.meters.train --meter-id .. --meter-type ..
  --task-id ..` in the project root, exactly the command and arguments of our meter_train job; its progress
  lines become the task's status;
- warm: `jobs.meters.train.main` called in this worker's own Python, the libraries imported once at start.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading

import dramatiq

from .broker import client, read_status
from .progress import Tracker, pending

REPO_ROOT = os.environ.get("HEA_REPO_ROOT", os.getcwd())
JOB_PYTHON = os.environ.get("HEA_JOB_PYTHON", os.path.join(REPO_ROOT, ".venv", "bin", "python"))
MODE = os.environ.get("PEER_TRAIN_MODE", "subprocess")
if MODE not in ("subprocess", "warm"):
    sys.exit(f"PEER_TRAIN_MODE must be subprocess or warm, got {MODE!r}")


class JobFailed(Exception):
    """The job refused its input (exit codes 64-78 of the job protocol): retrying will not help."""


def run_subprocess(tracker: Tracker, meter_id: str, meter_type: str, task_id: str) -> dict:
    argv = [JOB_PYTHON, "-m", "jobs.meters.train", "--meter-id", meter_id, "--meter-type", meter_type,
            "--task-id", task_id]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PEER_TRAIN_MODE")}
    proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)
    stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
    reader = threading.Thread(target=stderr_tail.extend, args=(proc.stderr,), daemon=True)
    reader.start()
    result = None
    try:
        for line in proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue  # a log line
            if "result" in msg:
                result = msg["result"]
            elif "progress" in msg:
                tracker.on_progress(float(msg["progress"]), msg.get("stage"), msg.get("message"))
        code = proc.wait()
    finally:
        if proc.poll() is None:  # the time limit interrupted us: the job goes too
            proc.kill()
            proc.wait()
    reader.join(timeout=5)
    if code != 0:
        why = stderr_tail[-1].strip() if stderr_tail else f"exit code {code}"
        if 64 <= code <= 78:
            raise JobFailed(why)
        raise RuntimeError(f"the training job exited with {code}: {why}")
    return result or {}


if MODE == "warm":
    from . import warm

    run_training = warm.run_training
else:
    run_training = run_subprocess


@dramatiq.actor(queue_name="training", max_retries=2, time_limit=3_600_000, throws=(JobFailed,))
def train_model(task_id: str, meter_id: str, meter_type: str) -> None:
    tracker = Tracker(task_id, read_status(task_id) or pending(task_id, meter_id, meter_type))
    tracker.started()
    try:
        result = run_training(tracker, meter_id, meter_type, task_id)
    except BaseException as err:
        tracker.update(status="FAILED", error={"type": type(err).__name__, "message": str(err)},
                       message=f"Training failed: {err}", job_seconds=round(tracker.seconds(), 3))
        raise
    tracker.update(status="SUCCESS", progress=100, message="Model training completed successfully!",
                   result=result, job_seconds=round(tracker.seconds(), 3), mode=MODE, estimated_completion=None)


@dramatiq.actor(queue_name="sleep", max_retries=0)
def sleep_job(seconds: float, done_key: str) -> None:
    subprocess.run(["sleep", str(seconds)], check=True, stdin=subprocess.DEVNULL)
    client.rpush(done_key, "1")
