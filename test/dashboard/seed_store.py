"""Fill a store for the dashboard's browser tests, at a fixed clock (HEA_NOW), in a few seconds.

    HEA_NOW=... HEA_STORE_URL=sqlite:////tmp/x/energy.db .venv/bin/python test/dashboard/seed_store.py

- Actuals: the simulator's backfill (what the fetch jobs write), 35 days up to now; spot prices to the end of
  today (tomorrow's are published at 13:00 local). Three simulated meters with the simulator's own faults:
  a stuck one (`_flat`), a gappy one and one with outliers, for the data-quality view.
- Forecasts: one issue a day for price, demand and solar, made at 12:00 local the day before, plus today's
  issue to the end of tomorrow. They are a made-up forecaster (a blend of the simulated actual and "same
  time yesterday", seeded noise; model "seeded-test"): training real models would take minutes. For demand
  the last five days are made worse, so the scores show a degradation.
- forecast_scores and alerts, in the layouts the accuracy step writes (docs/data-store.md): the serving
  forecaster's and both naive forecasters' realised MAE per local day, and one degradation alert.
- The battery plan: the real `rl_control` job (jobs.rl.run_production_agent) on those forecasts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from jobs.common import timeutil
from jobs.common.store import Store
from jobs.simulator.backfill import backfill_store
from jobs.simulator.core import Simulator
from jobs.simulator.meters import backfill_meter

DAYS = 35
H = pd.Timedelta(hours=1)
KINDS = {  # kind: (actual series, forecast name, serving forecaster)
    "price": ("price.spot", "forecast.price", "price:trend"),
    "demand": ("home.consumption", "forecast.demand", "demand:xgboost"),
    "solar": ("solar.production", "forecast.solar", "solar:physical"),
}
SCORES_DDL = """
CREATE TABLE IF NOT EXISTS forecast_scores (
    kind TEXT NOT NULL, forecaster TEXT NOT NULL, day TEXT NOT NULL, mae REAL, rmse REAL, n INTEGER,
    serving INTEGER NOT NULL, scored_at INTEGER NOT NULL, PRIMARY KEY (kind, forecaster, day));
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,
    message TEXT NOT NULL, data TEXT);
"""


def hourly(series: pd.Series) -> pd.Series:
    return series.resample("1h").mean().dropna()


def main() -> None:
    t0 = time.monotonic()
    now = timeutil.now()
    hour = now.floor("h")
    tz = timeutil.local_tz()
    today = now.tz_convert(tz).normalize()
    start = (today - pd.Timedelta(days=DAYS)).tz_convert("UTC")
    end_today = (today + pd.Timedelta(days=1)).tz_convert("UTC")
    end_tomorrow = (today + pd.Timedelta(days=2)).tz_convert("UTC")
    sim = Simulator.from_env()
    rng = np.random.default_rng(7)

    with Store.open() as store:
        backfill_store(store, start, hour)
        store.upsert_series("price.spot", sim.prices(hour, end_today))
        for meter_id in ("meter_main_01", "meter_flat_01", "meter_gappy_02", "meter_outlier_03"):
            backfill_meter(store, "electricity", meter_id, days=DAYS, end=hour)

        # What the forecasters would have seen: the simulated truth to the end of tomorrow.
        truth = {
            "price": hourly(sim.prices(start - pd.Timedelta(days=1), end_tomorrow)),
            "demand": sim.home(start - pd.Timedelta(days=1), end_tomorrow)["consumption"],
            "solar": sim.solar(start - pd.Timedelta(days=1), end_tomorrow),
        }
        for kind, (_, name, forecaster) in KINDS.items():
            y = truth[kind]
            yday = y.shift(24, freq="h").reindex(y.index)
            noise = rng.normal(0, 1, len(y)) * (0.08 * y.abs().mean())
            blend = 0.65 * y + 0.35 * yday.fillna(y) + noise
            if kind == "demand":  # the last five days go wrong: a degradation to see
                late = y.index >= (today - pd.Timedelta(days=5)).tz_convert("UTC")
                blend[late] = y[late].mean() + 0.25 * (y[late] - y[late].mean()) + noise[late] * 6
            if kind != "price":
                blend = blend.clip(lower=0)
            frames = []
            for day in pd.date_range(today - pd.Timedelta(days=DAYS - 1), today, freq="D"):
                issued = (day - pd.Timedelta(hours=12)).tz_convert("UTC")
                targets = blend[(blend.index >= day.tz_convert("UTC")) & (blend.index < (day + pd.Timedelta(days=1)).tz_convert("UTC"))]
                frames.append(pd.DataFrame({"issued_at": issued, "ts": targets.index, "value": targets.to_numpy()}))
            ahead = blend[(blend.index >= hour) & (blend.index < end_tomorrow)]
            frames.append(pd.DataFrame({"issued_at": hour, "ts": ahead.index, "value": ahead.to_numpy()}))
            store.write_forecasts(name, pd.concat(frames, ignore_index=True), model=f"{forecaster} (seeded-test)")
            store.conn.executescript(SCORES_DDL)
            scores = []
            for day in pd.date_range(today - pd.Timedelta(days=30), today - pd.Timedelta(days=1), freq="D"):
                lo, hi = day.tz_convert("UTC"), (day + pd.Timedelta(days=1)).tz_convert("UTC")
                actual = y[(y.index >= lo) & (y.index < hi)]
                for who, pred, serving in (
                    (forecaster, blend, 1),
                    ("naive:yesterday", yday, 0),
                    ("naive:7day", sum(y.shift(24 * k, freq="h").reindex(y.index) for k in range(1, 8)) / 7, 0),
                ):
                    err = (pred.reindex(actual.index) - actual).dropna()
                    scores.append((kind, who, day.strftime("%Y-%m-%d"), float(err.abs().mean()),
                                   float(np.sqrt((err ** 2).mean())), int(len(err)), serving, int(hour.timestamp())))
            with store._tx() as conn:  # one commit, not one per row
                conn.executemany("INSERT OR REPLACE INTO forecast_scores VALUES (?,?,?,?,?,?,?,?)", scores)
        alert_day = today - pd.Timedelta(days=1)
        store.conn.execute(
            "INSERT INTO alerts (at, kind, subject, message, data) VALUES (?,?,?,?,?)",
            (int((alert_day + pd.Timedelta(hours=7)).timestamp()), "degradation", "demand",
             "demand:xgboost's 7-day MAE is worse than naive:7day's: retraining early",
             json.dumps({"kind": "demand", "forecaster": "demand:xgboost", "day": alert_day.strftime("%Y-%m-%d")})),
        )

    plan = subprocess.run([sys.executable, "-m", "jobs.rl.run_production_agent"], capture_output=True, text=True,
                          env=os.environ.copy())
    if plan.returncode != 0:
        sys.stderr.write(plan.stdout + plan.stderr)
        raise SystemExit(f"rl_control failed with exit code {plan.returncode}")
    print(json.dumps({"seconds": round(time.monotonic() - t0, 2), "now": timeutil.iso(now)}))


if __name__ == "__main__":
    main()
