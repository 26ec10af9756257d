"""Store access for the battery jobs: history for training and evaluation, forecasts for the next day's plan."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jobs.battery.scenario import hourly_frame, to_hourly
from jobs.common import timeutil
from jobs.common.protocol import DataError

SERIES = {"spot": "price.spot", "load": "home.consumption", "pv": "solar.production"}
FORECASTS = {"spot": "forecast.price", "load": "forecast.demand", "pv": "forecast.solar"}


def history_range(store, start_date=None, end_date=None, default_days: int = 365) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) in UTC: local-day bounds of the dates, clipped to now and to the data available."""
    spot_first, load_first = store.first(SERIES["spot"]), store.first(SERIES["load"])
    spot_last, load_last = store.latest(SERIES["spot"]), store.latest(SERIES["load"])
    if spot_first is None or load_first is None:
        missing = SERIES["spot"] if spot_first is None else SERIES["load"]
        raise DataError(f"no {missing} history in the store: run the fetch jobs first (hea run daily-pipeline)")
    now = timeutil.now()
    end = timeutil.local_day_bounds(end_date)[1] if end_date else timeutil.local_day_bounds(timeutil.local_date(now))[1]
    end = min(end, now.floor("h"), min(spot_last, load_last) + pd.Timedelta(hours=1))
    if start_date:
        start = timeutil.local_midnight(start_date)
    else:
        start = end - pd.Timedelta(days=default_days)
    start = max(start, spot_first.ceil("h"), load_first.ceil("h"))
    if end <= start:
        raise DataError(
            f"no overlapping price and consumption history between {timeutil.iso(start)} and {timeutil.iso(end)}"
        )
    return start, end


def load_history(store, start, end) -> pd.DataFrame:
    spot = store.read_series(SERIES["spot"], start=start, end=end)
    load = store.read_series(SERIES["load"], start=start, end=end)
    pv = store.read_series(SERIES["pv"], start=start, end=end)
    return hourly_frame(spot, load, pv)


def _same_slot_mean(history: pd.Series, target: pd.DatetimeIndex, days: int) -> np.ndarray:
    """Mean of the last `days` values at the same hour, from history only (the seasonal-naive forecast)."""
    hist = history.dropna()
    out = np.full(len(target), np.nan)
    if hist.empty:
        return out
    last = hist.index[-1]
    for i, ts in enumerate(target):
        k0 = max(1, int(np.ceil((ts - last) / pd.Timedelta(days=1))))
        keys = [ts - pd.Timedelta(days=k0 + j) for j in range(days)]
        vals = hist.reindex(keys).to_numpy(dtype=float)
        if np.isfinite(vals).any():
            out[i] = np.nanmean(vals)
    return out


def plan_inputs(store, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    """Hourly spot/load/pv for [start, end) from the best source available, and where each came from.

    Price: published day-ahead prices (price.spot) first, then forecast.price, then the last known day
    repeated. Load and PV: forecast.demand / forecast.solar, then the 7-day (load) or 3-day (PV) same-hour
    average of history. Missing PV history with no forecast means no PV (0).
    """
    index = pd.date_range(start, end, freq="h", inclusive="left")
    frame = pd.DataFrame(index=index)
    sources: dict = {}
    fallbacks: list[str] = []
    hist_start = start - pd.Timedelta(days=14)
    for col in ("spot", "load", "pv"):
        values = pd.Series(np.nan, index=index)
        used: dict[str, int] = {}
        if col == "spot":
            actual = to_hourly(store.read_series(SERIES["spot"], start=start, end=end)).reindex(index)
            used["price.spot (published)"] = int(actual.notna().sum())
            values = actual
        fc = store.read_forecast(FORECASTS[col])
        if not fc.empty:
            fc_h = to_hourly(fc).reindex(index)
            fill = values.isna() & fc_h.notna()
            values[fill] = fc_h[fill]
            used[FORECASTS[col]] = int(fill.sum())
            if fill.any() and fc.attrs.get("issued_at") is not None:
                sources[f"{col}_forecast_issued_at"] = timeutil.iso(fc.attrs["issued_at"])
        missing = values.isna()
        if missing.any():
            history = to_hourly(store.read_series(SERIES[col], start=hist_start, end=start))
            if col == "spot":
                naive = _same_slot_mean(pd.concat([history, values.dropna()]).sort_index(), index, 1)
                label = "seasonal naive (last known day)"
            else:
                naive = _same_slot_mean(history, index, 7 if col == "load" else 3)
                label = (
                    "seasonal naive (7-day same-hour mean)"
                    if col == "load"
                    else "seasonal naive (3-day same-hour mean)"
                )
            naive = pd.Series(naive, index=index)
            fill = missing & naive.notna()
            values[fill] = naive[fill]
            if fill.any():
                used[label] = int(fill.sum())
                fallbacks.append(f"{col}: {int(fill.sum())} h from {label}, no {FORECASTS[col]} for them")
        if values.isna().any():
            if col == "pv":
                used["no PV data (0)"] = int(values.isna().sum())
                values = values.fillna(0.0)
            else:
                raise DataError(
                    f"cannot plan: no {SERIES[col]} history and no {FORECASTS[col]} for "
                    f"{int(values.isna().sum())} of the plan's {len(index)} hours"
                )
        frame[col] = values.to_numpy(dtype=float)
        sources[col] = {k: v for k, v in used.items() if v}
    frame["load"] = frame["load"].clip(lower=0.0)
    frame["pv"] = frame["pv"].clip(lower=0.0)
    return frame, {"sources": sources, "fallbacks": fallbacks}
