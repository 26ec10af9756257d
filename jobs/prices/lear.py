"""The day-ahead price model: per-hour regularised linear models on lagged daily price profiles (LEAR-style).

After the epftoolbox LEAR benchmark (Lago, Marcjasz, De Schutter, Weron, Applied Energy 2021), the strongest
open baseline for day-ahead prices, with two changes that make it cheap enough to recalibrate every day on
a small shared machine:

- one linear model per local delivery hour (24 of them, solved together in closed form), on the previous
  days' 24 prices at lags `LAGS` (1, 2, 3 and 7 days) and day-of-week dummies;
- prices are normalised per calibration window (median and MAD) and passed through asinh, a
  variance-stabilising transform that tames spikes and negative prices; forecasts go back through sinh;
- recalibrated for every forecast day on the trailing windows of `WINDOWS` days (56, 84, 364 and 728, or
  what history allows) and the forecasts averaged (epftoolbox averages 56 days to 4 years);
- L2 (ridge, `RIDGE` x n on standardised inputs) instead of LEAR's L1 (LASSO with LARS-IC): one 103x103
  solve per window for all 24 hours instead of 24 LARS paths (a LARS-IC prototype was far too slow to
  recalibrate daily in the benchmark on a shared 2-core machine). RIDGE = 0.2 from the real windows of
  SE4 and DK1 (0.01 was worse than naive, 0.1-0.3 best, 1.0 worse): see docs/models.md.

It uses only prices known at decision time: a forecast for local day D needs whole days D-1, D-2, D-3 and
D-7. Day-ahead prices for D are published around 13:00 on D-1, so at the pipeline's 06:00 run on D the
model forecasts D+1 from D's published prices. A further day (D+2) is forecast from the model's own D+1.

Local days of 23 or 25 hours map onto 24 local-hour slots (the missing spring hour is interpolated, the
repeated autumn hour averaged) and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from jobs.common import timeutil

LAGS = (1, 2, 3, 7)
WINDOWS = (56, 84, 364, 728)
RIDGE = 0.2
MIN_TRAIN_DAYS = 21


def daily_profiles(prices: pd.Series, tz: str) -> pd.DataFrame:
    """Local days x 24 local-hour slots (a day with any hour missing is dropped; DST days filled)."""
    if prices.empty:
        return pd.DataFrame(columns=range(24), dtype=float)
    local = prices.index.tz_convert(tz)
    wall = local.tz_localize(None).to_numpy().astype("datetime64[h]").astype(np.int64)  # local wall hours
    day_number = wall // 24
    first = day_number.min()
    codes = day_number - first
    days = (np.arange(codes.max() + 1) + first).astype("datetime64[D]")
    hours = wall - day_number * 24
    values = prices.to_numpy(dtype=float)
    sums = np.zeros((len(days), 24))
    counts = np.zeros((len(days), 24))
    np.add.at(sums, (codes, hours), values)
    np.add.at(counts, (codes, hours), 1.0)
    with np.errstate(invalid="ignore"):
        table = sums / counts  # the repeated autumn hour is averaged
    per_day = counts.sum(axis=1)
    # A DST spring day has 23 hours (one empty slot, filled from its neighbours); any other gap means the
    # day is not fully known.
    keep = per_day >= 23
    holes = np.argwhere(np.isnan(table) & keep[:, None])
    for d, h in holes:
        neighbours = table[d, [max(h - 1, 0), min(h + 1, 23)]]
        table[d, h] = np.nanmean(neighbours)
    return pd.DataFrame(table[keep], index=pd.DatetimeIndex(days[keep]), columns=range(24))


def _ridge_forecast(
    P: np.ndarray, dow: np.ndarray, rows: np.ndarray, target: int, target_dow: int, ridge: float
) -> np.ndarray:
    """Fit on the daily rows `rows` of P (each needing its lags) and forecast the row for `target`."""
    Y = P[rows]
    m = float(np.median(Y))
    s = float(np.median(np.abs(Y - m)) / 0.6745) or 1.0

    def features(idx: np.ndarray, day_of_week: np.ndarray) -> np.ndarray:
        lagged = [np.arcsinh((P[idx - lag] - m) / s) for lag in LAGS]
        return np.hstack(lagged + [np.eye(7)[day_of_week]])

    X = features(rows, dow[rows])
    Yt = np.arcsinh((Y - m) / s)
    xq = features(np.array([target]), np.array([target_dow]))
    mu, ym = X.mean(axis=0), Yt.mean(axis=0)
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    Xc = (X - mu) / sd
    A = Xc.T @ Xc + ridge * len(rows) * np.eye(Xc.shape[1])
    B = np.linalg.solve(A, Xc.T @ (Yt - ym))
    return np.sinh(((xq - mu) / sd) @ B + ym)[0] * s + m


@dataclass
class DailyPriceModel:
    """What the registry keeps for `price_trend`: the settings; it recalibrates on the history it is given."""

    name: str = "price_trend"
    kind: str = "lear"
    tz: str = "Europe/Stockholm"
    lags: tuple = LAGS
    windows: tuple = WINDOWS
    ridge: float = RIDGE
    trained_until: str | None = None
    extra: dict = field(default_factory=dict)

    def forecast(self, prices: pd.Series, target: pd.DatetimeIndex) -> pd.Series:
        """Prices for the `target` hours, local day by local day, from `prices` (hourly, UTC, known ones).

        Days are forecast in order and each forecast day joins the history of the next, so a two-day
        horizon works from one day of published prices. Hours of days that cannot be forecast (too little
        history) are NaN.
        """
        if len(target) == 0:
            return pd.Series([], index=target, dtype=float)
        # the longest window and the longest lag are all a forecast looks back at
        span = pd.Timedelta(days=max(self.windows) + max(self.lags) + 2)
        table = daily_profiles(prices[prices.index >= target.min() - span], self.tz)
        target_days = pd.DatetimeIndex(pd.to_datetime(sorted(set(target.tz_convert(self.tz).date))))
        for day in target_days:
            if day in table.index:
                continue
            row = self._forecast_day(table, day)
            table.loc[day] = row
            table = table.sort_index()
        local = target.tz_convert(self.tz)
        days = pd.DatetimeIndex(pd.to_datetime(local.date))
        values = np.full(len(target), np.nan)
        for i, (d, h) in enumerate(zip(days, local.hour)):
            if d in table.index:
                values[i] = table.at[d, h]
        return pd.Series(values, index=target, dtype=float)

    def _forecast_day(self, table: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
        # a contiguous calendar of past days (missing days NaN) so lags are whole days
        past = table[table.index < day]
        if past.empty:
            return np.full(24, np.nan)
        calendar = pd.date_range(past.index.min(), day, freq="D")
        grid = past.reindex(calendar)
        P = grid.to_numpy(dtype=float, copy=True)
        P[-1] = np.nan
        dow = calendar.day_of_week.to_numpy()
        target = len(calendar) - 1
        lag_max = max(self.lags)
        full = np.isfinite(P).all(axis=1)
        if target < lag_max or not all(full[target - lag] for lag in self.lags):
            return np.full(24, np.nan)
        candidates = np.arange(lag_max, target)
        ok = full[candidates].copy()
        for lag in self.lags:
            ok &= full[candidates - lag]
        usable = candidates[ok]
        if len(usable) < MIN_TRAIN_DAYS:
            return np.full(24, np.nan)
        forecasts = []
        for w in self.windows:
            rows = usable[usable >= target - w]
            if len(rows) < MIN_TRAIN_DAYS:
                continue
            forecasts.append(_ridge_forecast(P, dow, rows, target, int(dow[target]), self.ridge))
        if not forecasts:
            return np.full(24, np.nan)
        return np.mean(forecasts, axis=0)

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "lags_days": list(self.lags),
            "windows_days": list(self.windows),
            "ridge": self.ridge,
            "transform": "asinh of (price - median) / MAD per window",
        }


def model_from_env(trained_until=None) -> DailyPriceModel:
    return DailyPriceModel(
        tz=timeutil.local_tz(), trained_until=timeutil.iso(trained_until) if trained_until is not None else None
    )
