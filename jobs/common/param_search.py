"""Random hyperparameter search for the forecasting models, scored by time-series cross-validation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from jobs.common.forecast_model import DEFAULT_PARAMS, fit_regressor, make_xgb, training_rows

SEARCH_SPACE = {
    "n_estimators": [150, 250, 400, 600],
    "learning_rate": [0.02, 0.03, 0.05, 0.08, 0.12],
    "max_depth": [3, 4, 5, 6, 8],
    "subsample": [0.6, 0.7, 0.8, 0.9, 1.0],
    "colsample_bytree": [0.5, 0.7, 0.8, 1.0],
    "min_child_weight": [1.0, 3.0, 5.0, 10.0],
    "reg_lambda": [0.3, 1.0, 3.0, 10.0],
}


def random_search(
    frame: pd.DataFrame,
    features: list[str],
    target: str,
    trials: int,
    seed: int = 0,
    n_splits: int = 3,
    on_trial: Callable[[int, int, float], None] | None = None,
    base: str | None = None,
    fixed: dict | None = None,
) -> dict:
    """Random hyperparameter search scored by time-series cross-validation MAE (folds move forward in time).

    `fixed` params (e.g. the objective) apply to every candidate. Returns {"params", "cv_mae",
    "trials": [{"params", "cv_mae"}]}; with trials <= 1, the defaults.
    """
    from sklearn.model_selection import ParameterSampler, TimeSeriesSplit

    rows, y = training_rows(frame, target, base)
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
    for i, params in enumerate(candidates[: max(1, trials)]):
        errs = []
        for tr, va in tss.split(X):
            est = make_xgb("regressor", params, seed=seed)
            fit_regressor(est, X[tr], y[tr])
            errs.append(float(np.mean(np.abs(est.predict(X[va]) - y[va]))))
        score = float(np.mean(errs))
        history.append({"params": params, "cv_mae": score})
        if best is None or score < best["cv_mae"]:
            best = {"params": params, "cv_mae": score}
        if on_trial:
            on_trial(i + 1, len(candidates[: max(1, trials)]), score)
    return {**best, "trials": history}
