"""Write the household demand forecast (`forecast.demand`, kWh per hour) for the next --horizon-days.

    python -m jobs.demand.predict --horizon-days 2.0

Serves what the last training decided (`registry.decide`, HEA_MODELS_DIR/demand/serving.json): the champion
demand model (jobs/demand/model.py), or the naive forecaster that beat it on the holdout weeks, named
`naive:<name>` in the forecast's model column and `serving_reason` saying why. The issue covers [current hour, current hour + horizon); every hour
after the newest stored consumption is forecast directly from what is measured now; hours already measured
carry the measurement. The temperature forecast (when the model uses weather) is the newest issue made at
or before now.

A missing model is exit 66 (NoInputError, not retried) unless a naive forecaster serves: run
`demand_train --production` first.
Consumption older than HEA_DEMAND_MAX_STALE_DAYS (default 7) is exit 65.
"""

from __future__ import annotations

import time

import pandas as pd

from jobs.common import features as fc
from jobs.common import registry, timeutil
from jobs.common.metrics import naive_forecasts
from jobs.common.predicting import check_horizon, newest_hour, per_local_day
from jobs.common.protocol import DataError, parser, progress, run_main
from jobs.common.store import Store
from jobs.demand import features as df
from jobs.demand import model as dm
from jobs.demand.train import NAME

FORECAST = "forecast.demand"


def forecast(
    store, model, now: pd.Timestamp, window: pd.DatetimeIndex, forecaster: str = "model"
) -> tuple[pd.Series, pd.Timestamp]:
    """(the forecast over `window`, the newest measured hour). `forecaster` is "model" (`model`'s forecast)
    or a naive one ("yesterday", "7day", "blend": `model` may then be None), as of the newest measurement."""
    consumption = df.load_consumption(store, now - pd.Timedelta(days=40), window[-1] + fc.HOUR)
    consumption = consumption[consumption.index <= now]
    if consumption.empty:
        raise DataError("no home.consumption in the last 40 days (run consumption_data first)")
    last = newest_hour(consumption, now, "consumption", "HEA_DEMAND_MAX_STALE_DAYS")
    unknown = window[window > last]
    if not len(unknown):
        path = pd.Series([], index=unknown, dtype=float)
    elif forecaster != "model":
        path = naive_forecasts(consumption, unknown, known_until=last + fc.HOUR)[forecaster]
    else:
        # every unknown hour is forecast directly from what is measured now (no forecast fed back in)
        cutoffs = pd.DatetimeIndex([last + fc.HOUR] * len(unknown))
        weather = None
        if model.weather:
            weather, _ = dm.weather_inputs(store, unknown, issued_before=now)
        rows = dm.inputs(consumption, unknown, cutoffs, model.tz, model.occupancy, weather)
        path = pd.Series(model.predict(rows), index=unknown)
    full = pd.concat([consumption, path]).sort_index()
    return full.reindex(window).dropna(), last


def main(args) -> dict:
    t0 = time.time()
    check_horizon(args.horizon_days)
    store = Store.open()
    now = timeutil.now()
    choice = registry.serving(NAME) or {}
    if choice.get("naive"):
        # training found no model that beats the naive forecasters: none is needed to serve
        model, record, served = None, {"version": None}, choice["serving"]
    else:
        model, record = registry.load_champion(store, NAME, hint="run `python -m jobs.demand.train --production` first")
        served = f"{NAME}:{record['version']}"
    progress(10, "loading", served)
    window = fc.forecast_window(now, args.horizon_days)
    values, last = forecast(store, model, now, window, choice["forecaster"] if choice.get("naive") else "model")
    progress(80, "forecasting", f"{len(values)} hours")
    rows = store.write_forecast(FORECAST, now, values, model=served)
    return {
        "forecast": FORECAST,
        "model": NAME,
        "version": record["version"],
        "serving": served,
        "serving_reason": choice.get("reason", "the champion (no serving decision yet)"),
        "issued_at": timeutil.iso(now),
        "start": timeutil.iso(window[0]),
        "end": timeutil.iso(window[-1] + fc.HOUR),
        "rows_written": rows,
        "known_hours": int((values.index <= last).sum()),
        "predicted_hours": int((values.index > last).sum()),
        "kwh_per_day": per_local_day(values),
        "seconds": round(time.time() - t0, 2),
    }


def build_parser():
    p = parser("Write forecast.demand (kWh per hour) for the next --horizon-days with the champion model.")
    p.add_argument("--horizon-days", type=float, default=2.0)
    return p


if __name__ == "__main__":
    run_main(main, build_parser())
