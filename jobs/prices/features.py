"""Features of the price models: calendar, lagged prices, rolling statistics, fuel and weather.

All price work is hourly: 15-minute prices (since 2025-10-01) are averaged to the hour, which is the
resolution the battery controllers plan at. Lags look 24 hours back or more (the day-ahead setting, see
jobs/common/features.py). Gas and CO2 are daily and enter as of the previous day; wind and temperature
are weather *forecasts* (`forecast.weather.*`), as the model will be given at prediction time.

Environment:
- HEA_PEAK_HOURS   how many of each local day's most expensive hours are "peak" (default 4)
- HEA_VALLEY_HOURS how many of each local day's cheapest hours are "valley" (default 4)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jobs.common import features as fc
from jobs.common import settings, timeutil
from jobs.common.metrics import top_k_per_day

PRICE = "price.spot"
MODELS = ("trend", "peak", "valley")
REGISTRY_NAMES = {m: f"price_{m}" for m in MODELS}
FORECAST_NAMES = {"trend": "forecast.price", "peak": "forecast.price.peak", "valley": "forecast.price.valley"}


def peak_hours() -> int:
    return max(1, settings.env_int("HEA_PEAK_HOURS", 4))


def valley_hours() -> int:
    return max(1, settings.env_int("HEA_VALLEY_HOURS", 4))


def load_prices(store, start=None, end=None) -> pd.Series:
    return fc.to_hourly(store.read_series(PRICE, start, end))


class Exogenous:
    """Commodity and weather inputs, read once and looked up per hour."""

    def __init__(self, store, start, end, issued_before=None, min_lead: float = 0.0):
        self.store = store
        self.issued_before = issued_before
        self.min_lead = min_lead
        # a week's margin so the first day's "as of yesterday" has a value
        lo = timeutil.to_utc(start) - pd.Timedelta(days=10)
        self.gas = store.read_series("commodity.gas", lo, end)
        self.co2 = store.read_series("commodity.co2", lo, end)
        self.coverage: dict[str, float] = {}

    def frame(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        out = pd.DataFrame(index=index)
        out["gas"] = fc.asof_values(self.gas, index, fc.DAY)
        out["co2"] = fc.asof_values(self.co2, index, fc.DAY)
        wide = fc.hourly_grid(index.min() - fc.DAY, index.max() + fc.HOUR)
        for var in ("wind_speed", "temperature", "irradiance"):
            vals, cov = fc.weather_forecast(self.store, var, wide, self.issued_before, self.min_lead)
            forecast = pd.Series(vals, index=wide)
            out[f"fc_{var}"] = forecast.reindex(index).to_numpy()
            self.coverage[var] = cov
            # Today's weather against yesterday's: what moves today's price away from yesterday's.
            # Yesterday's too as forecast: at the decision time (06:00 the day before) it had not happened.
            yday = forecast.reindex(index - fc.DAY)
            out[f"d24_{var}"] = out[f"fc_{var}"].to_numpy() - yday.to_numpy()
        # Daily-mean wind matters more than the hour's (a windy day is cheap all day).
        local_day = index.tz_convert(timeutil.local_tz()).date
        out["fc_wind_day_mean"] = out.groupby(local_day)["fc_wind_speed"].transform("mean").to_numpy()
        return out


def build_frame(prices: pd.Series, index: pd.DatetimeIndex, exo: Exogenous) -> pd.DataFrame:
    """The feature frame for the hours in `index` (prices may hold NaN for hours still to forecast)."""
    frame = pd.concat(
        [
            fc.calendar_features(index),
            fc.lag_features(prices, index, "price"),
            exo.frame(index),
        ],
        axis=1,
    )
    return frame


FEATURES_EXCLUDE = {"y", "label"}


def feature_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in FEATURES_EXCLUDE]


def labels(prices: pd.Series, model: str) -> pd.Series:
    """1.0 for the day's top-k (peak) or bottom-k (valley) hours, NaN on incomplete days."""
    tz = timeutil.local_tz()
    k = peak_hours() if model == "peak" else valley_hours()
    mask = top_k_per_day(prices, k, tz, largest=(model == "peak")).astype(float)
    day = pd.Series(prices.index.tz_convert(tz).date, index=prices.index)
    counts = day.map(day.value_counts())
    mask[counts.to_numpy() < 23] = np.nan  # a partial day's top-k is not the day's top-k
    return mask
