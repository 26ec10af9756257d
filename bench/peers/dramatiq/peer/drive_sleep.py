"""Throughput probe: enqueue N `sleep_job`s and wait for all of them; prints one JSON line.

    python -m peer.drive_sleep --jobs 1000 --seconds 0.1
"""

from __future__ import annotations

import argparse
import json
import time
import uuid

from .broker import client
from .tasks import sleep_job


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--jobs", type=int, required=True)
    p.add_argument("--seconds", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=600.0, help="give up when no job finishes for this long")
    args = p.parse_args()
    done_key = f"peer:sleep:{uuid.uuid4()}"
    t0 = time.perf_counter()
    for _ in range(args.jobs):
        sleep_job.send(args.seconds, done_key)
    enqueued = time.perf_counter() - t0
    finished, last = 0, time.monotonic()
    while finished < args.jobs:
        # Short waits: redis-py's socket timeout must not fire during a blocking pop.
        if client.blpop([done_key], timeout=1) is not None:
            finished, last = finished + 1, time.monotonic()
        elif time.monotonic() - last > args.timeout:
            raise SystemExit(f"only {finished} of {args.jobs} sleep jobs finished; none in the last {args.timeout} s")
    wall = time.perf_counter() - t0
    print(json.dumps({"jobs": args.jobs, "wall_seconds": round(wall, 3), "enqueue_seconds": round(enqueued, 3),
                      "per_second": round(args.jobs / wall, 2)}))


if __name__ == "__main__":
    main()
