"""Train the household demand model (kWh per hour of home.consumption, heat pump included).

    python -m jobs.demand.train [--production] [--trials N]

The model (jobs/demand/model.py): XGBoost with an absolute-error objective on the level-normalised load,
from what is known at a day-ahead decision (06:00 local the day before): the same hour on the last 28 known
days, their 7/28-day statistics, the recent level, calendar; the occupancy HMM's state probabilities when
HEA_DEMAND_HMM_STATES > 0 and its states separate; the temperature when the store has weather.

Holdout: the last HEA_HOLDOUT_DAYS (28) days, each forecast at 06:00 local the day before by a model trained
on what was measured before the holdout's first decision. Yardsticks known at that time: "yesterday" (the
newest measured value at the same hour) and the 7-day same-hour mean. What serves is the model only if it
beats the best naive forecaster on most holdout weeks; otherwise the best naive one, and the result says so.
`--production` refits on everything, saves HEA_MODELS_DIR/demand/<version>.pkl and promotes it if it beats
the champion on the same holdout.

The result reports its inputs honestly: `inputs.weather` is "no weather", "forecast weather", "measured
weather" or a mix with shares, and `warnings` lists feature columns that were all empty (dropped).

Environment: HEA_HOLDOUT_DAYS (28), HEA_DEMAND_HMM_STATES (default 0 = no occupancy features; see
docs/models.md for why), HEA_TRAIN_THREADS, HEA_FORECAST_MIN_LEAD_HOURS. `--trials` is accepted for the
workflow's sake; the model has fixed parameters (a search did not pay on real households).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from jobs.common import registry, timeutil
from jobs.common.forecast_settings import holdout_days, min_lead_hours, train_threads
from jobs.common.holdout import holdout_cutoff
from jobs.common.protocol import DataError, log, parser, progress, run_main
from jobs.common.store import Store
from jobs.demand import features as df
from jobs.demand import model as dm

NAME = "demand"
WEATHER_MIN_COVERAGE = 0.8


def errors(frame: pd.DataFrame, model: dm.DemandModel) -> pd.DataFrame:
    """Absolute errors of every candidate on the rows where all of them have a value."""
    out = pd.DataFrame({k: np.abs(v - frame["y"].to_numpy()) for k, v in model.forecasts(frame).items()},
                       index=frame.index)
    return out.dropna()


def choose_serving(err: pd.DataFrame, tz: str) -> tuple[str, dict]:
    """The model serves if it beats the best naive forecaster on most holdout weeks and overall."""
    naive = [c for c in dm.FORECASTERS if c != "model"]
    best_naive = min(naive, key=lambda c: err[c].sum())
    weeks = (err.index.tz_convert(tz).tz_localize(None).normalize() - err.index.min().tz_convert(tz).tz_localize(None).normalize()).days // 7
    by_week = err.groupby(weeks).sum()
    wins = int((by_week["model"] < by_week[best_naive]).sum())
    ok = wins > len(by_week) / 2 and err["model"].sum() < err[best_naive].sum()
    serving = "model" if ok else best_naive
    return serving, {"serving": serving, "best_naive": best_naive, "weeks": int(len(by_week)), "model_wins": wins,
                     "margin_vs_best_naive": round(float(err["model"].sum() / max(err[best_naive].sum(), 1e-12)), 4)}


def main(args) -> dict:
    t0 = time.time()
    store = Store.open()
    tz = timeutil.local_tz()
    progress(5, "loading", "home.consumption")
    consumption = df.load_consumption(store)
    if len(consumption) < 24 * 21:
        raise DataError(f"home.consumption has {len(consumption)} hourly values; need at least 21 days "
                        "(run consumption_data)")
    days = holdout_days()
    cutoff = holdout_cutoff(consumption.index, days)
    until = dm.decision_times(pd.DatetimeIndex([cutoff]), tz)[0]
    past = consumption[consumption.index < until]
    warnings: list[str] = []

    states = df.hmm_states()
    occupancy, hmm_info = None, {"states": 0, "used": False, "note": "HEA_DEMAND_HMM_STATES=0: no occupancy features"}
    if states:
        progress(10, "occupancy", f"fitting a {states}-state HMM ({df.HMM_RESTARTS} restarts)")
        occupancy, hmm_info = df.fit_occupancy(past, states)
        if occupancy is None:
            warnings.append(hmm_info["note"])

    progress(20, "features", "weather inputs")
    weather, source = dm.weather_inputs(store, consumption.index, min_lead=min_lead_hours())
    use_weather = source["forecast"] + source["measured"] >= WEATHER_MIN_COVERAGE
    inputs_info = {"weather": dm.describe_weather(source), "weather_shares": source, "weather_used": use_weather,
                   "occupancy": "used" if occupancy is not None else "not used"}
    if not use_weather and source["none"] < 1.0:
        warnings.append(f"weather covers only {1 - source['none']:.0%} of the hours: not used")

    frame = dm.training_frame(past, tz, occupancy=occupancy, weather=weather if use_weather else None)
    empty = dm.empty_columns(frame, dm.feature_names(frame))
    if empty:
        warnings.append(f"feature columns with no value at all, dropped: {', '.join(empty)}")
        frame = frame.drop(columns=empty)
    progress(40, "training", f"{len(frame)} training hours before {timeutil.iso(until)}")
    model = dm.fit(frame, threads=train_threads())
    model.occupancy, model.weather, model.tz = occupancy, use_weather and "fc_temperature" not in empty, tz

    targets = consumption[consumption.index >= cutoff].index
    hold = dm.inputs(consumption, targets, dm.decision_times(targets, tz), tz, occupancy,
                     weather if use_weather else None)
    hold["y"] = consumption.reindex(targets).to_numpy()
    err = errors(hold, model)
    serving, serve_info = choose_serving(err, tz)
    model.serving = serving
    maes = {k: float(err[k].mean()) for k in err.columns}
    metrics = {
        "mae": float(err[serving].mean()), "model_mae": maes["model"],
        "baseline_yesterday_mae": maes["naive_yesterday"], "baseline_7day_mae": maes["naive_7day"],
        "baseline_blend_mae": maes["naive_blend"],
        "rmae_yesterday": maes["model"] / maes["naive_yesterday"], "rmae_7day": maes["model"] / maes["naive_7day"],
        "holdout_rows": int(len(err)),
    }
    if serving != "model":
        warnings.append(f"the model did not beat {serve_info['best_naive']} on most holdout weeks "
                        f"({serve_info['model_wins']} of {serve_info['weeks']}): {serving} serves")
    for w in warnings:
        log(w)
    out = {
        "model": NAME, "production": args.production, "rows": int(len(consumption)), "train_rows": int(len(frame)),
        "holdout_rows": int(len(err)),
        "holdout": {"start": timeutil.iso(cutoff), "end": timeutil.iso(consumption.index.max()), "days": days,
                    "decision": "06:00 local the day before"},
        "metrics": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()},
        "serving": serve_info, "hmm": hmm_info, "inputs": inputs_info, "warnings": warnings,
    }
    if not args.production:
        out.update(promoted=False, reason="evaluation only (run with --production to refit and promote)",
                   seconds=round(time.time() - t0, 2))
        return out

    def score(m, index):
        rows = hold.loc[hold.index.intersection(index)]
        pred = m.predict(rows) if isinstance(m, dm.DemandModel) else np.full(len(rows), np.nan)
        return float(np.nanmean(np.abs(pred - rows["y"].to_numpy())))

    decision = registry.challenge(store, NAME, err.index, score, model, "mae")
    progress(85, "refitting", f"on all {len(consumption)} hours")
    full = dm.training_frame(consumption, tz, occupancy=occupancy, weather=weather if use_weather else None)
    full = full.drop(columns=[c for c in empty if c in full.columns])
    final = dm.fit(full, threads=train_threads())
    final.occupancy, final.weather, final.tz, final.serving = model.occupancy, model.weather, tz, serving
    holdout_info = {**out["holdout"], "trained_until": final.trained_until, "trained_at": timeutil.iso(timeutil.now())}
    saved = registry.publish(store, NAME, final, {**out["metrics"], "serving": serving}, holdout_info,
                             decision["promoted"])
    out.update(promoted=decision["promoted"], reason=decision["reason"], version=saved["version"], path=saved["path"],
               champion_version=decision.get("champion_version"), train_seconds=round(time.time() - t0, 2),
               seconds=round(time.time() - t0, 2))
    return out


def build_parser():
    p = parser("Train the demand model and report holdout MAE against the naive forecasts.")
    p.add_argument("--production", action="store_true",
                   help="refit on all data, save and promote if it beats the champion on the holdout")
    p.add_argument("--trials", type=int, default=None, help="accepted for compatibility; fixed parameters")
    return p


if __name__ == "__main__":
    run_main(main, build_parser())
