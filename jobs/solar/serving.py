"""What serves the PV forecast: the trained model, the physical estimate, or a naive forecaster.

Decided as for prices and demand (`registry.decide` on the holdout's weeks): the weather-driven forecaster
(the champion model, or the physical estimate where it did better on the same weeks) against "same time
yesterday", the 7-day same-slot mean and their blend. A naive forecaster serves when it had the lower summed
MAE, and the result says so: a user never gets a PV forecast worse than naive without being told. On a
real roof without weather the 7-day mean is hard to beat (docs/models.md, solar rows of bench:real).

Without any weather forecast for the window (no weather source, or its fetch failing), the model and the
physical estimate cannot run; instead of writing nothing the job serves the naive forecaster that did best
over the last four weeks of measured production (`naive_fallback`), and says that too.
"""

from __future__ import annotations

import pandas as pd

from jobs.common import registry
from jobs.common.features import DAY, decision_times
from jobs.common.metrics import naive_forecasts, weekly_windows

NAME = "solar"
FALLBACK_DAYS = 28  # the weeks of measured production the no-weather fallback chooses on


def day_ahead_naive(history: pd.Series, index: pd.DatetimeIndex, tz: str) -> dict[str, pd.Series]:
    """The naive forecasts of `index` as the daily pipeline makes them, at 06:00 local the day before each
    hour: "yesterday" is then two days back for the daylight hours. Scored as if made 24 hours back they
    flatter "yesterday" and the blend, and a choice made on that picks them too often."""
    made = decision_times(index, tz)
    parts: dict[str, list[pd.Series]] = {name: [] for name in registry.NAIVE}
    for when in made.unique():
        for name, f in naive_forecasts(history, index[made == when], known_until=when).items():
            parts[name].append(f)
    return {name: pd.concat(f).reindex(index) for name, f in parts.items()}


def decide(actual: pd.Series, model: pd.Series | None, physical: pd.Series, history: pd.Series, tz: str) -> dict:
    """The serving decision on holdout rows (`actual`'s index): every candidate scored week by week on the
    hours all of them cover. `history` holds the production before and during the holdout (the naive
    forecasters look back up to 7 days). Returns what `save` records."""
    naive = day_ahead_naive(history, actual.index, tz)
    weeks = weekly_windows(actual.index, tz)
    weather = {"physical": physical} if model is None else {"model": model, "physical": physical}
    scores = registry.window_maes(actual, {**weather, **naive}, weeks)
    pooled = {k: registry.summed_mae(v) for k, v in scores.items()}
    # the weather-driven forecaster that competes with the naive ones: the model unless the physical
    # estimate did better on the same weeks
    driver = "model" if model is not None and pooled["model"] <= pooled["physical"] else "physical"
    decision = registry.decide({k: v for k, v in scores.items() if k in (driver, *registry.NAIVE)}, champion=driver)
    if driver == "physical" and model is not None:
        decision["reason"] += (
            f"; the physical estimate beat the model on these weeks ({pooled['physical']:.4g} vs "
            f"{pooled['model']:.4g} summed weekly MAE)"
        )
    decision["window_mae"] = scores
    return decision


def save(decision: dict, version: str | None) -> dict:
    """Record the decision in HEA_MODELS_DIR/solar/serving.json; returns the fields the result reports."""
    forecaster = decision["serving"]
    served = (
        f"naive:{forecaster}"
        if decision["serving_is_naive"]
        else ("physical" if forecaster == "physical" else f"{NAME}:{version}")
    )
    payload = {
        "serving": served,
        "forecaster": forecaster,
        "naive": decision["serving_is_naive"],
        "margin": _finite(decision["margin"]),
        "vs_best_naive": _finite(decision["vs_best_naive"]),
        "best_naive": decision["best_naive"],
        "window_mae": decision["window_mae"],
        "reason": decision["reason"],
    }
    registry.save_serving(NAME, payload)
    return {"serving": served, "serving_reason": decision["reason"], "serving_vs_best_naive": payload["vs_best_naive"]}


def naive_fallback(
    production: pd.Series, window: pd.DatetimeIndex, now: pd.Timestamp, tz: str
) -> tuple[pd.Series, str, str]:
    """(forecast over `window`, naive name, reason) when no weather forecast covers the window: the naive
    forecaster with the lowest summed MAE over the last four weeks of measured production, each hour
    forecast as it would have been a day ahead. The 7-day mean without enough history to choose."""
    known = production[production.index < now].dropna()
    recent = known[known.index >= now - FALLBACK_DAYS * DAY].index
    name, reason = "7day", "too little measured production to choose: the 7-day mean serves"
    if len(recent) >= 24 * 7:
        scores = registry.window_maes(known, day_ahead_naive(known, recent, tz), weekly_windows(recent, tz))
        decision = registry.decide(scores)
        name, reason = decision["serving"], decision["reason"]
    forecast = naive_forecasts(known, window, known_until=now)[name]
    return forecast, name, f"no weather forecast covers the window: naive:{name} serves ({reason})"


def _finite(v: float) -> float | None:
    return round(float(v), 4) if v == v else None
