"""jobs.common.forecast_model: the native fit (`fit_regressor`) makes the very model `XGBRegressor.fit` makes."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from jobs.common.forecast_model import fit_regressor, make_xgb


def _data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 8))
    X[rng.random(X.shape) < 0.05] = np.nan  # missing values take xgboost's default branch: both paths alike
    y = np.nan_to_num(X[:, 0]) * 2 + np.sin(np.nan_to_num(X[:, 1])) + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize(
    "params",
    [
        {"n_estimators": 60, "max_depth": 3, "learning_rate": 0.05, "min_child_weight": 10.0},  # the meter job's
        {"n_estimators": 40},  # DEFAULT_PARAMS: row and column subsampling, so the seed matters
    ],
)
def test_native_fit_is_the_sklearn_fit_byte_for_byte(params):
    X, y = _data()
    wrapped = make_xgb("regressor", params, seed=3)
    wrapped.fit(X, y)
    native = make_xgb("regressor", params, seed=3)
    fit_regressor(native, X, y)
    assert native.get_booster().save_raw("json") == wrapped.get_booster().save_raw("json")
    assert np.array_equal(native.predict(X), wrapped.predict(X))
    assert pickle.dumps(native) == pickle.dumps(wrapped)  # the model file the registry writes


def test_another_seed_is_another_model():
    # The comparison above can fail: a different seed with subsampling gives different trees.
    X, y = _data()
    a, b = make_xgb("regressor", {"n_estimators": 40}, seed=3), make_xgb("regressor", {"n_estimators": 40}, seed=4)
    fit_regressor(a, X, y)
    fit_regressor(b, X, y)
    assert a.get_booster().save_raw("json") != b.get_booster().save_raw("json")
