"""The API (the seed's main_dramatiq.py): POST /trainmodel/ queues a training and answers its task id;
GET /trainmodel/status/{task_id} answers the status the worker keeps in Redis; /health/ and
/health/worker. Run with `uvicorn peer.api:app`."""

from __future__ import annotations

import json
import time
import uuid

import redis.asyncio as aioredis
from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel, Field

from .broker import HEARTBEATS, REDIS_URL, STATUS_TTL_SECONDS, broker, status_key
from .progress import pending
from .tasks import train_model

app = FastAPI(title="Energy Forecasting - Dramatiq Edition (bench peer)")
store = aioredis.Redis.from_url(REDIS_URL)


class TrainRequest(BaseModel):
    meter_id: str = Field(min_length=1, max_length=64)
    meter_type: str = Field(min_length=1, max_length=32)


@app.post("/trainmodel/")
async def start_training(request: TrainRequest) -> dict:
    task_id = str(uuid.uuid4())
    status = pending(task_id, request.meter_id, request.meter_type)
    await store.set(status_key(task_id), json.dumps(status), ex=STATUS_TTL_SECONDS)
    train_model.send(task_id, request.meter_id, request.meter_type)
    return {"task_id": task_id, "status": "PENDING", "progress": 0, "message": "Task queued for processing"}


@app.get("/trainmodel/status/{task_id}")
async def training_status(task_id: str) -> Response:
    raw = await store.get(status_key(task_id))
    if raw is None:
        raise HTTPException(status_code=404, detail=f"Task {task_id} not found")
    return Response(content=raw, media_type="application/json")  # stored as the JSON it is served as


@app.get("/health/")
async def health() -> dict:
    await store.ping()
    return {"status": "healthy", "redis": "connected"}


@app.get("/health/worker")
async def worker_health() -> dict:
    """Workers whose broker heartbeat (the Redis broker's own, refreshed on every fetch) is fresh; this
    API's broker beats too when it enqueues, so it is left out."""
    fresh_since = int(time.time() * 1000) - broker.heartbeat_timeout
    beats = await store.zrangebyscore(HEARTBEATS, fresh_since, "+inf")
    workers = [b.decode() for b in beats if b.decode() != broker.broker_id]
    if not workers:
        raise HTTPException(status_code=503, detail="no Dramatiq worker has a fresh heartbeat")
    return {"status": "healthy", "workers": len(workers), "worker_ids": workers}
