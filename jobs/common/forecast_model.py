"""The XGBoost model of the forecasting jobs: default parameters, the estimator factory and `FittedModel`,
the trained estimator with its feature columns that the registry pickles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from jobs.common import timeutil
from jobs.common.forecast_settings import train_threads
from jobs.common.protocol import DataError

DEFAULT_PARAMS = {
    "n_estimators": 400,
    "learning_rate": 0.05,
    "max_depth": 6,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 3.0,
    "reg_lambda": 1.0,
}


def make_xgb(kind: str, params: dict | None = None, seed: int = 0, threads: int | None = None):
    import xgboost as xgb

    p = {**DEFAULT_PARAMS, **(params or {})}
    objective = p.pop("objective", None)
    common = dict(tree_method="hist", n_jobs=threads or train_threads(), random_state=seed, **p)
    if kind == "classifier":
        return xgb.XGBClassifier(objective=objective or "binary:logistic", eval_metric="logloss", **common)
    return xgb.XGBRegressor(objective=objective or "reg:squarederror", **common)


@dataclass
class FittedModel:
    """A trained estimator with the feature columns it needs; what the registry pickles."""

    name: str
    kind: str  # "regressor" | "classifier"
    features: list[str]
    estimator: Any
    params: dict
    trained_until: str  # last target timestamp used in fitting (ISO UTC)
    extra: dict = field(default_factory=dict)
    base: str | None = None  # a feature column the regressor predicts the deviation from

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


def fit_regressor(est, X: np.ndarray, y: np.ndarray) -> None:
    """Fits a regressor from `make_xgb` as `XGBRegressor.fit(X, y)` does (a QuantileDMatrix with the same bins,
    no eval set, no callbacks, `n_estimators` rounds), through xgboost's native `xgb.train`, and attaches the
    booster so the estimator (and its pickle) is the one `fit` makes: test_forecast_model checks the two
    byte for byte. Native, so a fit skips the wrapper's argument handling and validation; the data matrix and
    the rounds run in xgboost's C++ with the GIL released, so fits in parallel threads overlap."""
    import xgboost as xgb

    dtrain = xgb.QuantileDMatrix(X, label=y, missing=est.missing, nthread=est.n_jobs, max_bin=est.max_bin)
    est._Booster = xgb.train(est.get_xgb_params(), dtrain, est.get_num_boosting_rounds(), verbose_eval=False)


def training_rows(frame: pd.DataFrame, target: str, base: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows with a target (and a base, if any) and the values the estimator learns."""
    y = frame[target].to_numpy(dtype=float)
    ok = np.isfinite(y)
    if base:
        b = frame[base].to_numpy(dtype=float)
        ok &= np.isfinite(b)
        return frame[ok], (y - b)[ok]
    return frame[ok], y[ok]


def fit_model(
    name: str,
    kind: str,
    frame: pd.DataFrame,
    features: list[str],
    target: str,
    params: dict | None = None,
    extra: dict | None = None,
    base: str | None = None,
    threads: int | None = None,
) -> FittedModel:
    """`threads`: XGBoost threads for this fit (default HEA_TRAIN_THREADS)."""
    base = base if kind == "regressor" else None
    rows, y = training_rows(frame, target, base)
    if kind == "classifier" and len(np.unique(y)) < 2:
        raise DataError(f"{name}: the training labels have a single class; need more days of data")
    est = make_xgb(kind, params, threads=threads)
    X = rows[features].to_numpy(dtype=float)
    if kind == "regressor":
        fit_regressor(est, X, y)
    else:
        est.fit(X, y)  # the classifier's fit also encodes the labels and sets its classes: kept as it is
    return FittedModel(
        name=name,
        kind=kind,
        features=list(features),
        estimator=est,
        params={**DEFAULT_PARAMS, **(params or {})},
        trained_until=timeutil.iso(rows.index.max()),
        extra=dict(extra or {}),
        base=base,
    )
