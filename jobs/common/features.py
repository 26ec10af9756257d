"""Features and hourly-series helpers of the forecasting jobs (prices, demand, solar, meters).

The forecasting setting is day-ahead: every lagged feature looks back at least 24 hours, so a forecast
issued at the end of a day can fill the whole next day from known values, and a longer horizon is filled
block by block (24 hours at a time) from the model's own earlier predictions (`recursive_forecast`).
The holdout evaluation therefore measures the 24-hour-ahead skill, where "same time yesterday" is the
natural yardstick. Weather inputs are given as a model would have had them (`weather_forecast`,
`decision_times`). Settings: jobs.common.forecast_settings.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from jobs.common import timeutil
from jobs.common.forecast_settings import decision_hour

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)


def to_hourly(series: pd.Series) -> pd.Series:
    """Hourly means (15-minute prices become the hour's average); hourly input comes back unchanged."""
    if series.empty:
        return series
    out = series.resample("1h").mean().dropna()
    out.name = series.name
    return out


def hourly_grid(start, end) -> pd.DatetimeIndex:
    """Hourly interval starts in [start, end)."""
    return pd.date_range(timeutil.to_utc(start).floor("h"), timeutil.to_utc(end), freq="h", inclusive="left")


def asof_values(series: pd.Series, index: pd.DatetimeIndex, delay: pd.Timedelta = pd.Timedelta(0)) -> np.ndarray:
    """For each time t, the last value of `series` at or before t - delay (daily commodities, say)."""
    if series.empty:
        return np.full(len(index), np.nan)
    s = series.sort_index()
    pos = np.searchsorted(s.index.to_numpy(), (index - delay).to_numpy(), side="right") - 1
    vals = s.to_numpy(dtype=float)
    out = np.where(pos >= 0, vals[np.clip(pos, 0, None)], np.nan)
    return out


def decision_times(index: pd.DatetimeIndex, tz: str | None = None) -> pd.DatetimeIndex:
    """When the daily pipeline first forecast each hour: HEA_DECISION_HOUR (6) local on the day before.

    Training gives each hour the inputs that existed then, so it learns from the forecasts (and their
    errors) that production will have: a 06:00 run forecasts tomorrow from issues made by 06:00 today.
    """
    local = pd.DatetimeIndex(index).tz_convert(tz or timeutil.local_tz())
    day_before = local.normalize() - DAY
    return (day_before + pd.Timedelta(hours=decision_hour())).tz_convert("UTC")


def weather_forecast(
    store, var: str, index: pd.DatetimeIndex, issued_before=None, min_lead: float = 0.0, fill_with_actuals: bool = True
) -> tuple[np.ndarray, float]:
    """Forecast weather variable `var` at each hour of `index`, as a model would have been given it.

    Predicting (`issued_before` = now): the newest `forecast.weather.<var>` issue made at or before now.
    Training (`issued_before` None): for each hour, the newest issue made at or before its decision time
    (`decision_times`: 06:00 local the day before), and at least `min_lead` hours ahead.
    With `fill_with_actuals`, hours no issue covers take the measured `weather.<var>`, but only hours that
    were already past at the decision time (never measured weather for an hour that was still a forecast),
    so in training nothing is filled. Returns (values, coverage as the share of hours from a forecast).
    """
    if len(index) == 0:
        return np.array([]), 1.0
    frame = store.read_forecast_frame(f"forecast.weather.{var}", index.min() - HOUR, index.max() + HOUR)
    if not frame.empty:
        if issued_before is not None:
            frame = frame[frame["issued_at"] <= timeutil.to_utc(issued_before)]
        else:
            frame = frame[frame["issued_at"].to_numpy() <= decision_times(pd.DatetimeIndex(frame["ts"])).to_numpy()]
        frame = frame[frame["lead_hours"] >= min_lead]
    if frame.empty:
        fc = pd.Series(np.nan, index=index)
    else:
        last = frame.sort_values(["ts", "issued_at"]).groupby("ts", sort=True).tail(1).set_index("ts")["value"]
        fc = to_hourly(last.sort_index().astype(float)).reindex(index)
    coverage = float(np.isfinite(fc.to_numpy()).mean())
    if fill_with_actuals and coverage < 1.0 and issued_before is not None:
        actual = to_hourly(store.read_series(f"weather.{var}", index.min(), index.max() + HOUR)).reindex(index)
        past = pd.Series(index < timeutil.to_utc(issued_before), index=index)
        fc = fc.fillna(actual.where(past))
    return fc.to_numpy(dtype=float), coverage


# --------------------------------------------------------------------------- features
def calendar_features(index: pd.DatetimeIndex, tz: str | None = None) -> pd.DataFrame:
    """Local-time calendar: hour, weekday, weekend, and smooth daily/yearly cycles."""
    local = index.tz_convert(tz or timeutil.local_tz())
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
    doy = local.day_of_year.to_numpy()
    dow = local.day_of_week.to_numpy()
    return pd.DataFrame(
        {
            "hour": hour,
            "dow": dow,
            "weekend": (dow >= 5).astype(float),
            "hour_sin": np.sin(2 * np.pi * hour / 24),
            "hour_cos": np.cos(2 * np.pi * hour / 24),
            "doy_sin": np.sin(2 * np.pi * doy / 365.25),
            "doy_cos": np.cos(2 * np.pi * doy / 365.25),
        },
        index=index,
    )


def lag_features(series: pd.Series, index: pd.DatetimeIndex, prefix: str) -> pd.DataFrame:
    """Lags and rolling statistics of an hourly series that only look 24 hours back or more.

    `series` may contain NaN (gaps, or the hours still to be forecast); statistics skip them.
    """
    lo = index.min() - 9 * DAY
    hi = index.max() + HOUR
    grid = hourly_grid(lo, hi)
    s = series.reindex(grid)
    r24 = s.rolling(24, min_periods=12)
    r168 = s.rolling(168, min_periods=72)
    base = pd.DataFrame(
        {
            "roll24_mean": r24.mean(),
            "roll24_std": r24.std(),
            "roll24_min": r24.min(),
            "roll24_max": r24.max(),
            "roll168_mean": r168.mean(),
            "roll168_std": r168.std(),
        },
        index=grid,
    )
    out = {}
    for k in (24, 48, 72, 168):
        out[f"{prefix}_lag{k}"] = s.reindex(index - k * HOUR).to_numpy()
    same_slot = np.vstack([s.reindex(index - d * DAY).to_numpy() for d in range(1, 8)])
    with np.errstate(all="ignore"):
        cnt = np.isfinite(same_slot).sum(axis=0)
        out[f"{prefix}_slot7_mean"] = np.where(cnt > 0, np.nansum(same_slot, axis=0) / np.maximum(cnt, 1), np.nan)
    # The rolling windows end 24 hours before the target (the newest hour known a day ahead).
    shifted = base.reindex(index - 24 * HOUR)
    for col in base.columns:
        out[f"{prefix}_{col}"] = shifted[col].to_numpy()
    frame = pd.DataFrame(out, index=index)
    # Where yesterday's value sat within yesterday: the daily shape, free of the level.
    frame[f"{prefix}_lag24_rel"] = frame[f"{prefix}_lag24"] - frame[f"{prefix}_roll24_mean"]
    frame[f"{prefix}_slot7_rel"] = frame[f"{prefix}_slot7_mean"] - frame[f"{prefix}_roll168_mean"]
    return frame


def recursive_forecast(
    history: pd.Series, target: pd.DatetimeIndex, predict_block: Callable[[pd.Series, pd.DatetimeIndex], np.ndarray]
) -> pd.Series:
    """Forecast `target` hours 24 at a time, feeding each block's predictions to the next block's lags.

    `predict_block(extended_history, block_index)` must only use values 24 hours or more before each hour
    of the block (which `lag_features` guarantees), so a block never needs its own predictions.
    """
    ext = history.copy()
    preds = []
    if len(target) == 0:
        return pd.Series([], index=target, dtype=float)
    start = target[0]
    while start <= target[-1]:
        block = target[(target >= start) & (target < start + DAY)]
        if len(block):
            values = np.asarray(predict_block(ext, block), dtype=float)
            block_series = pd.Series(values, index=block)
            preds.append(block_series)
            ext = pd.concat([ext[ext.index < block[0]], block_series, ext[ext.index > block[-1]]]).sort_index()
        start = start + DAY
    return pd.concat(preds).reindex(target)


def forecast_window(now: pd.Timestamp, horizon_days: float) -> pd.DatetimeIndex:
    """The hours a predict job writes: the current hour and the following horizon_days x 24 - 1."""
    if not horizon_days > 0:
        raise ValueError("horizon must be positive")
    start = timeutil.to_utc(now).floor("h")
    return pd.date_range(start, start + pd.Timedelta(days=horizon_days), freq="h", inclusive="left")
