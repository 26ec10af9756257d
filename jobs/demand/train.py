"""Train the household demand model (kWh per hour of home.consumption, heat pump included).

    python -m jobs.demand.train [--production] [--trials N]

The model (jobs/demand/model.py): XGBoost with an absolute-error objective on the level-normalised load,
from what is known at a day-ahead decision (06:00 local the day before): the same hour on the last 28 known
days, their 7/28-day statistics, the recent level, calendar; the occupancy HMM's state probabilities when
HEA_DEMAND_HMM_STATES > 0 and its states separate; the temperature when the store has weather. Its
forecast is mixed with the weekday/weekend-aware 28-day same-slot median, the share learned on the holdout.

Holdout: the last HEA_HOLDOUT_DAYS (28) days, each forecast at 06:00 local the day before by a model trained
on what was measured before the holdout's first decision. Candidates, scored week by week on the same hours:
the model (each week mixed with the profile share learned on the other weeks), the naive forecasters as known
at that time ("yesterday": the newest measured value at the same hour; "7day": the 7-day same-hour mean;
"blend") and, with `--production`, the champion. `registry.decide` promotes the model only if it beats the
champion and the best naive forecaster in most weeks, and picks what serves: the champion after that
decision or a naive forecaster, whichever has the lowest MAE over the weeks. `--production` refits on
everything, saves HEA_MODELS_DIR/demand/<version>.pkl (registered, promoted or not) and records the serving
decision in HEA_MODELS_DIR/demand/serving.json (`demand:<version>` or `naive:<name>`), which
`jobs.demand.predict` serves.

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
from jobs.common.metrics import weekly_windows
from jobs.common.protocol import DataError, log, parser, progress, run_main
from jobs.common.store import Store
from jobs.demand import features as df
from jobs.demand import model as dm

NAME = "demand"
WEATHER_MIN_COVERAGE = 0.8
MIN_UNSEEN_HOURS = 24 * 7


def learn_mix(model: dm.DemandModel, hold: pd.DataFrame, tz: str) -> tuple[float, pd.Series]:
    """The profile's share in the forecast, learned on the holdout (the past, for every forecast the model
    will serve), and the model's holdout forecast scored honestly: each holdout week mixed with the share
    learned on the other weeks, never on itself."""
    trees, prof, y = model.predict_trees(hold), dm.profile(hold), hold["y"].to_numpy(dtype=float)
    out = pd.Series(dm.mix(trees, prof, model.profile_weight), index=hold.index)
    weeks = weekly_windows(hold.index, tz)
    for week in weeks if len(weeks) > 1 else []:
        inside = hold.index.isin(week)
        w = dm.learn_profile_weight(trees[~inside], prof[~inside], y[~inside])
        out[inside] = dm.mix(trees[inside], prof[inside], w)
    return dm.learn_profile_weight(trees, prof, y), out


def candidates(frame: pd.DataFrame, model_forecast: pd.Series) -> dict[str, pd.Series]:
    """The new model's and the naive forecasters' forecasts on the frame's rows (registry names)."""
    naive = {k: pd.Series(v, index=frame.index) for k, v in dm.naive_from_frame(frame).items()}
    return {"model": model_forecast, **naive}


def champion_forecast(
    store, consumption: pd.Series, targets: pd.DatetimeIndex, weather
) -> tuple[dict | None, pd.Series | None, str]:
    """The demand champion's forecasts on the holdout, made as the new model's are: (record, forecast, note)."""
    record = registry.champion(store, NAME)
    if not record:
        return None, None, ""
    try:
        champ = registry.load_model(record["path"])
        rows = dm.inputs(
            consumption,
            targets,
            dm.decision_times(targets, champ.tz),
            champ.tz,
            champ.occupancy,
            weather if champ.weather else None,
        )
        pred = pd.Series(champ.predict(rows), index=targets)
    except Exception as err:  # an unreadable or incompatible champion must not block a new model forever
        return record, None, f"champion {record.get('version')} could not be scored ({err})"
    # The champion was refit on everything up to its training: on the hours it saw it is flattered, so all
    # candidates are compared on the hours after it when a week of them exists.
    until = (record.get("holdout") or {}).get("trained_until") if isinstance(record.get("holdout"), dict) else None
    if until:
        seen = targets <= timeutil.to_utc(until)
        if (~seen).sum() >= MIN_UNSEEN_HOURS:
            return record, pred.where(~seen), f"compared on the {int((~seen).sum())} hours the champion never saw"
        if seen.any():
            return record, pred, f"the champion was trained on {int(seen.sum())} of these {len(targets)} hours"
    return record, pred, ""


def main(args) -> dict:
    t0 = time.time()
    store = Store.open()
    tz = timeutil.local_tz()
    progress(5, "loading", "home.consumption")
    consumption = df.load_consumption(store)
    if len(consumption) < 24 * 21:
        raise DataError(
            f"home.consumption has {len(consumption)} hourly values; need at least 21 days (run consumption_data)"
        )
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
    inputs_info = {
        "weather": dm.describe_weather(source),
        "weather_shares": source,
        "weather_used": use_weather,
        "occupancy": "used" if occupancy is not None else "not used",
    }
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
    hold = dm.inputs(
        consumption, targets, dm.decision_times(targets, tz), tz, occupancy, weather if use_weather else None
    )
    hold["y"] = consumption.reindex(targets).to_numpy()
    weight, model_forecast = learn_mix(model, hold, tz)
    model.profile_weight = weight
    forecasts = candidates(hold, model_forecast)
    record, champ, note = (None, None, "")
    if args.production:
        record, champ, note = champion_forecast(store, consumption, targets, weather if use_weather else None)
        if champ is not None:
            forecasts["champion"] = champ
    actual = hold["y"]
    # every candidate on the same hours: those where all of them have a value
    ok = np.isfinite(actual.to_numpy())
    for f in forecasts.values():
        ok &= np.isfinite(f.to_numpy())
    rows_ok = hold.index[ok]
    scores = registry.window_maes(actual, forecasts, weekly_windows(rows_ok, tz))
    decision = registry.decide(scores, challenger="model", champion="champion" if champ is not None else None)
    err = {k: np.abs(f.reindex(rows_ok).to_numpy() - actual.reindex(rows_ok).to_numpy()) for k, f in forecasts.items()}
    maes = {k: float(v.mean()) for k, v in err.items()}
    metrics = {
        "mae": maes["model"],
        "baseline_yesterday_mae": maes["yesterday"],
        "baseline_7day_mae": maes["7day"],
        "baseline_blend_mae": maes["blend"],
        "rmae_yesterday": _ratio(maes["model"], maes["yesterday"]),
        "rmae_7day": _ratio(maes["model"], maes["7day"]),
        "serving_mae": maes[decision["serving"]],
        "holdout_rows": int(len(rows_ok)),
        "profile_weight": weight,
    }
    if decision["serving_is_naive"]:
        warnings.append(
            f"the model did not beat the naive forecasters on the holdout weeks: "
            f"naive:{decision['serving']} serves ({decision['reason']})"
        )
    for w in warnings:
        log(w)
    out = {
        "model": NAME,
        "production": args.production,
        "rows": int(len(consumption)),
        "train_rows": int(len(frame)),
        "holdout_rows": int(len(rows_ok)),
        "holdout": {
            "start": timeutil.iso(cutoff),
            "end": timeutil.iso(consumption.index.max()),
            "days": days,
            "decision": "06:00 local the day before",
        },
        "metrics": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()},
        "hmm": hmm_info,
        "inputs": inputs_info,
        "warnings": warnings,
        "window_mae": {k: [round(v, 4) for v in vals] for k, vals in scores.items()},
    }
    if not args.production:
        out.update(
            promoted=False,
            serving=decision["serving"] if decision["serving_is_naive"] else "model",
            reason="evaluation only (run with --production to refit and promote); " + decision["reason"],
            seconds=round(time.time() - t0, 2),
        )
        return out

    progress(85, "refitting", f"on all {len(consumption)} hours")
    full = dm.training_frame(consumption, tz, occupancy=occupancy, weather=weather if use_weather else None)
    full = full.drop(columns=[c for c in empty if c in full.columns])
    final = dm.fit(full, threads=train_threads())
    final.occupancy, final.weather, final.tz, final.profile_weight = model.occupancy, model.weather, tz, weight
    holdout_info = {**out["holdout"], "trained_until": final.trained_until, "trained_at": timeutil.iso(timeutil.now())}
    saved = registry.publish(store, NAME, final, out["metrics"], holdout_info, decision["promoted"])
    # "model" in the decision is the champion after it: the new version if promoted, else the old one
    champion_version = saved["version"] if decision["promoted"] else (record or {}).get("version")
    out.update(
        promoted=decision["promoted"],
        reason=" ".join(t for t in (decision["reason"], note) if t),
        **registry.record_serving(NAME, decision, scores, champion_version),
        version=saved["version"],
        path=saved["path"],
        champion_version=(record or {}).get("version"),
        train_seconds=round(time.time() - t0, 2),
        seconds=round(time.time() - t0, 2),
    )
    return out


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def build_parser():
    p = parser("Train the demand model and report holdout MAE against the naive forecasts.")
    p.add_argument(
        "--production",
        action="store_true",
        help="refit on all data, save and promote if it beats the champion on the holdout",
    )
    p.add_argument("--trials", type=int, default=None, help="accepted for compatibility; fixed parameters")
    return p


if __name__ == "__main__":
    run_main(main, build_parser())
