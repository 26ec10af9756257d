"""The demand forecaster: what is known at the decision time, the day ahead, level-normalised.

A household forecast is made at a decision time (06:00 local in the walk-forward, "now" in production) for
hours up to two days later, from consumption known before it. Every feature of a target hour t is computed
as of its cutoff c (the first hour not yet measured), so training rows, walk-forward rows and production
rows are built the same way and nothing later than c leaks in:

- the same clock hour on the last 28 known days (the most recent one is "yesterday" when t is tomorrow
  and the hour is after 06:00, "today" when it is before), their 7- and 28-day means and 7-day median,
  the same hour one and two weeks back (the weekday's own rhythm);
- the recent level: the mean of the last 24 and 168 known hours, and the last 3 hours;
- calendar (local hour, weekday, weekend) and the lead time; no season: the level carries it, and with a
  year or two of history each day of the year is seen once or twice (day-of-year features overfit: pooled
  rMAE vs the 7-day profile 0.924 with them, 0.913 without, real households, docs/models.md);
- optionally the occupancy HMM's filtered state probabilities at the same hour on the last 7 known days
  (jobs/demand/features.py), and the temperature forecast where a weather series exists.

The target and every consumption feature are divided by the household's level (the mean of the last 168
known hours), so one model serves a 0.3 kWh/h flat and a 3 kWh/h house, winter and summer alike. XGBoost
fits that ratio with an absolute-error objective (MAE is the metric: the forecast is the conditional
median, which a spiky load needs), each row weighted by its level so the loss is the MAE in kWh again,
with large leaves (`min_child_weight`): a leaf's median over few hours is noise.

The forecast mixes the regressor with a robust profile, the weekday/weekend-aware 28-day same-slot median
(`profile`); the profile's share is learned by the train job on its holdout, i.e. on the past only
(`learn_profile_weight`): households differ in how much the trees add to their own habits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from jobs.common import timeutil
from jobs.common.features import decision_times

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)
SLOT_DAYS = 28
PROFILE = "r_type_med"  # the profile mixed into the forecast (see `profile`)
PROFILE_WEIGHT = 0.0  # its share until the train job learns one on its holdout (`learn_profile_weight`)
WEIGHT_GRID = np.round(np.linspace(0, 1, 11), 1)
LEVEL_FLOOR = 0.02  # kWh/h: keeps the ratio finite for an empty house

PARAMS = {
    "n_estimators": 400,
    "learning_rate": 0.05,
    "max_depth": 5,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 5.0,
    "reg_lambda": 1.0,
}


def _grid(series: pd.Series, start, end) -> tuple[pd.DatetimeIndex, np.ndarray]:
    grid = pd.date_range(start, end, freq="h", inclusive="left")
    return grid, series.reindex(grid).to_numpy(dtype=float)


def _nanquantile(a: np.ndarray, q: float) -> np.ndarray:
    """Row-wise quantile ignoring NaN (linear interpolation), vectorised: numpy's nanpercentile loops over
    rows and was 90% of the feature time."""
    srt = np.sort(a, axis=1)  # NaN sort last
    n = np.isfinite(a).sum(axis=1)
    pos = np.clip((n - 1) * q, 0, None)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    rows = np.arange(a.shape[0])
    frac = pos - lo
    out = srt[rows, lo] * (1 - frac) + srt[rows, hi] * frac
    return np.where(n > 0, out, np.nan)


def _window_mean(csum: np.ndarray, ccount: np.ndarray, pos: np.ndarray, n: int) -> np.ndarray:
    """Mean of the finite values in grid positions [pos - n, pos)."""
    lo = np.clip(pos - n, 0, None)
    s = csum[pos] - csum[lo]
    c = ccount[pos] - ccount[lo]
    with np.errstate(all="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def known_features(
    series: pd.Series,
    targets: pd.DatetimeIndex,
    cutoffs: pd.DatetimeIndex,
    tz: str,
    extra: dict[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Features of each target hour from `series` values strictly before its cutoff (UTC hour starts).

    `extra` series (e.g. occupancy probabilities) contribute their 7-known-day same-slot mean.
    """
    cutoffs = cutoffs.floor("h")
    start = min(targets.min(), cutoffs.min()) - (SLOT_DAYS + 3) * DAY
    grid, v = _grid(series, start, targets.max() + HOUR)
    t_pos = ((targets - grid[0]) // HOUR).to_numpy().astype(np.int64)
    c_pos = ((cutoffs - grid[0]) // HOUR).to_numpy().astype(np.int64)
    lead = t_pos - c_pos  # hours from the cutoff to the target (>= 0)
    k0 = lead // 24 + 1  # newest whole day back that is known
    finite = np.isfinite(v)
    vz = np.where(finite, v, 0.0)
    csum = np.concatenate([[0.0], np.cumsum(vz)])
    ccount = np.concatenate([[0], np.cumsum(finite)])

    def back(days: np.ndarray) -> np.ndarray:
        p = t_pos - 24 * days
        ok = (p >= 0) & (p < c_pos)
        return np.where(ok, v[np.clip(p, 0, len(v) - 1)], np.nan)

    slots = np.vstack([back(k0 + j) for j in range(SLOT_DAYS)]).T  # (n, 28): newest known first
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            prof7 = np.nanmean(slots[:, :7], axis=1)
            med7 = _nanquantile(slots[:, :7], 0.5)
            prof28 = np.nanmean(slots, axis=1)
            std7 = np.nanstd(slots[:, :7], axis=1)
            med28 = _nanquantile(slots, 0.5)
            q25 = _nanquantile(slots, 0.25)
            q75 = _nanquantile(slots, 0.75)
            # the same hour and its two neighbours on the last 7 known days: a household's habits jitter
            # by an hour, and the median of that neighbourhood is a steadier estimate of the typical hour
            hood = []
            for j in range(7):
                for off in (-1, 0, 1):
                    p = t_pos - 24 * (k0 + j) + off
                    ok = (p >= 0) & (p < c_pos)
                    hood.append(np.where(ok, v[np.clip(p, 0, len(v) - 1)], np.nan))
            hood = np.vstack(hood).T
            hood_med = _nanquantile(hood, 0.5)
            hood_mean = np.nanmean(hood, axis=1)
            # the same weekday type (weekday / weekend) on the last 28 known days
            dows = np.vstack(
                [((targets - (k0 + j) * DAY).tz_convert(tz).day_of_week.to_numpy() >= 5) for j in range(SLOT_DAYS)]
            ).T
            tgt_weekend = (targets.tz_convert(tz).day_of_week.to_numpy() >= 5)[:, None]
            same_type = np.where(dows == tgt_weekend, slots, np.nan)
            type_med = _nanquantile(same_type, 0.5)
            type_mean = np.nanmean(same_type, axis=1)
    level168 = _window_mean(csum, ccount, c_pos, 168)
    level24 = _window_mean(csum, ccount, c_pos, 24)
    last3 = _window_mean(csum, ccount, c_pos, 3)
    level = np.maximum(np.where(np.isfinite(level168), level168, prof28), LEVEL_FLOOR)
    week1, week2 = back(np.full_like(k0, 7)), back(np.full_like(k0, 14))
    local = targets.tz_convert(tz)
    hour = local.hour.to_numpy()
    dow = local.day_of_week.to_numpy()
    out = {
        "hour": hour,
        "dow": dow,
        "weekend": (dow >= 5).astype(float),
        "lead": lead.astype(float),
        "level": level,
        "r_last1": slots[:, 0] / level,
        "r_last2": slots[:, 1] / level,
        "r_prof7": prof7 / level,
        "r_med7": med7 / level,
        "r_prof28": prof28 / level,
        "r_std7": std7 / level,
        "r_week1": week1 / level,
        "r_week2": week2 / level,
        "r_med28": med28 / level,
        "r_q25": q25 / level,
        "r_q75": q75 / level,
        "r_hood_med": hood_med / level,
        "r_hood_mean": hood_mean / level,
        "r_type_med": type_med / level,
        "r_type_mean": type_mean / level,
        "r_level24": level24 / level,
        "r_last3": last3 / level,
        # the yardsticks, in kWh: not features, but what the walk-forward compares with
        "naive_yesterday": slots[:, 0],
        "naive_7day": prof7,
    }
    for name, s in (extra or {}).items():
        _, e = _grid(s, grid[0], grid[-1] + HOUR)
        cols = []
        for j in range(7):
            p = t_pos - 24 * (k0 + j)
            ok = (p >= 0) & (p < c_pos)
            cols.append(np.where(ok, e[np.clip(p, 0, len(e) - 1)], np.nan))
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out[f"{name}_slot7"] = np.nanmean(np.vstack(cols), axis=0)
    return pd.DataFrame(out, index=targets)


NAIVE_COLUMNS = ("naive_yesterday", "naive_7day")


def feature_names(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in NAIVE_COLUMNS and c != "y"]


@dataclass
class DemandModel:
    """A fitted level-normalised regressor: `predict(frame)` gives kWh per hour.

    What serves (this model, the champion or a naive forecaster) is not the model's business: the train job
    decides it with `registry.decide` and records it in HEA_MODELS_DIR/demand/serving.json.
    """

    features: list[str]
    estimator: object
    profile_weight: float = PROFILE_WEIGHT
    info: dict = field(default_factory=dict)
    occupancy: object = None  # a fitted features.Occupancy whose states separate, or None
    weather: bool = False  # temperature features in `features`
    tz: str = "UTC"
    trained_until: str | None = None

    def predict_trees(self, frame: pd.DataFrame) -> np.ndarray:
        """The regressor alone (kWh/h), before the profile is mixed in."""
        ratio = self.estimator.predict(frame[self.features].to_numpy(dtype=float))
        return np.clip(ratio, 0, None) * frame["level"].to_numpy(dtype=float)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return mix(self.predict_trees(frame), profile(frame), self.profile_weight)


def profile(frame: pd.DataFrame) -> np.ndarray:
    """The robust profile the forecast leans on (kWh/h): the median of the same clock hour on the last 28
    known days of the same kind (weekday or weekend)."""
    return frame[PROFILE].to_numpy(dtype=float) * frame["level"].to_numpy(dtype=float)


def mix(trees: np.ndarray, prof: np.ndarray, weight: float) -> np.ndarray:
    """(1 - weight) x the regressor + weight x the profile; the regressor alone where the profile is unknown."""
    return np.clip(np.where(np.isfinite(prof), (1 - weight) * trees + weight * prof, trees), 0, None)


def learn_profile_weight(trees: np.ndarray, prof: np.ndarray, y: np.ndarray) -> float:
    """The profile's share (0, 0.1, .., 1) with the least absolute error on these rows (past ones only)."""
    ok = np.isfinite(trees) & np.isfinite(prof) & np.isfinite(y)
    if not ok.any():
        return PROFILE_WEIGHT
    errs = [np.abs(mix(trees[ok], prof[ok], w) - y[ok]).sum() for w in WEIGHT_GRID]
    return float(WEIGHT_GRID[int(np.argmin(errs))])


def naive_from_frame(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The naive candidates (registry names) on the frame's rows, as known at each row's cutoff (kWh/h)."""
    y1, y7 = frame["naive_yesterday"].to_numpy(dtype=float), frame["naive_7day"].to_numpy(dtype=float)
    return {"yesterday": y1, "7day": y7, "blend": (y1 + y7) / 2}


def training_frame(
    series: pd.Series, tz: str, until=None, occupancy=None, weather: pd.DataFrame | None = None, min_days: int = 7
) -> pd.DataFrame:
    """One row per measured hour before `until`, as the day-ahead decision (06:00 the day before) saw it."""
    s = series.dropna()
    if until is not None:
        s = s[s.index < timeutil.to_utc(until)]
    targets = s.index[s.index >= s.index.min() + min_days * DAY]
    if len(targets) == 0:
        return pd.DataFrame()
    known = series[series.index < (timeutil.to_utc(until) if until is not None else s.index.max() + HOUR)]
    frame = inputs(known, targets, decision_times(targets, tz), tz, occupancy, weather)
    frame["y"] = s.reindex(targets).to_numpy()
    return frame


def _env_params() -> dict:
    import json
    import os

    return json.loads(os.environ.get("HEA_DEMAND_PARAMS_JSON", "{}"))  # for tuning runs only


def fit(frame: pd.DataFrame, params: dict | None = None, threads: int = 1, seed: int = 0) -> DemandModel:
    import xgboost as xgb

    rows = frame[np.isfinite(frame["y"].to_numpy()) & np.isfinite(frame["r_prof7"].to_numpy())]
    if len(rows) < 24 * 7:
        from jobs.common.protocol import DataError

        raise DataError(f"demand: only {len(rows)} usable training hours; need at least a week")
    features = feature_names(rows)
    level = rows["level"].to_numpy(dtype=float)
    est = xgb.XGBRegressor(
        objective="reg:absoluteerror",
        tree_method="hist",
        n_jobs=threads,
        random_state=seed,
        **{**PARAMS, **_env_params(), **(params or {})},
    )
    est.fit(rows[features].to_numpy(dtype=float), rows["y"].to_numpy(dtype=float) / level, sample_weight=level)
    return DemandModel(
        features=features, estimator=est, info={"rows": int(len(rows))}, trained_until=timeutil.iso(rows.index.max())
    )


WEATHER_COLUMNS = ("fc_temperature", "fc_temperature_24h", "heating_degrees")


def weather_inputs(
    store, targets: pd.DatetimeIndex, issued_before=None, min_lead: float = 0.0
) -> tuple[pd.DataFrame, dict]:
    """Temperature inputs for `targets` as the model is given them, and where they came from:
    {"forecast": share of hours from a forecast issue, "measured": share filled from measured weather,
    "none": share with no weather at all} (a store without weather is all "none")."""
    from jobs.common import features as fc

    wide = pd.date_range(targets.min() - 2 * DAY, targets.max() + HOUR, freq="h", inclusive="left")
    vals, fc_share = fc.weather_forecast(store, "temperature", wide, issued_before, min_lead)
    temp = pd.Series(vals, index=wide)
    have = np.isfinite(temp.reindex(targets).to_numpy())
    forecast_cov = float(fc_share)
    measured = max(float(have.mean()) - forecast_cov, 0.0) if len(targets) else 0.0
    out = pd.DataFrame(index=targets)
    out["fc_temperature"] = temp.reindex(targets).to_numpy()
    out["fc_temperature_24h"] = temp.rolling(24, min_periods=6).mean().reindex(targets).to_numpy()
    out["heating_degrees"] = np.clip(17.0 - out["fc_temperature_24h"], 0, None)
    source = {
        "forecast": round(forecast_cov, 3),
        "measured": round(measured, 3),
        "none": round(1.0 - float(have.mean()) if len(targets) else 1.0, 3),
    }
    return out, source


def describe_weather(source: dict) -> str:
    """ "no weather", "forecast weather", "measured weather" or a mix, from weather_inputs' shares."""
    parts = [
        f"{name} weather {share:.0%}"
        for name, share in (("forecast", source["forecast"]), ("measured", source["measured"]))
        if share > 0
    ]
    if not parts:
        return "no weather"
    if len(parts) == 1 and source["none"] == 0:
        return parts[0].rsplit(" ", 1)[0]
    return ", ".join(parts) + (f", none {source['none']:.0%}" if source["none"] > 0 else "")


def inputs(
    consumption: pd.Series,
    targets: pd.DatetimeIndex,
    cutoffs: pd.DatetimeIndex,
    tz: str,
    occupancy=None,
    weather: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The model's rows for `targets`: known features, the HMM's same-slot state probabilities (if any),
    and the temperature inputs (if the model uses weather)."""
    extra = {}
    if occupancy is not None:
        probs = occupancy.probabilities(consumption, consumption.index.min(), targets.max() + HOUR)
        extra = {f"occ{s}": probs[s] for s in range(1, occupancy.n_states)}
    frame = known_features(consumption, targets, cutoffs, tz, extra)
    if weather is not None:
        for col in WEATHER_COLUMNS:
            frame[col] = weather[col].reindex(targets).to_numpy()
    return frame


def empty_columns(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Feature columns without a single value: training on them teaches nothing and hides a missing input."""
    return [c for c in columns if c in frame.columns and not np.isfinite(frame[c].to_numpy(dtype=float)).any()]
