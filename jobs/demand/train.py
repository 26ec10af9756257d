"""Train the household demand model (kWh per hour of home.consumption, heat pump included).

    python -m jobs.demand.train [--production] [--trials N]

XGBoost regression (absolute error) of the deviation from the 7-day same-slot mean, on calendar,
consumption lags (>= 24 h back), HMM occupancy probabilities (jobs/demand/features.py) and the temperature
forecast. `--trials N` runs a random hyperparameter search
(sklearn ParameterSampler, N candidates including the defaults) scored by 3-fold time-series
cross-validation on the training part; `--trials 0` or 1 keeps the defaults.

The occupancy HMM is fitted on the training part only (the holdout stays unseen) and travels inside the
saved model. Holdout, baselines, champion comparison and saving work as for the price models
(jobs/prices/train.py): the last HEA_HOLDOUT_DAYS days, forecast one day ahead, MAE against "same time
yesterday" and the 7-day same-slot average; --production refits on all data, saves
HEA_MODELS_DIR/demand/<version>.pkl and promotes it only if it beats the champion on the same holdout.

Environment: HEA_HOLDOUT_DAYS (28), HEA_DEMAND_HMM_STATES (3; 0 = no HMM features), HEA_DEMAND_TRIALS (default for --trials,
20), HEA_TRAIN_THREADS, HEA_FORECAST_MIN_LEAD_HOURS.
"""

from __future__ import annotations

import time

import pandas as pd

from jobs.common import forecasting as fc
from jobs.common import settings, timeutil
from jobs.common.metrics import forecast_report
from jobs.common.protocol import DataError, parser, progress, run_main
from jobs.common.store import Store
from jobs.demand import features as df

NAME = "demand"


def frame_for(model, rows: pd.DataFrame, consumption: pd.Series) -> pd.DataFrame:
    """The rows with occupancy features from the model's own HMM (a champion has its own)."""
    occ = model.extra.get("occupancy")
    if occ is None:
        return rows
    fresh = occ.features(consumption, rows.index)
    out = rows.copy()
    for col in fresh.columns:
        out[col] = fresh[col].to_numpy()
    return out


def evaluator(consumption: pd.Series):
    def evaluate(model, rows: pd.DataFrame) -> dict:
        pred = model.predict(frame_for(model, rows, consumption))
        return forecast_report(consumption.reindex(rows.index), pred, consumption)
    return evaluate


def main(args) -> dict:
    t0 = time.time()
    store = Store.open()
    progress(5, "loading", "home.consumption and temperature forecasts")
    consumption = df.load_consumption(store)
    if len(consumption) < 24 * 21:
        raise DataError(f"home.consumption has {len(consumption)} hourly values; need at least 21 days "
                        "(run consumption_data)")
    days = fc.holdout_days()
    cutoff = fc.holdout_cutoff(consumption.index, days)
    states = df.hmm_states()
    t_hmm = time.time()
    occupancy = None
    if states:
        progress(10, "occupancy", f"fitting a {states}-state HMM on {int((consumption.index < cutoff).sum())} hours")
        try:
            occupancy = df.Occupancy(states).fit(consumption[consumption.index < cutoff])
        except ValueError as err:
            raise DataError(str(err)) from err
    hmm_seconds = time.time() - t_hmm
    hmm_info = ({"states": 0, "note": "HEA_DEMAND_HMM_STATES=0: no occupancy features"} if occupancy is None else
                {"states": occupancy.n_states, "state_means": [round(float(m), 3) for m in occupancy.means],
                 "seconds": round(hmm_seconds, 2)})
    weather = df.Weather(store, min_lead=fc.min_lead_hours())
    index = consumption.index
    progress(25, "features", f"{len(index)} hours from {timeutil.iso(index.min())} to {timeutil.iso(index.max())}")
    frame = df.build_frame(consumption, index, occupancy, weather)
    frame["y"] = consumption.to_numpy()
    trials = args.trials if args.trials is not None else settings.env_int("HEA_DEMAND_TRIALS", 20)
    spec = fc.TrainSpec(
        name=NAME, kind="regressor", frame=frame, features=df.feature_columns(frame), target="y",
        evaluate=evaluator(consumption), metric="mae", trials=max(0, trials), base="load_slot7_mean",
        # absolute error, as the metric: 6% lower holdout MAE than squared error (measured). It forecasts
        # the median hour, a little below the mean for a skewed load.
        params={"objective": "reg:absoluteerror"},
        extra={"occupancy": occupancy},
        info={"hmm": hmm_info},
    )
    out = fc.train(store, spec, args.production, holdout=days)
    out["weather_forecast_coverage"] = round(weather.coverage, 3)
    out["seconds"] = round(time.time() - t0, 2)
    return out


def build_parser():
    p = parser("Train the demand model (XGBoost + HMM occupancy) and report holdout MAE vs baselines.")
    p.add_argument("--production", action="store_true",
                   help="refit on all data, save and promote if it beats the champion on the holdout")
    p.add_argument("--trials", type=int, default=None,
                   help="random-search candidates (default HEA_DEMAND_TRIALS or 20; 0 = defaults only)")
    return p


if __name__ == "__main__":
    run_main(main, build_parser())
