"""The train-and-promote pipeline of the forecasting jobs: `train(store, TrainSpec(...), production)`.

Split the history into training rows and a holdout of whole local days at its end (`holdout_cutoff`),
search hyperparameters on the training rows (optional), fit, score on the holdout, compare with the
champion (jobs.common.registry.challenge) and, in production, refit on everything, save and promote.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from jobs.common import registry, timeutil
from jobs.common.forecast_model import fit_model
from jobs.common.forecast_settings import holdout_days
from jobs.common.holdout import holdout_cutoff, split_at
from jobs.common.metrics import rounded
from jobs.common.param_search import random_search
from jobs.common.protocol import DataError, progress


@dataclass
class TrainSpec:
    """Everything a train job needs to say about its model; `train()` does the common rest."""

    name: str  # registry name, e.g. "price_trend"
    kind: str  # "regressor" | "classifier"
    frame: pd.DataFrame  # features + target, UTC hourly index
    features: list[str]
    target: str
    evaluate: Callable[[Any, pd.DataFrame], dict]  # metrics of a model on rows of `frame`
    metric: str  # the key of evaluate()'s dict that decides promotion
    higher_is_better: bool = False
    params: dict | None = None
    trials: int = 0  # random-search trials (regressors only)
    base: str | None = None  # regress the deviation from this column (a seasonal naive)
    extra: dict = field(default_factory=dict)  # carried into the model (e.g. the HMM)
    info: dict = field(default_factory=dict)  # extra figures for the result
    # production only, for jobs that decide what serves themselves (a naive forecaster may): called with the
    # model fitted before the holdout, the holdout rows and the champion's version after the promotion
    # decision; its dict joins the result
    serve: Callable[[Any, pd.DataFrame, str | None], dict] | None = None


def train(store, spec: TrainSpec, production: bool, holdout: int | None = None) -> dict:
    """Validate on the holdout, compare with the champion, and (with production) refit, save, promote."""
    t0 = time.time()
    frame = spec.frame[np.isfinite(spec.frame[spec.target].to_numpy(dtype=float))]
    if len(frame) < 24 * 14:
        raise DataError(f"{spec.name}: only {len(frame)} hourly rows with a target; need at least {24 * 14}")
    days = holdout or holdout_days()
    cutoff = holdout_cutoff(frame.index, days)
    train_rows, hold_rows = split_at(frame, cutoff)
    progress(40, "training", f"{spec.name}: {len(train_rows)} training rows, {len(hold_rows)} holdout rows")

    params = dict(spec.params or {})
    search = None
    if spec.trials and spec.kind == "regressor":

        def on_trial(i, n, score):
            progress(40 + 35 * i / n, "search", f"trial {i}/{n}: cv MAE {score:.4g}")

        search = random_search(
            train_rows, spec.features, spec.target, spec.trials, on_trial=on_trial, base=spec.base, fixed=spec.params
        )
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
        out["search"] = {
            "trials": len(search["trials"]),
            "best_cv_mae": round(search["cv_mae"], 4),
            "best_params": search["params"],
        }

    if not production:
        out.update(promoted=False, reason="evaluation only (run with --production to refit and promote)")
        out["train_seconds"] = round(time.time() - t0, 2)
        return out

    def score(m, index):
        return float(spec.evaluate(m, hold_rows.loc[index]).get(spec.metric, float("nan")))

    decision = registry.challenge(store, spec.name, hold_rows.index, score, model, spec.metric, spec.higher_is_better)
    progress(88, "refitting", f"{spec.name}: refit on all {len(frame)} rows")
    final = fit_model(spec.name, spec.kind, frame, spec.features, spec.target, params, spec.extra, spec.base)
    holdout_info = {**out["holdout"], "trained_until": final.trained_until, "trained_at": timeutil.iso(timeutil.now())}
    saved = registry.publish(
        store, spec.name, final, {**rounded(metrics), "params": params}, holdout_info, decision["promoted"]
    )
    progress(96, "saved", f"{spec.name} {saved['version']} promoted={decision['promoted']}")
    out.update(
        promoted=decision["promoted"],
        reason=decision["reason"],
        challenger_score=_r(decision.get("challenger_score")),
        champion_score=_r(decision.get("champion_score")),
        champion_version=decision.get("champion_version"),
        version=saved["version"],
        path=saved["path"],
    )
    if spec.serve is not None:
        champion = saved["version"] if decision["promoted"] else decision.get("champion_version")
        out.update(spec.serve(model, hold_rows, champion))
    out["train_seconds"] = round(time.time() - t0, 2)
    return out


def _r(v):
    return None if v is None or not np.isfinite(v) else round(float(v), 4)
