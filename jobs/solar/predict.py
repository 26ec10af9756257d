"""Write the PV production forecast (`forecast.solar`, kWh per hour) for the next --horizon-days.

    python -m jobs.solar.predict --horizon-days 2.0 [--retrain]

Model: XGBoost from the weather *forecast* (irradiance, cloud cover, temperature) and the sun's position at
the middle of each hour to solar.production. It starts from a physical PV estimate from the forecast
irradiance (Erbs decomposition and plane-of-array transposition for the configured array, see
jobs/simulator/solar.py) and learns the correction (absolute error): shading, soiling, the forecast's bias.
Predictions are clipped to [0, 0.95 x kWp] and zero when the sun is below the horizon. When the physical
estimate alone scored better than the champion on the champion's holdout, the job serves the physical
estimate and says so (`serving` in the result).

The job trains itself: when there is no champion, when the champion is older than HEA_SOLAR_RETRAIN_DAYS
(default 7) or with --retrain, it first trains (the same holdout/champion rule as every model: the last
HEA_HOLDOUT_DAYS days, compared with the champion on the same rows, MAE against "same time yesterday" and
the 7-day same-slot average, and the physical estimate alone as a third yardstick), then predicts with the
champion. With less than 21 days of production history it cannot train and uses the physical estimate alone
(the result says so), so a new installation gets a forecast on day one.

Hours the newest weather forecast (issued at or before now) does not cover are left out of the issue.
Environment: HEA_SOLAR_RETRAIN_DAYS (7), HEA_PV_KWP, HEA_PV_TILT, HEA_PV_AZIMUTH, HEA_LATITUDE,
HEA_LONGITUDE, HEA_HOLDOUT_DAYS, HEA_FORECAST_MIN_LEAD_HOURS.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from jobs.common import registry, settings, timeutil, training
from jobs.common.features import DAY, forecast_window, to_hourly, weather_forecast
from jobs.common.forecast_settings import min_lead_hours
from jobs.common.metrics import forecast_report, mae, naive_forecasts
from jobs.common.predicting import check_horizon, per_local_day
from jobs.common.protocol import DataError, log, parser, progress, run_main
from jobs.common.store import Store
from jobs.common.training import TrainSpec
from jobs.simulator.solar import clear_sky_ghi, interval_mid, pv_power_kw, sun_position
from jobs.solar import serving as solar_serving

NAME = "solar"
TARGET = "solar.production"
FORECAST = "forecast.solar"
MIN_HISTORY_DAYS = 21
MIN_UNSEEN_HOURS = 24 * 3  # a champion is scored on the holdout hours it never saw when three days of them exist
MIN_WEATHER_SHARE = 0.5  # of the production hours with irradiance (forecast, or measured where no forecast)


def build_frame(
    store, index: pd.DatetimeIndex, issued_before=None, min_lead: float = 0.0, fill_with_actuals: bool = True
) -> tuple[pd.DataFrame, float]:
    lat, lon = settings.latitude(), settings.longitude()
    out = pd.DataFrame(index=index)
    coverage = 1.0
    for var in ("irradiance", "cloud_cover", "temperature"):
        vals, cov = weather_forecast(store, var, index, issued_before, min_lead, fill_with_actuals)
        out[f"fc_{var}"] = vals
        if var == "irradiance":
            coverage = cov
    el, az = sun_position(interval_mid(index), lat, lon)
    out["sun_elevation"] = el
    out["sun_azimuth"] = az
    out["clear_sky_ghi"] = clear_sky_ghi(el)
    with np.errstate(all="ignore"):
        out["clear_sky_index"] = np.where(
            out["clear_sky_ghi"] > 20, out["fc_irradiance"] / out["clear_sky_ghi"], np.nan
        )
    out["pv_physical"] = physical(index, out)
    doy = index.day_of_year.to_numpy()
    out["doy_sin"] = np.sin(2 * np.pi * doy / 365.25)
    out["doy_cos"] = np.cos(2 * np.pi * doy / 365.25)
    return out, coverage


def physical(index: pd.DatetimeIndex, frame: pd.DataFrame) -> np.ndarray:
    ghi = frame["fc_irradiance"].to_numpy(dtype=float)
    temp = np.nan_to_num(frame["fc_temperature"].to_numpy(dtype=float), nan=10.0)
    out = pv_power_kw(
        index,
        np.nan_to_num(ghi, nan=0.0),
        temp,
        settings.latitude(),
        settings.longitude(),
        settings.pv_kwp(),
        settings.pv_tilt(),
        settings.pv_azimuth(),
    )
    return np.where(np.isfinite(ghi), out, np.nan)


FEATURES = [
    "fc_irradiance",
    "fc_cloud_cover",
    "fc_temperature",
    "sun_elevation",
    "sun_azimuth",
    "clear_sky_ghi",
    "clear_sky_index",
    "pv_physical",
    "doy_sin",
    "doy_cos",
]


def postprocess(pred, frame: pd.DataFrame) -> np.ndarray:
    pred = np.clip(np.asarray(pred, dtype=float), 0.0, settings.pv_kwp() * 0.95)
    return np.where(frame["sun_elevation"].to_numpy() < -3.0, 0.0, pred)


class PhysicalModel:
    """The physical estimate alone: the cold-start model and a yardstick."""

    version = "physical"

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame["pv_physical"].to_numpy(dtype=float)


def evaluator(production: pd.Series):
    def evaluate(model, rows: pd.DataFrame) -> dict:
        pred = np.asarray(postprocess(model.predict(rows), rows), dtype=float)
        actual = production.reindex(rows.index)
        phys = np.asarray(postprocess(rows["pv_physical"].to_numpy(), rows), dtype=float)
        # The model, the physical yardstick and the naive baselines all on the same rows (the choice of
        # what to serve compares the model with the physical estimate).
        keep = np.isfinite(pred) & np.isfinite(phys)
        report = forecast_report(actual[keep], pred[keep], production)
        report["baseline_physical_mae"] = forecast_report(actual[keep], phys[keep], production)["mae"]
        rows, actual, pred = rows[keep], actual[keep], pred[keep]
        day = rows["sun_elevation"].to_numpy() > 0
        report["daylight_mae"] = mae(actual.to_numpy()[day], pred[day])
        return report

    return evaluate


def train(store, production_mode: bool = True) -> dict:
    production = to_hourly(store.read_series(TARGET))
    span = (production.index.max() - production.index.min()) / DAY if len(production) else 0.0
    if span < MIN_HISTORY_DAYS:
        return {
            "trained": False,
            "reason": f"{span:.1f} days of solar.production; need {MIN_HISTORY_DAYS} "
            "to train (using the physical estimate)",
        }
    progress(15, "features", f"{len(production)} hours of solar.production")
    frame, coverage = build_frame(store, production.index, min_lead=min_lead_hours())
    frame["y"] = production.to_numpy()
    with_weather = float(np.isfinite(frame["fc_irradiance"].to_numpy()).mean())
    if with_weather < MIN_WEATHER_SHARE:
        # a model of the sun's position alone would be trained on empty weather columns: refuse, say why
        return {
            "trained": False,
            "reason": f"weather (irradiance) for only {with_weather:.0%} of the {len(production)} production "
            f"hours; need {MIN_WEATHER_SHARE:.0%} to train (run weather_data)",
        }
    spec = TrainSpec(
        name=NAME,
        kind="regressor",
        frame=frame,
        features=FEATURES,
        target="y",
        evaluate=evaluator(production),
        metric="mae",
        base="pv_physical",
        params={"n_estimators": 300, "max_depth": 4, "objective": "reg:absoluteerror"},
        serve=serving_decision(store, production),
    )
    try:
        out = training.train(store, spec, production_mode)
    except DataError as err:
        # Too little history for a holdout yet (a young installation): the physical estimate serves.
        return {"trained": False, "reason": f"{err} (using the physical estimate)"}
    out["weather_forecast_coverage"] = round(coverage, 3)
    out["trained"] = True
    return out


def serving_decision(store, production: pd.Series):
    """The TrainSpec hook that decides what serves on the holdout's weeks (jobs/solar/serving.py). The
    champion is scored on the holdout hours it was not trained on when three days of them exist (a champion
    that stays after this training); otherwise the model fitted before the holdout stands in for it (a new
    champion was refit on the holdout, so its own score there would flatter it)."""

    def serve(model, hold: pd.DataFrame, champion_version: str | None) -> dict:
        hold = hold[np.isfinite(hold["y"].to_numpy(dtype=float))]
        model_fc = pd.Series(postprocess(model.predict(hold), hold), index=hold.index)
        scored = "the model fitted before the holdout"
        record = store.champion(NAME)
        until = registry.trained_until(record) if record else None
        unseen = hold.index > until if until is not None else np.zeros(len(hold), dtype=bool)
        if champion_version and unseen.sum() >= MIN_UNSEEN_HOURS:
            try:
                champion, _ = registry.load_champion(store, NAME)
                model_fc = pd.Series(postprocess(champion.predict(hold), hold), index=hold.index).where(unseen)
                scored = f"champion {champion_version} on the {int(unseen.sum())} holdout hours it never saw"
            except Exception as err:  # an unreadable champion must not block the decision: the stand-in
                log(f"solar champion {champion_version} could not be scored ({err}); the new model stands in")
        physical_fc = pd.Series(postprocess(hold["pv_physical"].to_numpy(dtype=float), hold), index=hold.index)
        decision = solar_serving.decide(
            hold["y"], model_fc if champion_version else None, physical_fc, production, timeutil.local_tz()
        )
        return {**solar_serving.save(decision, champion_version), "serving_model_scored": scored}

    return serve


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def needs_training(record: dict | None, now: pd.Timestamp, latest: dict | None = None) -> tuple[bool, str]:
    """Whether to train now. The age counts from the newest version trained, promoted or not: a
    challenger that lost is a training too, and must not make every later run train again."""
    if record is None and latest is None:
        return True, "no model yet"
    record = latest or record
    trained_at = (record.get("holdout") or {}).get("trained_at")
    days = settings.env_float("HEA_SOLAR_RETRAIN_DAYS", 7.0)
    if not trained_at:
        return True, "the champion has no training time"
    age = (now - timeutil.to_utc(trained_at)) / DAY
    if age > days:
        return True, f"the newest model is {age:.1f} days old (HEA_SOLAR_RETRAIN_DAYS={days:g})"
    return False, f"the newest model is {age:.1f} days old"


def weather_forecaster(store, record: dict | None, choice: dict) -> tuple[object, str, str]:
    """(model, version, why) of the weather-driven forecaster that serves: the champion, or the physical
    estimate when the serving decision chose it (or, before any decision was recorded, when it beat the
    champion on its holdout) or when there is no trained model."""
    if not record:
        return PhysicalModel(), "physical", "no trained model: the physical estimate serves"
    if choice.get("forecaster") == "physical":
        return PhysicalModel(), "physical", choice["reason"]
    model, record = registry.load_champion(store, NAME)
    m = record.get("metrics") or {}
    if not choice and _num(m.get("baseline_physical_mae")) < _num(m.get("mae")):
        why = f"the physical estimate beat model {record['version']} on the holdout (MAE {m['baseline_physical_mae']} vs {m['mae']})"
        return PhysicalModel(), "physical", why
    return model, record["version"], choice.get("reason", "the champion (no serving decision yet)")


def main(args) -> dict:
    t0 = time.time()
    check_horizon(args.horizon_days)
    store = Store.open()
    now = timeutil.now()
    record = store.champion(NAME)
    versions = store.models(NAME)
    retrain, why = needs_training(record, now, versions[-1] if versions else None)
    out: dict = {}
    if retrain or args.retrain:
        progress(5, "training", why if not args.retrain else "--retrain")
        out["training"] = train(store, production_mode=True)
        record = store.champion(NAME)
    else:
        out["training"] = {"trained": False, "reason": why}
    window = forecast_window(now, args.horizon_days)
    frame, _ = build_frame(store, window, issued_before=now, min_lead=0.0, fill_with_actuals=True)
    covered = np.isfinite(frame["fc_irradiance"].to_numpy())
    progress(85, "forecasting", f"{int(covered.sum())} of {len(window)} hours covered by a weather forecast")
    choice = registry.serving(NAME) or {}
    production = to_hourly(store.read_series(TARGET))
    version = None
    if not covered.any() and len(production):
        values, naive, reason = solar_serving.naive_fallback(production, window, now, timeutil.local_tz())
        served = f"naive:{naive}"
    elif choice.get("naive") and len(production):
        values = naive_forecasts(production, window, known_until=now)[choice["forecaster"]]
        served, reason = choice["serving"], choice["reason"]
    else:
        model, version, reason = weather_forecaster(store, record, choice)
        served = "physical" if version == "physical" else f"{NAME}:{version}"
        frame = frame[covered]
        values = pd.Series(postprocess(model.predict(frame), frame), index=frame.index)
    values = values.dropna()
    out.update(serving=served, serving_reason=reason)
    rows = store.write_forecast(
        FORECAST, now, values, model=served if served.startswith("naive:") else f"{NAME}:{version}"
    )
    out.update(
        {
            "forecast": FORECAST,
            "model_version": version,
            "issued_at": timeutil.iso(now),
            "rows_written": rows,
            "hours_without_weather_forecast": int((~covered).sum()),
            "kwh_per_day": per_local_day(values),
            "seconds": round(time.time() - t0, 2),
        }
    )
    return out


def build_parser():
    p = parser("Write forecast.solar (kWh per hour) from weather forecasts; trains itself when needed.")
    p.add_argument("--horizon-days", type=float, default=2.0)
    p.add_argument("--retrain", action="store_true", help="train before predicting even if the model is fresh")
    return p


if __name__ == "__main__":
    run_main(main, build_parser())
