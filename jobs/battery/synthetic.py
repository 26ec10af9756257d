"""A small seeded hourly (spot, load, pv) frame for unit tests of the battery code.

The project's simulator (jobs/simulator) is the data source for jobs and the benchmark; this generator only
exists so the battery package's tests need no store: morning and evening price peaks, a midday PV dip
(negative on some sunny days), load with the same peaks, PV with day-to-day cloudiness.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_frame(days: int = 14, seed: int = 0, start: str = "2025-05-01", negative_days: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=24 * days, freq="h")
    hour = idx.tz_convert("Europe/Stockholm").hour.to_numpy()
    day = np.arange(len(idx)) // 24
    peaks = np.exp(-0.5 * ((hour - 8) / 1.5) ** 2) + 1.2 * np.exp(-0.5 * ((hour - 18) / 2.0) ** 2)
    sun = np.clip(np.sin(np.pi * (hour - 5) / 15.0), 0, None)
    level = 50 + 25 * rng.standard_normal(days).cumsum() / np.sqrt(days)
    cloud = rng.uniform(0.1, 1.0, days)
    noise = np.zeros(len(idx))
    for i in range(1, len(idx)):  # AR(1): prices drift within the day, not white noise
        noise[i] = 0.8 * noise[i - 1] + 6 * rng.standard_normal()
    spot = level[day] + 60 * peaks - 30 * sun * (1 - cloud[day]) + noise
    neg = rng.uniform(size=days) < negative_days
    spot = np.where(neg[day] & (sun > 0.6), -np.abs(spot) * 0.3 - 5, spot)
    pv = 6.0 * 0.75 * sun * (1 - 0.8 * cloud[day]) * rng.uniform(0.85, 1.0, len(idx))
    load = 0.5 + 1.2 * peaks + rng.gamma(2.0, 0.15, len(idx))
    return pd.DataFrame({"spot": spot, "load": load, "pv": pv}, index=idx)
