"""The Redis broker and the task status store, shared by the API and the workers (the seed's
dramatiq_broker.py and its Redis-kept progress).

A task's status is one JSON document under `peer:task:<id>` with a day's expiry, written whole on every
change: the API writes PENDING, the worker every later state. REDIS_URL as in the seed.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
STATUS_TTL_SECONDS = 24 * 3600
HEARTBEATS = "dramatiq:__heartbeats__"  # the Redis broker's own worker heartbeats (dispatch.lua)

broker = RedisBroker(url=REDIS_URL)
dramatiq.set_broker(broker)
client = redis.Redis.from_url(REDIS_URL)


def status_key(task_id: str) -> str:
    return f"peer:task:{task_id}"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def write_status(task_id: str, status: dict) -> None:
    client.set(status_key(task_id), json.dumps(status), ex=STATUS_TTL_SECONDS)


def read_status(task_id: str) -> dict | None:
    raw = client.get(status_key(task_id))
    return json.loads(raw) if raw else None
