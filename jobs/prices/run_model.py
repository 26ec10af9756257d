"""Write price forecasts for the next hours with the champion price model.

    python -m jobs.prices.run_model --model trend|peak|valley --horizon-days 2.0

Forecasts one issue (issued_at = now, or HEA_NOW) covering [current hour, current hour + horizon), hourly:
- trend  -> `forecast.price` (EUR/MWh). Hours whose day-ahead price is already published (stored in
  price.spot) carry that price; the rest are the forecast of what serves (HEA_MODELS_DIR/price_trend/
  serving.json, decided by training: the champion model, or a naive forecaster when the model did worse
  on the recent windows; `serving` and `serving_reason` in the result, and the issue's model column),
  day by day, each day's lags fed by the previous day's forecast.
- peak   -> `forecast.price.peak`: probability that the hour is among its local day's HEA_PEAK_HOURS dearest.
- valley -> `forecast.price.valley`: the same for the HEA_VALLEY_HOURS cheapest.
  On local days whose prices are all published, peak/valley are the exact 0/1 answer (over the whole day,
  so some of the day's k hours may already be past); the result lists each day's picked hours in the
  window (`hours`, local time), the model's k most probable among the window's hours on other days.
  The peak/valley features need a price path for the unknown hours: the trend champion's forecast if there
  is one, else the 7-day same-slot average.

A missing model is exit 66 (NoInputError, not retried): run `prices_train --model M --production` first.
Stale prices (nothing in the last HEA_PRICE_MAX_STALE_DAYS, default 7) are exit 65.
"""

from __future__ import annotations

import time

import pandas as pd

from jobs.common import features as fc
from jobs.common import registry, timeutil
from jobs.common.metrics import local_days, naive_forecasts, top_k_per_day
from jobs.common.predicting import check_horizon, newest_hour
from jobs.common.protocol import DataError, NoInputError, parser, progress, run_main
from jobs.common.store import Store
from jobs.prices import features as pf


def price_path(prices: pd.Series, target: pd.DatetimeIndex, exo, model=None) -> pd.Series:
    """Prices for `target` hours beyond the known ones: the model's recursive forecast, or seasonal naive."""
    if model is not None and hasattr(model, "forecast"):  # a day-by-day model (jobs/prices/lear.py)
        return model.forecast(prices, target).reindex(target)
    if model is not None:

        def predict_block(ext, block):
            return model.predict(pf.build_frame(ext, block, exo))

        return fc.recursive_forecast(prices, target, predict_block)

    def naive_block(ext, block):
        return fc.lag_features(ext, block, "p")["p_slot7_mean"].to_numpy()

    return fc.recursive_forecast(prices, target, naive_block)


def main(args) -> dict:
    t0 = time.time()
    check_horizon(args.horizon_days)
    store = Store.open()
    now = timeutil.now()
    name = pf.REGISTRY_NAMES[args.model]
    choice = (registry.serving(name) or {}) if args.model == "trend" else {}
    if choice.get("naive"):
        # training found no model that beats the naive forecasters: no model is needed to serve
        model, record = None, {"version": None}
    else:
        model, record = registry.load_champion(
            store, name, hint=f"run `python -m jobs.prices.train --model {args.model} --production` first"
        )
    progress(10, "loading", f"{name} version {record['version']}")

    window = fc.forecast_window(now, args.horizon_days)
    prices = pf.load_prices(store, now - pd.Timedelta(days=30), now + pd.Timedelta(days=args.horizon_days + 2))
    prices = prices[prices.index <= window[-1]]
    if prices.empty:
        raise DataError("no spot prices in the last 30 days (run prices_data first)")
    last = newest_hour(prices, now, "spot price", "HEA_PRICE_MAX_STALE_DAYS")

    unknown = pd.date_range(last + fc.HOUR, window[-1], freq="h") if last < window[-1] else window[:0]
    exo = pf.Exogenous(store, window[0] - pd.Timedelta(days=10), window[-1] + fc.HOUR, issued_before=now)
    progress(40, "forecasting", f"{len(unknown)} unknown hours, {len(window)} hours in the window")

    if args.model == "trend":
        if choice.get("naive"):
            # the model did worse than a naive forecaster on the last windows: serve that one, and say so
            path = naive_forecasts(prices, unknown, known_until=last + fc.HOUR)[choice["forecaster"]]
            served = choice["serving"]
        else:
            path = price_path(prices, unknown, exo, model)
            served = f"{name}:{record['version']}"
        full = pd.concat([prices, path]).sort_index()
        values = full.reindex(window)
        extra = {
            "min": float(values.min()),
            "max": float(values.max()),
            "mean": float(values.mean()),
            "serving": served,
            "serving_reason": choice.get("reason", "the champion (no serving decision yet)"),
        }
    else:
        try:
            trend, _ = registry.load_champion(store, pf.REGISTRY_NAMES["trend"])
        except NoInputError:  # no trend model yet: the 7-day same-slot average stands in (said in the result)
            trend = None
        path = price_path(prices, unknown, exo, trend)
        full = pd.concat([prices, path]).sort_index()
        prob = pd.Series(model.predict(pf.build_frame(full, window, exo)), index=window)
        tz = timeutil.local_tz()
        largest = args.model == "peak"
        k = pf.peak_hours() if largest else pf.valley_hours()
        picked = top_k_per_day(prob, k, tz)  # among the window's hours of each day
        days = pd.Series(local_days(window, tz), index=window)
        exact_days = []
        for day in days.unique():
            start, end = timeutil.local_day_bounds(day, tz)
            hours = window[(window >= start) & (window < end)]
            if end - fc.HOUR <= last and len(hours):
                # the day's prices are all published: the exact answer, over the whole day
                day_prices = prices[(prices.index >= start) & (prices.index < end)]
                exact = top_k_per_day(day_prices, k, tz, largest=largest).reindex(hours, fill_value=False)
                prob.loc[hours] = exact.astype(float).to_numpy()
                picked.loc[hours] = exact.to_numpy()
                exact_days.append(str(day))
        values = prob
        extra = {
            "k_hours": k,
            "exact_days": exact_days,
            "hours": {
                str(day): [t.tz_convert(tz).strftime("%H:%M") for t in window[(picked & (days == day)).to_numpy()]]
                for day in days.unique()
            },
        }
        extra["price_path"] = "trend model" if trend is not None else "7-day same-slot average"

    values = values.dropna()
    forecast_name = pf.FORECAST_NAMES[args.model]
    rows = store.write_forecast(forecast_name, now, values, model=extra.get("serving", f"{name}:{record['version']}"))
    progress(95, "written", f"{rows} rows of {forecast_name}")
    return {
        "forecast": forecast_name,
        "model": name,
        "version": record["version"],
        "issued_at": timeutil.iso(now),
        "start": timeutil.iso(window[0]),
        "end": timeutil.iso(window[-1] + fc.HOUR),
        "rows_written": rows,
        "known_hours": int((window <= last).sum()),
        "predicted_hours": int((window > last).sum()),
        **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in extra.items()},
        "seconds": round(time.time() - t0, 2),
    }


def build_parser():
    p = parser("Write price forecasts (forecast.price, .peak, .valley) for the next --horizon-days.")
    p.add_argument("--model", choices=pf.MODELS, default="trend")
    p.add_argument("--horizon-days", type=float, default=2.0)
    return p


if __name__ == "__main__":
    run_main(main, build_parser())
