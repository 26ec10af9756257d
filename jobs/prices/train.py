"""Train a spot-price model: `trend` (the hourly price), `peak` or `valley` (the day's dear or cheap hours).

    python -m jobs.prices.train --model trend|peak|valley [--production]

- trend: the day-ahead price model of jobs/prices/lear.py: per-hour regularised linear models on the
  previous days' price profiles (lags 1, 2, 3, 7 days), asinh-transformed, recalibrated for every forecast
  day on trailing windows of 56, 84, 364 and 728 days and averaged. Training only checks it: the holdout
  days are forecast one by one, each from the prices known before it.
- peak / valley: XGBoost classifiers of "this hour is among the local day's HEA_PEAK_HOURS most expensive"
  (or HEA_VALLEY_HOURS cheapest) on the same features; scored by precision/recall of the k hours per day
  they pick, and the within-day rank correlation of their probability with the price.

Evaluation: the last HEA_HOLDOUT_DAYS (default 28) whole local days are the holdout, forecast one day ahead,
against "same time yesterday" and the 7-day same-slot average on the same rows. Without --production the job
stops there (nothing saved). With --production (peak, valley) it compares the new model with the champion on
the same holdout, refits on all data, saves HEA_MODELS_DIR/price_<model>/<version>.pkl and registers it,
promoted only if it beat the champion (the result says why, with both scores).

trend with --production: the holdout is cut into weekly windows; the new model, the champion and the naive
forecasters (same time yesterday, 7-day mean, their blend) are scored on each. The new model is promoted
only if it beats the champion and the best naive one in more than half of the windows; what then serves
(`serving` in the result, HEA_MODELS_DIR/price_trend/serving.json) is whichever of the champion and the
naive forecasters has the lowest MAE over the windows, with its margin. run_model serves that.

Environment: HEA_HOLDOUT_DAYS, HEA_PEAK_HOURS, HEA_VALLEY_HOURS, HEA_TRAIN_THREADS,
HEA_FORECAST_MIN_LEAD_HOURS (see jobs/common/forecast_settings.py and jobs/prices/features.py).
"""

from __future__ import annotations

import time

import pandas as pd

from jobs.common import registry, timeutil
from jobs.common.features import HOUR
from jobs.common.forecast_settings import holdout_days, min_lead_hours
from jobs.common.holdout import holdout_cutoff
from jobs.common.metrics import (
    forecast_report,
    local_days,
    naive_forecasts,
    precision_recall,
    rounded,
    same_time_yesterday,
    seven_day_same_slot,
    top_k_per_day,
    weekly_windows,
    within_day_rank_correlation,
)
from jobs.common.protocol import DataError, parser, progress, run_main
from jobs.common.store import Store
from jobs.common.training import TrainSpec, train
from jobs.prices import features as pf
from jobs.prices import lear


def trend_evaluator(prices: pd.Series):
    tz = timeutil.local_tz()
    k = pf.peak_hours()

    def evaluate(model, rows: pd.DataFrame) -> dict:
        # a day-by-day model's forecasts come in the "pred" column; a row model predicts from the rows
        pred = rows["pred"].to_numpy(dtype=float) if "pred" in rows.columns else model.predict(rows)
        actual = prices.reindex(rows.index)
        report = forecast_report(actual, pred, prices)
        report["rank_corr_within_day"] = within_day_rank_correlation(actual, pred, tz)
        report["rank_corr_within_day_yesterday"] = within_day_rank_correlation(
            actual, same_time_yesterday(prices, rows.index), tz
        )
        report["peak_precision"] = precision_recall(
            top_k_per_day(actual, k, tz), top_k_per_day(pd.Series(pred, index=rows.index), k, tz)
        )["precision"]
        return report

    return evaluate


def class_evaluator(prices: pd.Series, model_name: str):
    tz = timeutil.local_tz()
    largest = model_name == "peak"
    k = pf.peak_hours() if largest else pf.valley_hours()

    def evaluate(model, rows: pd.DataFrame) -> dict:
        prob = pd.Series(model.predict(rows), index=rows.index)
        actual = prices.reindex(rows.index)
        truth = top_k_per_day(actual, k, tz, largest=largest)
        picked = top_k_per_day(prob, k, tz, largest=True)
        report = {f"{key}": v for key, v in precision_recall(truth, picked).items()}
        for label, base in (
            ("yesterday", same_time_yesterday(prices, rows.index)),
            ("7day", seven_day_same_slot(prices, rows.index)),
        ):
            pr = precision_recall(truth, top_k_per_day(base, k, tz, largest=largest))
            report[f"baseline_{label}_precision"] = pr["precision"]
        # the probability should rank the day's hours like the price does (inverted for valleys)
        signed = prob if largest else -prob
        report["rank_corr_within_day"] = within_day_rank_correlation(actual, signed.to_numpy(), tz)
        report["k_hours"] = k
        return report

    return evaluate


def holdout_forecast(model, prices: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    """One-day-ahead forecasts of the `index` hours, each local day from the prices before that day."""
    tz = timeutil.local_tz()
    days = pd.Series(local_days(index, tz), index=index)
    parts = []
    for day in days.unique():
        hours = index[(days == day).to_numpy()]
        parts.append(model.forecast(prices[prices.index < timeutil.local_midnight(day, tz)], hours))
    return pd.concat(parts).reindex(index)


def champion_forecast(store, prices: pd.Series, index: pd.DatetimeIndex):
    """The price_trend champion's one-day-ahead forecasts on `index`, or (None, why not)."""
    record = registry.champion(store, pf.REGISTRY_NAMES["trend"])
    if not record:
        return None, None, "no champion yet"
    try:
        champ = registry.load_model(record["path"])
        if hasattr(champ, "forecast"):
            return record, holdout_forecast(champ, prices, index), ""
        exo = pf.Exogenous(store, index.min(), index.max() + HOUR, min_lead=min_lead_hours())
        return record, pd.Series(champ.predict(pf.build_frame(prices, index, exo)), index=index), ""
    except Exception as err:  # an unreadable or incompatible champion must not block a new model forever
        return record, None, f"champion {record.get('version')} could not be scored ({err})"


def train_trend(store, prices: pd.Series, production: bool) -> dict:
    tz = timeutil.local_tz()
    days = holdout_days()
    cutoff = holdout_cutoff(prices.index, days)
    index = prices.index[prices.index >= cutoff]
    model = lear.model_from_env(trained_until=prices.index.max())
    progress(30, "evaluating", f"{days} holdout days, recalibrated day by day")
    pred = holdout_forecast(model, prices, index)
    actual = prices.reindex(index)
    metrics = trend_evaluator(prices)(model, pd.DataFrame({"pred": pred}, index=index))
    naive = naive_forecasts(prices, index)
    for label in ("7day", "blend"):
        metrics[f"rank_corr_within_day_{label}"] = within_day_rank_correlation(actual, naive[label], tz)
    out = {
        "model": pf.REGISTRY_NAMES["trend"],
        "kind": model.kind,
        "settings": model.describe(),
        "production": production,
        "rows": int(len(prices)),
        "holdout_rows": int(len(index)),
        "holdout": {"start": timeutil.iso(cutoff), "end": timeutil.iso(index.max()), "days": days},
        "metrics": rounded(metrics),
    }
    if not production:
        out.update(promoted=False, reason="evaluation only (run with --production to save and promote)")
        return out
    record, champ_pred, note = champion_forecast(store, prices, index)
    forecasts = {"model": pred, **naive}
    if champ_pred is not None:
        forecasts["champion"] = champ_pred
    windows = weekly_windows(index, tz)
    scores = registry.window_maes(actual, forecasts, windows)
    decision = registry.decide(scores, challenger="model", champion="champion" if champ_pred is not None else None)
    holdout_info = {**out["holdout"], "trained_until": model.trained_until, "trained_at": timeutil.iso(timeutil.now())}
    saved = registry.publish(
        store, pf.REGISTRY_NAMES["trend"], model, rounded(metrics), holdout_info, decision["promoted"]
    )
    # "model" in the decision is the champion after it: the new version if promoted, else the old one
    champion_version = saved["version"] if decision["promoted"] else (record or {}).get("version")
    out.update(
        promoted=decision["promoted"],
        reason=" ".join(t for t in (decision["reason"], note) if t),
        **registry.record_serving(pf.REGISTRY_NAMES["trend"], decision, scores, champion_version),
        window_mae={k: [round(v, 3) for v in vals] for k, vals in scores.items()},
        version=saved["version"],
        path=saved["path"],
    )
    return out


def main(args) -> dict:
    t0 = time.time()
    store = Store.open()
    progress(5, "loading", "price.spot, commodities, weather forecasts")
    prices = pf.load_prices(store)
    if len(prices) < 24 * 21:
        raise DataError(f"price.spot has {len(prices)} hourly values; need at least 21 days (run prices_data)")
    if args.model == "trend":
        out = train_trend(store, prices, args.production)
        out["seconds"] = round(time.time() - t0, 2)
        return out
    index = prices.index
    exo = pf.Exogenous(store, index.min(), index.max() + HOUR, min_lead=min_lead_hours())
    progress(20, "features", f"{len(index)} hours from {timeutil.iso(index.min())} to {timeutil.iso(index.max())}")
    frame = pf.build_frame(prices, index, exo)
    features = pf.feature_columns(frame)
    frame["y"] = pf.labels(prices, args.model).to_numpy()
    spec = TrainSpec(
        name=pf.REGISTRY_NAMES[args.model],
        kind="classifier",
        frame=frame,
        features=features,
        target="y",
        evaluate=class_evaluator(prices, args.model),
        metric="precision",
        higher_is_better=True,
        params={"n_estimators": 300, "max_depth": 5},
    )
    out = train(store, spec, args.production)
    out["weather_forecast_coverage"] = {k: round(v, 3) for k, v in exo.coverage.items()}
    out["seconds"] = round(time.time() - t0, 2)
    return out


def build_parser():
    p = parser("Train a spot-price model (trend, peak or valley) and report holdout metrics vs baselines.")
    p.add_argument("--model", choices=pf.MODELS, default="trend")
    p.add_argument(
        "--production",
        action="store_true",
        help="refit on all data, save and promote if it beats the champion on the holdout",
    )
    return p


if __name__ == "__main__":
    run_main(main, build_parser())
