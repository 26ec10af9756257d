"""Write the household demand forecast (`forecast.demand`, kWh per hour) for the next --horizon-days.

    python -m jobs.demand.predict --horizon-days 2.0

Uses the champion demand model (jobs/demand/model.py; its `serving` forecaster: the model or the naive
forecaster that beat it on the holdout). The issue covers [current hour, current hour + horizon); every hour
after the newest stored consumption is forecast directly from what is measured now; hours already measured
carry the measurement. The temperature forecast (when the model uses weather) is the newest issue made at
or before now.

A missing model is exit 66 (NoInputError, not retried): run `demand_train --production` first.
Consumption older than HEA_DEMAND_MAX_STALE_DAYS (default 7) is exit 65.
"""

from __future__ import annotations

import time

import pandas as pd

from jobs.common import features as fc
from jobs.common import registry, settings, timeutil
from jobs.common.protocol import DataError, UsageError, parser, progress, run_main
from jobs.common.store import Store
from jobs.demand import features as df
from jobs.demand import model as dm
from jobs.demand.train import NAME

FORECAST = "forecast.demand"


def forecast(store, model, now: pd.Timestamp, window: pd.DatetimeIndex,
             forecaster: str | None = None) -> tuple[pd.Series, pd.Timestamp]:
    """(the forecast over `window`, the newest measured hour). `forecaster` ("model", "naive_7day", ...)
    overrides what serves, e.g. for a benchmark that scores the model itself."""
    consumption = df.load_consumption(store, now - pd.Timedelta(days=40), window[-1] + fc.HOUR)
    consumption = consumption[consumption.index <= now]
    if consumption.empty:
        raise DataError("no home.consumption in the last 40 days (run consumption_data first)")
    last = consumption.index.max()
    stale = settings.env_float("HEA_DEMAND_MAX_STALE_DAYS", 7.0)
    if now - last > pd.Timedelta(days=stale):
        raise DataError(f"the newest consumption is from {timeutil.iso(last)}, more than {stale:g} days ago")
    unknown = window[window > last]
    if len(unknown):
        # every unknown hour is forecast directly from what is measured now (no forecast fed back in)
        cutoffs = pd.DatetimeIndex([last + fc.HOUR] * len(unknown))
        weather = None
        if model.weather:
            weather, _ = dm.weather_inputs(store, unknown, issued_before=now)
        rows = dm.inputs(consumption, unknown, cutoffs, model.tz, model.occupancy, weather)
        if forecaster is None:
            values = model.predict(rows)
        else:
            values = model.forecasts(rows)[forecaster]
        path = pd.Series(values, index=unknown)
    else:
        path = pd.Series([], index=unknown, dtype=float)
    full = pd.concat([consumption, path]).sort_index()
    return full.reindex(window).dropna(), last


def main(args) -> dict:
    t0 = time.time()
    if not args.horizon_days > 0:
        raise UsageError("--horizon-days must be positive")
    store = Store.open()
    now = timeutil.now()
    model, record = registry.load_champion(store, NAME, hint="run `python -m jobs.demand.train --production` first")
    progress(10, "loading", f"{NAME} version {record['version']}")
    window = fc.forecast_window(now, args.horizon_days)
    values, last = forecast(store, model, now, window)
    progress(80, "forecasting", f"{len(values)} hours")
    serving = getattr(model, "serving", "model")
    rows = store.write_forecast(FORECAST, now, values, model=f"{NAME}:{record['version']}")
    tz = timeutil.local_tz()
    per_day = values.groupby(values.index.tz_convert(tz).date).sum()
    return {
        "forecast": FORECAST,
        "model": NAME,
        "version": record["version"],
        "serving": serving,
        "issued_at": timeutil.iso(now),
        "start": timeutil.iso(window[0]),
        "end": timeutil.iso(window[-1] + fc.HOUR),
        "rows_written": rows,
        "known_hours": int((values.index <= last).sum()),
        "predicted_hours": int((values.index > last).sum()),
        "kwh_per_day": {str(d): round(float(v), 2) for d, v in per_day.items()},
        "seconds": round(time.time() - t0, 2),
    }


def build_parser():
    p = parser("Write forecast.demand (kWh per hour) for the next --horizon-days with the champion model.")
    p.add_argument("--horizon-days", type=float, default=2.0)
    return p


if __name__ == "__main__":
    run_main(main, build_parser())
