"""Hourly scenarios (prices, load, PV) and the forecasts a controller sees at each hour.

A `Scenario` holds the actual hourly series and, for every hour t, forecasts for the next `horizon` hours as
they would have been known at t. The MPC and the agent read the same forecast arrays, so their comparison is
fair; the perfect-foresight optimum reads the actuals.

Forecast kinds:
- "naive" (the honest default for evaluation on history): spot prices are exact once published (day-ahead
  prices for tomorrow appear around 13:00 local time, so at 14:00 the next 34 hours are known); beyond that
  the last known day is repeated. Load is the 7-day same-slot average, PV the 3-day same-slot average, both
  from hours already observed at t.
- "perfect": the actuals (a check that MPC reaches the optimum when its forecasts are right, and the mode
  used for a production plan whose "actuals" are themselves forecasts).

15-minute prices are averaged to the hour (the battery steps hourly), so a day has 23, 24 or 25 steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from jobs.battery.config import Tariff
from jobs.common import timeutil
from jobs.common.protocol import DataError

DEFAULT_HORIZON = 36
PRICE_PUBLISH_HOUR = 13  # local time when the next day's day-ahead prices are known


@dataclass
class Scenario:
    index: pd.DatetimeIndex
    spot: np.ndarray  # EUR/MWh
    load: np.ndarray  # kWh per hour
    pv: np.ndarray  # kWh per hour
    buy: np.ndarray  # EUR/kWh
    sell: np.ndarray  # EUR/kWh
    fc_buy: np.ndarray  # (T, H) forecasts issued at each hour
    fc_sell: np.ndarray
    fc_load: np.ndarray
    fc_pv: np.ndarray
    local_hour: np.ndarray  # 0..23, local time
    forecast_kind: str

    def __len__(self) -> int:
        return len(self.index)

    @property
    def horizon(self) -> int:
        return self.fc_buy.shape[1]

    def slice(self, start: int, end: int) -> Scenario:
        return Scenario(
            self.index[start:end],
            self.spot[start:end],
            self.load[start:end],
            self.pv[start:end],
            self.buy[start:end],
            self.sell[start:end],
            self.fc_buy[start:end],
            self.fc_sell[start:end],
            self.fc_load[start:end],
            self.fc_pv[start:end],
            self.local_hour[start:end],
            self.forecast_kind,
        )


def to_hourly(series: pd.Series) -> pd.Series:
    """Mean per hour: 15-minute prices become the hour's average price; hourly data stays as it is."""
    if series.empty:
        return series
    return series.resample("h").mean()


def hourly_frame(spot: pd.Series, load: pd.Series, pv: pd.Series | None, max_gap_hours: int = 3) -> pd.DataFrame:
    """Aligned hourly frame (spot, load, pv) over the span where prices and load both exist.

    Short gaps (a missed fetch) are interpolated; longer ones are a data problem the caller must see.
    """
    spot_h, load_h = to_hourly(spot.dropna()), to_hourly(load.dropna())
    if spot_h.empty or load_h.empty:
        missing = "price.spot" if spot_h.empty else "home.consumption"
        raise DataError(f"no {missing} history in the store: run the fetch jobs (or the simulator) first")
    start, end = max(spot_h.index[0], load_h.index[0]), min(spot_h.index[-1], load_h.index[-1])
    if end <= start:
        raise DataError(
            f"price.spot ({spot_h.index[0]}..{spot_h.index[-1]}) and home.consumption "
            f"({load_h.index[0]}..{load_h.index[-1]}) do not overlap"
        )
    idx = pd.date_range(start, end, freq="h")
    frame = pd.DataFrame(index=idx)
    frame["spot"] = spot_h.reindex(idx)
    frame["load"] = load_h.reindex(idx)
    pv_h = to_hourly(pv.dropna()) if pv is not None and not pv.empty else None
    # A home without PV data is a home without PV: zero, not missing.
    frame["pv"] = pv_h.reindex(idx).fillna(0.0).clip(lower=0.0) if pv_h is not None else 0.0
    for col in ("spot", "load"):
        gaps = frame[col].isna()
        if gaps.any():
            frame[col] = frame[col].interpolate(limit=max_gap_hours, limit_area="inside")
            still = int(frame[col].isna().sum())
            if still:
                raise DataError(
                    f"{col}: {still} hourly values missing in gaps longer than {max_gap_hours} h "
                    f"between {idx[0]} and {idx[-1]}"
                )
    return frame


def _pad(x: np.ndarray, n: int) -> np.ndarray:
    """Extend past the data's end by repeating its last day, so horizons near the end stay defined."""
    if n <= 0:
        return x
    period = min(24, len(x))
    tail = x[len(x) - period :]
    reps = np.resize(tail, n)
    return np.concatenate([x, reps])


def _price_known_end(index: pd.DatetimeIndex, tz: str) -> np.ndarray:
    """For each hour, the index of the first hour whose price is not yet published."""
    local = index.tz_convert(tz)
    midnight = local.normalize()
    # 13:00 on the local clock, also on the 23- and 25-hour days (adding 13 absolute hours to midnight
    # would land at 12:00 or 14:00 then).
    publish = (midnight.tz_localize(None) + pd.Timedelta(hours=PRICE_PUBLISH_HOUR)).tz_localize(tz)
    end_today = midnight + pd.DateOffset(days=1)
    end_tomorrow = midnight + pd.DateOffset(days=2)
    known = np.where(local >= publish, end_tomorrow.tz_convert("UTC").asi8, end_today.tz_convert("UTC").asi8)
    return np.searchsorted(index.asi8, known, side="left")


def _naive_price_fc(price: np.ndarray, known_end: np.ndarray, horizon: int) -> np.ndarray:
    n = len(price)
    t = np.arange(n)[:, None]
    s = t + np.arange(horizon)[None, :]
    k_end = np.minimum(known_end, n)[:, None]
    shift = np.where(s < k_end, 0, 24 * np.ceil((s - k_end + 1) / 24.0)).astype(int)
    src = np.clip(s - shift, 0, n - 1)
    return price[src]


def _naive_same_slot_fc(x: np.ndarray, horizon: int, days: int) -> np.ndarray:
    """Mean of the last `days` same-hour values observed before the issue hour."""
    n = len(x)
    t = np.arange(n)[:, None, None]
    h = np.arange(horizon)[None, :, None]
    k0 = np.ceil((h + 1) / 24.0).astype(int)
    j = np.arange(days)[None, None, :]
    src = t + h - 24 * (k0 + j)
    vals = np.where(src >= 0, x[np.clip(src, 0, n - 1)], np.nan)
    count = np.sum(~np.isnan(vals), axis=2)
    fc = np.where(count > 0, np.nansum(vals, axis=2) / np.maximum(count, 1), np.nan)
    # The first day has no history: the mean of what is there is the least bad guess.
    fill = float(np.nanmean(x[: min(n, 24 * days)])) if n else 0.0
    return np.where(np.isnan(fc), fill, fc)


def build_scenario(
    frame: pd.DataFrame,
    tariff: Tariff,
    horizon: int = DEFAULT_HORIZON,
    forecasts: str = "naive",
    tz: str | None = None,
) -> Scenario:
    """A scenario from an hourly frame with columns spot (EUR/MWh), load and pv (kWh per hour)."""
    if forecasts not in ("naive", "perfect"):
        raise ValueError(f"unknown forecast kind {forecasts!r}")
    if len(frame) < 2:
        raise DataError(f"only {len(frame)} hours of data; a battery scenario needs at least 2")
    index = pd.DatetimeIndex(frame.index)
    if index.tz is None:
        raise ValueError("scenario index must be tz-aware UTC")
    index = index.tz_convert("UTC")
    spot = frame["spot"].to_numpy(dtype=float)
    load = frame["load"].to_numpy(dtype=float)
    pv = frame["pv"].to_numpy(dtype=float)
    for name, arr in (("spot", spot), ("load", load), ("pv", pv)):
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{name} has {int((~np.isfinite(arr)).sum())} non-finite hourly values")
    if (load < 0).any():
        raise DataError("home.consumption has negative hourly values")
    tz = tz or timeutil.local_tz()
    buy, sell = tariff.buy(spot), tariff.sell(spot)
    n = len(index)
    if forecasts == "perfect":
        idx = np.arange(n)[:, None] + np.arange(horizon)[None, :]
        fc = {k: _pad(v, horizon)[idx] for k, v in (("spot", spot), ("load", load), ("pv", pv))}
        fc_spot, fc_load, fc_pv = fc["spot"], fc["load"], fc["pv"]
    else:
        fc_spot = _naive_price_fc(spot, _price_known_end(index, tz), horizon)
        fc_load = _naive_same_slot_fc(load, horizon, 7)
        fc_pv = _naive_same_slot_fc(pv, horizon, 3)
    local_hour = index.tz_convert(tz).hour.to_numpy()
    return Scenario(
        index,
        spot,
        load,
        pv,
        buy,
        sell,
        tariff.buy(fc_spot),
        tariff.sell(fc_spot),
        fc_load,
        fc_pv,
        local_hour,
        forecasts,
    )


def load_frame(store, start=None, end=None) -> pd.DataFrame:
    """The hourly (spot, load, pv) frame from the store, in [start, end)."""
    spot = store.read_series("price.spot", start=start, end=end)
    load = store.read_series("home.consumption", start=start, end=end)
    pv = store.read_series("solar.production", start=start, end=end)
    frame = hourly_frame(spot, load, pv)
    if end is not None:
        frame = frame[frame.index < timeutil.to_utc(end)]
    return frame
