"""Simulated utility meters: `meter.<meter_type>.<meter_id>`, hourly consumption.

    from jobs.simulator.meters import known_meter, simulate_meter, backfill_meter
    known_meter("electricity", "meter_042")            # True: simulated meters need no setup
    s = simulate_meter("heat", "meter_042", start, end)  # pd.Series, hourly, UTC, deterministic per id
    backfill_meter(store, "heat", "meter_042", days=365) # writes meter.heat.meter_042 -> rows written

Rule: a meter is simulated when its type is one of METER_TYPES and its id matches `^meter_[a-z0-9_]+$`
(at most 64 characters). Its profile (size, heating share, daily shape, noise) is seeded by the type and
id only, so the same id always has the same history, whatever the simulator seed. Units: electricity and
heat kWh per hour, water and gas m3 per hour. The weather that drives heat and gas is the simulator's at
HEA_LATITUDE/HEA_LONGITUDE.

Ids that exercise a trainer's validation (still deterministic):
- containing `_short`: only the last 10 days of the requested window have readings (too little history);
- containing `_gappy`: about 20% of the hours are missing, in blocks of 6 hours;
- containing `_outlier`: about 1% of the hours read 50 times too high (a glitching register);
- containing `_flat`: a stuck meter, always 0.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from jobs.common.timeutil import now as now_utc
from jobs.common.timeutil import to_utc
from jobs.simulator import noise
from jobs.simulator.core import HOUR, Simulator

METER_TYPES = ("electricity", "heat", "water", "gas")
METER_ID_RE = re.compile(r"^meter_[a-z0-9_]{1,58}$")
UNITS = {"electricity": "kWh", "heat": "kWh", "water": "m3", "gas": "m3"}


def known_meter(meter_type: str, meter_id: str) -> bool:
    """True when the simulator serves this meter (see the module docstring for the rule)."""
    return meter_type in METER_TYPES and bool(METER_ID_RE.match(meter_id or ""))


def series_name(meter_type: str, meter_id: str) -> str:
    return f"meter.{meter_type}.{meter_id}"


def _profile(meter_type: str, meter_id: str) -> dict:
    seed = noise.stream_id(f"{meter_type}:{meter_id}")
    u = noise.uniform(seed, "profile", np.arange(8))
    return {
        "seed": seed,
        "scale": 0.4 + 2.6 * u[0],  # size of the building or household
        "heating": 0.1 + 0.5 * u[1],  # share of load that follows the cold
        "evening": 0.6 + 0.8 * u[2],  # weight of the evening peak
        "morning_hour": 6.0 + 2.0 * u[3],
        "weekend": 0.85 + 0.3 * u[4],  # offices drop at weekends, homes rise
        "noise": 0.06 + 0.12 * u[5],
    }


def simulate_meter(meter_type: str, meter_id: str, start, end) -> pd.Series:
    """Hourly readings of a simulated meter in [start, end) as a float Series with a UTC index.

    Raises ValueError for a meter that is not simulated (check `known_meter` first).
    """
    if not known_meter(meter_type, meter_id):
        raise ValueError(
            f"unknown meter {meter_type}/{meter_id}: simulated meters are of type {', '.join(METER_TYPES)} "
            "with ids matching ^meter_[a-z0-9_]+$"
        )
    sim = Simulator.from_env()
    index = sim.hourly_index(start, end)
    name = series_name(meter_type, meter_id)
    if len(index) == 0:
        return pd.Series([], index=index, dtype=float, name=name)
    p = _profile(meter_type, meter_id)
    seed = p["seed"]
    w = sim.weather(index[0] - 24 * HOUR, index[-1] + HOUR)
    # a day's running mean: buildings answer to the recent cold, not the current hour's
    temp = w["temperature"].rolling(24, min_periods=1).mean().iloc[24:].to_numpy()
    loc = index.tz_convert(sim.tz)
    lh = loc.hour.to_numpy().astype(float)
    off = loc.day_of_week.to_numpy() >= 5
    t = noise.hours_since_epoch(index)
    hk = t.astype(np.int64)
    morning = np.exp(-(((lh - p["morning_hour"]) / 1.2) ** 2))
    evening = np.exp(-(((lh - 18.5) / 2.0) ** 2))
    night = (lh < 6) | (lh >= 23)
    cold = np.maximum(0.0, 17.0 - temp) / 20.0
    if meter_type == "electricity":
        shape = 0.45 + 0.5 * morning + p["evening"] * evening - 0.2 * night
        value = p["scale"] * (shape * (1 - p["heating"]) + p["heating"] * 2.0 * cold)
    elif meter_type == "heat":
        value = p["scale"] * (3.0 * cold + 0.25 + 0.4 * morning + 0.3 * evening)
    elif meter_type == "water":
        value = 0.05 * p["scale"] * (0.05 + 1.2 * morning + p["evening"] * evening) * np.where(night, 0.15, 1.0)
    else:  # gas: heating plus cooking
        value = 0.3 * p["scale"] * (2.5 * cold + 0.1 + 0.5 * evening)
    value = value * np.where(off, p["weekend"], 1.0)
    value = value * np.exp(
        p["noise"] * noise.normal(seed, "iid", hk) + 0.05 * noise.smooth_noise(seed, "slow", t, 24.0 * 7)
    )
    value = np.round(np.maximum(value, 0.0), 4)
    if "_outlier" in meter_id:
        value = np.where(noise.uniform(seed, "outlier", hk) < 0.01, value * 50.0, value)
    if "_flat" in meter_id:
        value = np.zeros_like(value)
    out = pd.Series(value, index=index, name=name, dtype=float)
    if "_gappy" in meter_id:
        out = out[noise.uniform(seed, "gap", hk // 6) >= 0.2]
    if "_short" in meter_id:
        out = out[out.index >= index[-1] + HOUR - pd.Timedelta(days=10)]
    out.index.name = "ts"
    return out


def backfill_meter(store, meter_type: str, meter_id: str, days: int = 365, end=None) -> int:
    """Write `days` of history up to `end` (default: now, floored to the hour) into the store.

    Idempotent (upserts); returns rows written. Only hours missing after the last stored reading are
    simulated when the meter already has history, so calling it before every training is cheap.
    """
    end_ts = to_utc(end) if end is not None else now_utc().floor("h")
    start = end_ts - pd.Timedelta(days=days)
    latest = store.latest(series_name(meter_type, meter_id))
    if latest is not None and latest >= start:
        start = latest + HOUR
    if start >= end_ts:
        return 0
    return store.upsert_series(
        series_name(meter_type, meter_id), simulate_meter(meter_type, meter_id, start, end_ts), source="simulator"
    )
