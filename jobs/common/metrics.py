"""Forecast metrics and the seasonal-naive yardsticks every training job reports.

A forecast is only worth something relative to what a lazy forecaster would have said, so each train job
reports its holdout MAE next to two seasonal-naive baselines computed on exactly the same rows:

- "same time yesterday": the value 24 hours earlier;
- "7-day same-slot average": the mean of the values 1..7 days earlier at the same time of day.

`rmae_*` is MAE divided by the baseline's MAE: below 1.0 means the model beats the baseline.
Both baselines shift by whole 24-hour days in UTC, so on a daylight-saving day "yesterday" is 24 hours
earlier, not the same local wall-clock hour (an hour's difference on two days a year).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)


def _as_float(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def mae(actual, predicted) -> float:
    """Mean absolute error over the pairs where both values are present (NaN if none)."""
    a, p = _as_float(actual), _as_float(predicted)
    if a.shape != p.shape:
        raise ValueError(f"shape mismatch: {a.shape} vs {p.shape}")
    ok = np.isfinite(a) & np.isfinite(p)
    if not ok.any():
        return float("nan")
    return float(np.mean(np.abs(a[ok] - p[ok])))


def rmse(actual, predicted) -> float:
    a, p = _as_float(actual), _as_float(predicted)
    ok = np.isfinite(a) & np.isfinite(p)
    if not ok.any():
        return float("nan")
    return float(np.sqrt(np.mean((a[ok] - p[ok]) ** 2)))


def same_time_yesterday(history: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    """The value 24 hours before each timestamp of `index` (NaN where history has none)."""
    values = history.reindex(index - DAY).to_numpy(dtype=float)
    return pd.Series(values, index=index, name="same_time_yesterday")


def seven_day_same_slot(history: pd.Series, index: pd.DatetimeIndex, days: int = 7) -> pd.Series:
    """Mean of the values 1..`days` days before each timestamp (missing days are skipped)."""
    stacked = np.vstack([history.reindex(index - k * DAY).to_numpy(dtype=float) for k in range(1, days + 1)])
    with np.errstate(all="ignore"):
        counts = np.isfinite(stacked).sum(axis=0)
        sums = np.nansum(stacked, axis=0)
        values = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return pd.Series(values, index=index, name=f"{days}_day_same_slot")


def _ratio(num: float, den: float) -> float:
    if not np.isfinite(num) or not np.isfinite(den) or den == 0:
        return float("nan")
    return float(num / den)


def forecast_report(actual: pd.Series, predicted, history: pd.Series) -> dict:
    """Holdout MAE of `predicted` against `actual` with both seasonal-naive baselines.

    `history` must contain the actuals before (and during) the holdout, so the baselines can look back
    up to 7 days. All three MAEs use the same rows: those where the model and both baselines have a value.
    """
    index = pd.DatetimeIndex(actual.index)
    pred = pd.Series(_as_float(predicted), index=index)
    yday = same_time_yesterday(history, index)
    week = seven_day_same_slot(history, index)
    ok = np.isfinite(actual.to_numpy(dtype=float)) & np.isfinite(pred) & np.isfinite(yday) & np.isfinite(week)
    a = actual.to_numpy(dtype=float)[ok]
    m = mae(a, pred.to_numpy()[ok])
    by = mae(a, yday.to_numpy()[ok])
    bw = mae(a, week.to_numpy()[ok])
    return {
        "mae": m,
        "rmse": rmse(a, pred.to_numpy()[ok]),
        "baseline_yesterday_mae": by,
        "baseline_7day_mae": bw,
        "rmae_yesterday": _ratio(m, by),
        "rmae_7day": _ratio(m, bw),
        "holdout_rows": int(ok.sum()),
    }


def local_days(index: pd.DatetimeIndex, tz: str) -> np.ndarray:
    """The local calendar date of each UTC timestamp (days of 23 or 25 hours come out right)."""
    return np.asarray(pd.DatetimeIndex(index).tz_convert(tz).date)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra = pd.Series(a).rank().to_numpy()
    rb = pd.Series(b).rank().to_numpy()
    if np.std(ra) == 0 or np.std(rb) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def within_day_rank_correlation(
    actual: pd.Series, predicted, tz: str = "Europe/Stockholm", min_points: int = 4
) -> float:
    """Mean over local days of the Spearman correlation between forecast and actual within the day.

    This is what a battery schedule depends on: not the level of the price but which hours are cheap.
    Days with fewer than `min_points` values or with a constant forecast/actual are skipped.
    """
    frame = pd.DataFrame({"a": actual.to_numpy(dtype=float), "p": _as_float(predicted)})
    frame["day"] = local_days(actual.index, tz)
    frame = frame.dropna()
    values = []
    for _, group in frame.groupby("day"):
        if len(group) < min_points:
            continue
        rho = _spearman(group["a"].to_numpy(), group["p"].to_numpy())
        if np.isfinite(rho):
            values.append(rho)
    return float(np.mean(values)) if values else float("nan")


def top_k_per_day(values: pd.Series, k: int, tz: str = "Europe/Stockholm", largest: bool = True) -> pd.Series:
    """Boolean mask of each local day's k largest (or smallest) values; ties broken by time order."""
    frame = pd.DataFrame({"v": values.to_numpy(dtype=float)}, index=values.index)
    frame["day"] = local_days(values.index, tz)
    ranks = frame.groupby("day")["v"].rank(method="first", ascending=not largest)
    return pd.Series((ranks <= k).to_numpy() & np.isfinite(frame["v"].to_numpy()), index=values.index)


def precision_recall(actual_mask, predicted_mask) -> dict:
    a = np.asarray(actual_mask, dtype=bool)
    p = np.asarray(predicted_mask, dtype=bool)
    tp = int((a & p).sum())
    precision = tp / int(p.sum()) if p.sum() else float("nan")
    recall = tp / int(a.sum()) if a.sum() else float("nan")
    f1 = (
        2 * precision * recall / (precision + recall)
        if np.isfinite(precision) and np.isfinite(recall) and precision + recall > 0
        else float("nan")
    )
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


def rounded(d: dict, digits: int = 4) -> dict:
    """Round the floats of a (nested) metrics dict for a readable result line."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = rounded(v, digits)
        elif isinstance(v, (float, np.floating)):
            out[k] = round(float(v), digits) if np.isfinite(v) else None
        else:
            out[k] = v
    return out


def mean_of(values: Iterable[float]) -> float:
    vals = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


# --------------------------------------------------------------------------- naive forecasters
NAIVE = ("yesterday", "7day", "blend")


def _known_shift_days(index: pd.DatetimeIndex, known_until) -> np.ndarray:
    """For each target hour, the fewest whole days back whose same slot was known at decision time."""
    if known_until is None:
        return np.ones(len(index), dtype=int)
    lead = (index - pd.Timestamp(known_until)) / DAY  # > -1 for every hour not yet known
    return np.maximum(1, np.floor(lead).astype(int) + 1)


def naive_forecasts(history: pd.Series, index: pd.DatetimeIndex, known_until=None, days: int = 7) -> dict:
    """The naive forecasters for `index`, using only what was known before `known_until` (decision time).

    - "yesterday": the latest same-slot value known then: 24 hours back when that hour was known (prices
      of tomorrow at a decision time after today's publication), else 48 hours back, and so on;
    - "7day": the mean of the `days` latest known same-slot values (missing ones skipped);
    - "blend": the average of those two.
    Without `known_until`, "yesterday" is 24 hours back and "7day" 1..7 days back (the holdout setting).
    Returns {name: pd.Series on index}.
    """
    index = pd.DatetimeIndex(index)
    shift = _known_shift_days(index, known_until)
    if known_until is not None:
        history = history[history.index < pd.Timestamp(known_until)]
    stacked = np.vstack(
        [history.reindex(index - pd.to_timedelta(shift + k, unit="D")).to_numpy(dtype=float) for k in range(days)]
    )
    yday = stacked[0]
    with np.errstate(all="ignore"):
        counts = np.isfinite(stacked).sum(axis=0)
        week = np.where(counts > 0, np.nansum(stacked, axis=0) / np.maximum(counts, 1), np.nan)
    blend = 0.5 * (yday + week)
    return {
        "yesterday": pd.Series(yday, index=index),
        "7day": pd.Series(week, index=index),
        "blend": pd.Series(blend, index=index),
    }


def weekly_windows(index: pd.DatetimeIndex, tz: str, days: int = 7) -> list[pd.DatetimeIndex]:
    """`index` cut into consecutive windows of `days` local days (the last may be shorter)."""
    if len(index) == 0:
        return []
    local_day = pd.DatetimeIndex(pd.to_datetime(local_days(index, tz)))
    first = local_day.min()
    number = ((local_day - first) / DAY).astype(int) // days
    return [index[number == n] for n in sorted(set(number))]
