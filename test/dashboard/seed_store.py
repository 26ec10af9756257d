"""Fill a store for the dashboard's browser tests, at a fixed clock (HEA_NOW), in a few seconds.

    HEA_NOW=... HEA_STORE_URL=sqlite:////tmp/x/energy.db .venv/bin/python test/dashboard/seed_store.py

- Actuals: the simulator's backfill (what the fetch jobs write), 35 days up to now; spot prices to the end of
  today (tomorrow's are published at 13:00 local). Three simulated meters with the simulator's own faults:
  a stuck one (`_flat`), a gappy one and one with outliers, for the data-quality view.
- Forecasts: one issue a day for price, demand and solar, made at 12:00 local the day before, plus today's
  issue to the end of tomorrow. They are a made-up forecaster (a blend of the simulated actual and "same
  time yesterday", seeded noise; model "seeded-test"): training real models would take minutes. For demand
  the last five days are made worse, so the scores show a degradation.
- forecast_scores: the real scoring step (jobs.accuracy.score) for each of the last 30 days; one
  degradation alert in the `alerts` table, as the accuracy workflow records it.
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

from jobs.accuracy import score
from jobs.common import timeutil
from jobs.common.store import Store
from jobs.simulator.backfill import backfill_store
from jobs.simulator.core import Simulator
from jobs.simulator.meters import backfill_meter

DAYS = 35
H = pd.Timedelta(hours=1)
KINDS = {  # kind: (actual series, forecast name, serving forecaster)
    "price": ("price.spot", "forecast.price", "price_trend"),
    "demand": ("home.consumption", "forecast.demand", "demand_model"),
    "solar": ("solar.production", "forecast.solar", "solar_model"),
}
ALERTS_DDL = """
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
            store.write_forecasts(name, pd.concat(frames, ignore_index=True), model=f"{forecaster}:seeded-test")
        alert_day = today - pd.Timedelta(days=1)
        store.conn.executescript(ALERTS_DDL)
        store.conn.execute(
            "INSERT INTO alerts (at, kind, subject, message, data) VALUES (?,?,?,?,?)",
            (int((alert_day + pd.Timedelta(hours=7)).timestamp()), "degradation", "degradation: demand model demand_model",
             "demand_model seeded-test: 7-day MAE worse than naive_7day's: retraining early",
             json.dumps({"kind": "demand", "serving": "demand_model", "delivery": "no-webhook"})),
        )

    # The real scoring step (job accuracy_score), in-process: one local day at a time, the last 30 days.
    for day in pd.date_range(today - pd.Timedelta(days=30), today - pd.Timedelta(days=1), freq="D"):
        score.main(score.build_parser().parse_args(["--day", day.strftime("%Y-%m-%d")]))

    plan = subprocess.run([sys.executable, "-m", "jobs.rl.run_production_agent"], capture_output=True, text=True,
                          env=os.environ.copy())
    if plan.returncode != 0:
        sys.stderr.write(plan.stdout + plan.stderr)
        raise SystemExit(f"rl_control failed with exit code {plan.returncode}")
    print(json.dumps({"seconds": round(time.monotonic() - t0, 2), "now": timeutil.iso(now)}))


if __name__ == "__main__":
    main()
