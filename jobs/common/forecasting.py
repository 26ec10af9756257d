"""Shared machinery of the forecasting jobs (prices, demand, solar): features, XGBoost, search, training.

The forecasting setting is day-ahead: every lagged feature looks back at least 24 hours, so a forecast
issued at the end of a day can fill the whole next day from known values, and a longer horizon is filled
block by block (24 hours at a time) from the model's own earlier predictions (`recursive_forecast`).
The holdout evaluation therefore measures the 24-hour-ahead skill, where "same time yesterday" is the
natural yardstick.

Environment (shared by the train jobs):
- HEA_HOLDOUT_DAYS      days at the end of the history kept for the holdout (default 28)
- HEA_TRAIN_THREADS     threads for XGBoost (default 1: on a small shared machine, OpenMP threads that
                        compete with other jobs for 2 cores made one fit 18x slower, measured)
- HEA_FORECAST_MIN_LEAD_HOURS  when training, weather forecasts must also have been issued at least this long
                        before the hour they forecast (default 12)
- HEA_DECISION_HOUR     local hour of the daily forecast run (default 6): in training each hour gets the
                        newest weather issue made by then on the day before (`decision_times`)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from jobs.common import registry, settings, timeutil
from jobs.common.metrics import rounded
from jobs.common.protocol import DataError, progress

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)


# --------------------------------------------------------------------------- settings
def holdout_days(default: int = 28) -> int:
    return max(1, settings.env_int("HEA_HOLDOUT_DAYS", default))


def train_threads() -> int:
    return max(1, settings.env_int("HEA_TRAIN_THREADS", 1))


def min_lead_hours() -> float:
    return settings.env_float("HEA_FORECAST_MIN_LEAD_HOURS", 12.0)


# --------------------------------------------------------------------------- series helpers
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


def decision_hour() -> int:
    return settings.env_int("HEA_DECISION_HOUR", 6)


def decision_times(index: pd.DatetimeIndex, tz: str | None = None) -> pd.DatetimeIndex:
    """When the daily pipeline first forecast each hour: HEA_DECISION_HOUR (6) local on the day before.

    Training gives each hour the inputs that existed then, so it learns from the forecasts (and their
    errors) that production will have: a 06:00 run forecasts tomorrow from issues made by 06:00 today.
    """
    local = pd.DatetimeIndex(index).tz_convert(tz or timeutil.local_tz())
    day_before = local.normalize() - DAY
    return (day_before + pd.Timedelta(hours=decision_hour())).tz_convert("UTC")


def weather_forecast(store, var: str, index: pd.DatetimeIndex, issued_before=None,
                     min_lead: float = 0.0, fill_with_actuals: bool = True) -> tuple[np.ndarray, float]:
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
    return pd.DataFrame({
        "hour": hour,
        "dow": dow,
        "weekend": (dow >= 5).astype(float),
        "hour_sin": np.sin(2 * np.pi * hour / 24),
        "hour_cos": np.cos(2 * np.pi * hour / 24),
        "doy_sin": np.sin(2 * np.pi * doy / 365.25),
        "doy_cos": np.cos(2 * np.pi * doy / 365.25),
    }, index=index)


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
    base = pd.DataFrame({
        "roll24_mean": r24.mean(), "roll24_std": r24.std(), "roll24_min": r24.min(), "roll24_max": r24.max(),
        "roll168_mean": r168.mean(), "roll168_std": r168.std(),
    }, index=grid)
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


def recursive_forecast(history: pd.Series, target: pd.DatetimeIndex,
                       predict_block: Callable[[pd.Series, pd.DatetimeIndex], np.ndarray]) -> pd.Series:
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


# --------------------------------------------------------------------------- models
DEFAULT_PARAMS = {
    "n_estimators": 400, "learning_rate": 0.05, "max_depth": 6, "subsample": 0.8,
    "colsample_bytree": 0.8, "min_child_weight": 3.0, "reg_lambda": 1.0,
}

SEARCH_SPACE = {
    "n_estimators": [150, 250, 400, 600],
    "learning_rate": [0.02, 0.03, 0.05, 0.08, 0.12],
    "max_depth": [3, 4, 5, 6, 8],
    "subsample": [0.6, 0.7, 0.8, 0.9, 1.0],
    "colsample_bytree": [0.5, 0.7, 0.8, 1.0],
    "min_child_weight": [1.0, 3.0, 5.0, 10.0],
    "reg_lambda": [0.3, 1.0, 3.0, 10.0],
}


def make_xgb(kind: str, params: dict | None = None, seed: int = 0):
    import xgboost as xgb

    p = {**DEFAULT_PARAMS, **(params or {})}
    objective = p.pop("objective", None)
    common = dict(tree_method="hist", n_jobs=train_threads(), random_state=seed, **p)
    if kind == "classifier":
        return xgb.XGBClassifier(objective=objective or "binary:logistic", eval_metric="logloss", **common)
    return xgb.XGBRegressor(objective=objective or "reg:squarederror", **common)


@dataclass
class FittedModel:
    """A trained estimator with the feature columns it needs; what the registry pickles."""

    name: str
    kind: str                     # "regressor" | "classifier"
    features: list[str]
    estimator: Any
    params: dict
    trained_until: str            # last target timestamp used in fitting (ISO UTC)
    extra: dict = field(default_factory=dict)
    base: str | None = None       # a feature column the regressor predicts the deviation from

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.features + ([self.base] if self.base else []) if c not in frame.columns]
        if missing:
            raise KeyError(f"features missing for model {self.name}: {missing}")
        X = frame[self.features].to_numpy(dtype=float)
        if self.kind == "classifier":
            return self.estimator.predict_proba(X)[:, 1]
        pred = self.estimator.predict(X)
        if self.base:
            pred = pred + frame[self.base].to_numpy(dtype=float)
        return pred


def _training_rows(frame: pd.DataFrame, target: str, base: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows with a target (and a base, if any) and the values the estimator learns."""
    y = frame[target].to_numpy(dtype=float)
    ok = np.isfinite(y)
    if base:
        b = frame[base].to_numpy(dtype=float)
        ok &= np.isfinite(b)
        return frame[ok], (y - b)[ok]
    return frame[ok], y[ok]


def fit_model(name: str, kind: str, frame: pd.DataFrame, features: list[str], target: str,
              params: dict | None = None, extra: dict | None = None, base: str | None = None) -> FittedModel:
    base = base if kind == "regressor" else None
    rows, y = _training_rows(frame, target, base)
    if kind == "classifier" and len(np.unique(y)) < 2:
        raise DataError(f"{name}: the training labels have a single class; need more days of data")
    est = make_xgb(kind, params)
    est.fit(rows[features].to_numpy(dtype=float), y)
    return FittedModel(name=name, kind=kind, features=list(features), estimator=est,
                       params={**DEFAULT_PARAMS, **(params or {})},
                       trained_until=timeutil.iso(rows.index.max()), extra=dict(extra or {}), base=base)


def random_search(frame: pd.DataFrame, features: list[str], target: str, trials: int, seed: int = 0,
                  n_splits: int = 3, on_trial: Callable[[int, int, float], None] | None = None,
                  base: str | None = None, fixed: dict | None = None) -> dict:
    """Random hyperparameter search scored by time-series cross-validation MAE (folds move forward in time).

    `fixed` params (e.g. the objective) apply to every candidate. Returns {"params", "cv_mae",
    "trials": [{"params", "cv_mae"}]}; with trials <= 1, the defaults.
    """
    from sklearn.model_selection import ParameterSampler, TimeSeriesSplit

    rows, y = _training_rows(frame, target, base)
    X = rows[features].to_numpy(dtype=float)
    candidates = [dict(DEFAULT_PARAMS)]
    if trials > 1:
        candidates += list(ParameterSampler(SEARCH_SPACE, n_iter=trials - 1, random_state=seed))
    candidates = [{**c, **(fixed or {})} for c in candidates]
    # Validation folds are the last weeks before the holdout (expanding window, 14 days each): the season
    # nearest to what the model will face next, rather than folds spread over a year of other seasons.
    fold = min(14 * 24, max(24, len(rows) // (n_splits + 2)))
    tss = TimeSeriesSplit(n_splits=n_splits, test_size=fold)
    history = []
    best = None
    for i, params in enumerate(candidates[:max(1, trials)]):
        errs = []
        for tr, va in tss.split(X):
            est = make_xgb("regressor", params, seed=seed)
            est.fit(X[tr], y[tr])
            errs.append(float(np.mean(np.abs(est.predict(X[va]) - y[va]))))
        score = float(np.mean(errs))
        history.append({"params": params, "cv_mae": score})
        if best is None or score < best["cv_mae"]:
            best = {"params": params, "cv_mae": score}
        if on_trial:
            on_trial(i + 1, len(candidates[:max(1, trials)]), score)
    return {**best, "trials": history}


def holdout_cutoff(index: pd.DatetimeIndex, days: int, min_train_days: int = 14) -> pd.Timestamp:
    """Start of the holdout: local midnight `days` days before the last day, so it holds whole days."""
    last_day = timeutil.local_date(index.max())
    cutoff = timeutil.local_midnight(last_day - pd.Timedelta(days=days - 1).to_pytimedelta())
    span_days = (index.max() - index.min()) / DAY
    if span_days < days + min_train_days:
        raise DataError(f"only {span_days:.1f} days of history; need at least {days + min_train_days} "
                        f"({min_train_days} to train and a {days}-day holdout: lower HEA_HOLDOUT_DAYS "
                        f"or backfill more)")
    return cutoff


# --------------------------------------------------------------------------- the train job
@dataclass
class TrainSpec:
    """Everything a train job needs to say about its model; `train()` does the common rest."""

    name: str                                  # registry name, e.g. "price_trend"
    kind: str                                  # "regressor" | "classifier"
    frame: pd.DataFrame                        # features + target, UTC hourly index
    features: list[str]
    target: str
    evaluate: Callable[[Any, pd.DataFrame], dict]   # metrics of a model on rows of `frame`
    metric: str                                # the key of evaluate()'s dict that decides promotion
    higher_is_better: bool = False
    params: dict | None = None
    trials: int = 0                            # random-search trials (regressors only)
    base: str | None = None                    # regress the deviation from this column (a seasonal naive)
    extra: dict = field(default_factory=dict)  # carried into the model (e.g. the HMM)
    info: dict = field(default_factory=dict)   # extra figures for the result


def train(store, spec: TrainSpec, production: bool, holdout: int | None = None) -> dict:
    """Validate on the holdout, compare with the champion, and (with production) refit, save, promote."""
    t0 = time.time()
    frame = spec.frame[np.isfinite(spec.frame[spec.target].to_numpy(dtype=float))]
    if len(frame) < 24 * 14:
        raise DataError(f"{spec.name}: only {len(frame)} hourly rows with a target; need at least {24 * 14}")
    days = holdout or holdout_days()
    cutoff = holdout_cutoff(frame.index, days)
    train_rows = frame[frame.index < cutoff]
    hold_rows = frame[frame.index >= cutoff]
    progress(40, "training", f"{spec.name}: {len(train_rows)} training rows, {len(hold_rows)} holdout rows")

    params = dict(spec.params or {})
    search = None
    if spec.trials and spec.kind == "regressor":
        def on_trial(i, n, score):
            progress(40 + 35 * i / n, "search", f"trial {i}/{n}: cv MAE {score:.4g}")
        search = random_search(train_rows, spec.features, spec.target, spec.trials, on_trial=on_trial,
                               base=spec.base, fixed=spec.params)
        params = search["params"]

    model = fit_model(spec.name, spec.kind, train_rows, spec.features, spec.target, params, spec.extra, spec.base)
    metrics = spec.evaluate(model, hold_rows)
    progress(80, "evaluating", f"{spec.name}: holdout {spec.metric} {metrics.get(spec.metric)}")

    out: dict[str, Any] = {
        "model": spec.name,
        "production": production,
        "rows": int(len(frame)),
        "train_rows": int(len(train_rows)),
        "holdout_rows": int(len(hold_rows)),
        "holdout": {"start": timeutil.iso(cutoff), "end": timeutil.iso(frame.index.max()), "days": days},
        "metrics": rounded(metrics),
        **spec.info,
    }
    if search is not None:
        out["search"] = {"trials": len(search["trials"]), "best_cv_mae": round(search["cv_mae"], 4),
                         "best_params": search["params"]}

    if not production:
        out.update(promoted=False, reason="evaluation only (run with --production to refit and promote)")
        out["train_seconds"] = round(time.time() - t0, 2)
        return out

    def score(m, index):
        return float(spec.evaluate(m, hold_rows.loc[index]).get(spec.metric, float("nan")))

    decision = registry.challenge(store, spec.name, hold_rows.index, score, model, spec.metric,
                                  spec.higher_is_better)
    progress(88, "refitting", f"{spec.name}: refit on all {len(frame)} rows")
    final = fit_model(spec.name, spec.kind, frame, spec.features, spec.target, params, spec.extra, spec.base)
    holdout_info = {**out["holdout"], "trained_until": final.trained_until,
                    "trained_at": timeutil.iso(timeutil.now())}
    saved = registry.publish(store, spec.name, final, {**rounded(metrics), "params": params}, holdout_info,
                             decision["promoted"])
    progress(96, "saved", f"{spec.name} {saved['version']} promoted={decision['promoted']}")
    out.update(promoted=decision["promoted"], reason=decision["reason"],
               challenger_score=_r(decision.get("challenger_score")),
               champion_score=_r(decision.get("champion_score")),
               champion_version=decision.get("champion_version"), version=saved["version"], path=saved["path"])
    out["train_seconds"] = round(time.time() - t0, 2)
    return out


def _r(v):
    return None if v is None or not np.isfinite(v) else round(float(v), 4)


def forecast_window(now: pd.Timestamp, horizon_days: float) -> pd.DatetimeIndex:
    """The hours a predict job writes: the current hour and the following horizon_days x 24 - 1."""
    if not horizon_days > 0:
        raise ValueError("horizon must be positive")
    start = timeutil.to_utc(now).floor("h")
    return pd.date_range(start, start + pd.Timedelta(days=horizon_days), freq="h", inclusive="left")
