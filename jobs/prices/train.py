"""Train a spot-price model: `trend` (the hourly price), `peak` or `valley` (the day's dear or cheap hours).

    python -m jobs.prices.train --model trend|peak|valley [--production]

- trend: XGBoost regression of the hourly spot price (EUR/MWh) on calendar, lagged prices (>= 24 h back),
  rolling statistics, gas and CO2 (as of the day before) and wind/temperature forecasts. It learns the
  deviation from the mean of the last known 24 hours, so a new price level (a gas shock) carries over
  instead of being clamped to the levels the trees saw in training. It minimises absolute error (the metric
  is MAE; squared error chases the rare spikes).
- peak / valley: XGBoost classifiers of "this hour is among the local day's HEA_PEAK_HOURS most expensive"
  (or HEA_VALLEY_HOURS cheapest) on the same features; scored by precision/recall of the k hours per day
  they pick, and the within-day rank correlation of their probability with the price.

Evaluation: the last HEA_HOLDOUT_DAYS (default 28) whole local days are the holdout, forecast one day ahead,
against "same time yesterday" and the 7-day same-slot average on the same rows. Without --production the job
stops there (nothing saved). With --production it compares the new model with the champion on the same
holdout, refits on all data, saves HEA_MODELS_DIR/price_<model>/<version>.pkl and registers it, promoted only
if it beat the champion (the result says why, with both scores).

Environment: HEA_HOLDOUT_DAYS, HEA_PEAK_HOURS, HEA_VALLEY_HOURS, HEA_TRAIN_THREADS,
HEA_FORECAST_MIN_LEAD_HOURS (see jobs/common/forecasting.py and jobs/prices/features.py).
"""

from __future__ import annotations

import time

import pandas as pd

from jobs.common import forecasting as fc
from jobs.common import timeutil
from jobs.common.metrics import (forecast_report, precision_recall, same_time_yesterday, seven_day_same_slot,
                                 top_k_per_day, within_day_rank_correlation)
from jobs.common.protocol import DataError, parser, progress, run_main
from jobs.common.store import Store
from jobs.prices import features as pf


def trend_evaluator(prices: pd.Series):
    tz = timeutil.local_tz()
    k = pf.peak_hours()

    def evaluate(model, rows: pd.DataFrame) -> dict:
        pred = model.predict(rows)
        actual = prices.reindex(rows.index)
        report = forecast_report(actual, pred, prices)
        report["rank_corr_within_day"] = within_day_rank_correlation(actual, pred, tz)
        report["rank_corr_within_day_yesterday"] = within_day_rank_correlation(
            actual, same_time_yesterday(prices, rows.index), tz)
        report["peak_precision"] = precision_recall(
            top_k_per_day(actual, k, tz), top_k_per_day(pd.Series(pred, index=rows.index), k, tz))["precision"]
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
        for label, base in (("yesterday", same_time_yesterday(prices, rows.index)),
                            ("7day", seven_day_same_slot(prices, rows.index))):
            pr = precision_recall(truth, top_k_per_day(base, k, tz, largest=largest))
            report[f"baseline_{label}_precision"] = pr["precision"]
        # the probability should rank the day's hours like the price does (inverted for valleys)
        signed = prob if largest else -prob
        report["rank_corr_within_day"] = within_day_rank_correlation(actual, signed.to_numpy(), tz)
        report["k_hours"] = k
        return report

    return evaluate


def main(args) -> dict:
    t0 = time.time()
    store = Store.open()
    progress(5, "loading", "price.spot, commodities, weather forecasts")
    prices = pf.load_prices(store)
    if len(prices) < 24 * 21:
        raise DataError(f"price.spot has {len(prices)} hourly values; need at least 21 days (run prices_data)")
    index = prices.index
    exo = pf.Exogenous(store, index.min(), index.max() + fc.HOUR, min_lead=fc.min_lead_hours())
    progress(20, "features", f"{len(index)} hours from {timeutil.iso(index.min())} to {timeutil.iso(index.max())}")
    frame = pf.build_frame(prices, index, exo)
    features = pf.feature_columns(frame)
    if args.model == "trend":
        frame["y"] = prices.to_numpy()
        spec = fc.TrainSpec(name=pf.REGISTRY_NAMES["trend"], kind="regressor", frame=frame, features=features,
                            target="y", evaluate=trend_evaluator(prices), metric="mae",
                            base="price_roll24_mean",
                            # absolute error: the metric is MAE, and squared error chases the spikes
                            params={"objective": "reg:absoluteerror"})
    else:
        frame["y"] = pf.labels(prices, args.model).to_numpy()
        spec = fc.TrainSpec(name=pf.REGISTRY_NAMES[args.model], kind="classifier", frame=frame,
                            features=features, target="y", evaluate=class_evaluator(prices, args.model),
                            metric="precision", higher_is_better=True,
                            params={"n_estimators": 300, "max_depth": 5})
    out = fc.train(store, spec, args.production)
    out["weather_forecast_coverage"] = {k: round(v, 3) for k, v in exo.coverage.items()}
    out["seconds"] = round(time.time() - t0, 2)
    return out


def build_parser():
    p = parser("Train a spot-price model (trend, peak or valley) and report holdout metrics vs baselines.")
    p.add_argument("--model", choices=pf.MODELS, default="trend")
    p.add_argument("--production", action="store_true",
                   help="refit on all data, save and promote if it beats the champion on the holdout")
    return p


if __name__ == "__main__":
    run_main(main, build_parser())
