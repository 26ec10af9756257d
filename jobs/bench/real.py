"""Real-data benchmark (not a test): walk-forward one-day-ahead forecasts on real series, against naive ones.

    npm run bench:real -- [--data-dir DIR] [--out FILE] [--windows 8] [--only NAME]
    .venv/bin/python -m jobs.bench.real --data-dir ../shared/data/real --out bench/real.json

Reads DIR/prices/*.csv[.gz] (`timestamp_utc,price_eur_mwh`) and DIR/households/*.csv[.gz]
(`timestamp_utc,kwh[,pv_kwh]`); the default DIR is <repo>/../shared/data/real. Each file is imported into
a throwaway store with the user's import job (jobs.sources.import_series), then forecast walk forward:
`--windows` four-week windows (8, fewer where history is short) ending at the last whole local day, after
one more four-week warm-up window whose scores feed the first serving decision. Each day D of a window is
forecast at 06:00 local on D-1 with only what was known then:

- price (price.spot): D-1's day-ahead prices are published by then, so everything before local midnight of
  D is known. The model is the production price model (jobs/prices/lear.py via jobs/prices/run_model's
  `price_path`), recalibrated for every day on the known prices, as `price_predictions` does daily.
- demand (home.consumption): consumption is known up to 06:00 on D-1. The production demand model is
  trained with the production train job (jobs.demand.train --production --trials 0) on a store holding only
  the data before each window, and forecasts with jobs.demand.predict's `forecast` from a store view that
  hides everything after the decision time (the rest of D-1 is forecast first, as in production).
- solar (solar.production, a household with pv_kwh): the naive forecasters, a clear-sky-scaled baseline
  (clear-sky PV shape x the ratio of measured to clear-sky energy over the last 7 known days) and what the
  production solar job serves without weather forecasts (jobs.solar.serving.naive_fallback: each day, the
  naive forecaster with the lowest MAE over the four weeks before). The production solar model itself
  needs archived weather forecasts, which no file here has.

Naive forecasters (jobs/common/metrics.naive_forecasts), defined from what is known at decision time:
"yesterday" is the latest same-slot value known (24 h back for prices; 24 h back for load hours before
06:00 and 48 h back after), "7day" the mean of the 7 latest known same-slot values, "blend" their average.

Weather files are not used: they hold measured (reanalysis) weather, not archived forecasts, and a
forecaster must never be given measured weather for hours that were still forecasts at decision time.

Serving: for each window, jobs/common/registry.decide on the previous four weeks' scores (weekly windows)
picks what production would serve: the model only if it beat the best naive forecaster in most of those
weeks and has the lowest MAE over them, else the best naive one. For demand the production train job makes
that choice itself, with the same registry.decide on its holdout (the four weeks before the window), and
the bench takes it from serving.json; the "model" row scores the model alone. The "served" row scores the
choice window by window; for solar it is the production job's own choice, made day by day.

Output: the JSON list FILE (one object per dataset, kind and forecaster: dataset, kind, forecaster,
serving, windows, mae, rmae_vs_yesterday, rmae_vs_7day, rmae_vs_blend, rank_corr, plus peak/valley
precision for prices), a Markdown table on stdout, and, for the default DIR, the table in docs/models.md.
rMAE is pooled: the summed absolute error over the summed absolute error of the yardstick on the same
hours; rank_corr is the mean within-day Spearman correlation. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

# one BLAS thread: the machine is shared, and threads that compete for cores make small solves far slower
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from jobs.bench.common import environment  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "real"
DOCS = REPO_ROOT / "docs" / "models.md"
BEGIN, END = "<!-- bench:real begin -->", "<!-- bench:real end -->"
ALL_KINDS = frozenset({"price", "demand", "solar"})
DEFAULT_WINDOWS = 8
DAY = pd.Timedelta(days=1)
WINDOW_DAYS = 28
DECISION_HOUR = 6
PEAK_K = 4

# Local time of a dataset, from its file name (zones and places in ../shared/data/real); else HEA_TIMEZONE.
ZONES = {
    "DK": "Europe/Copenhagen",
    "SE": "Europe/Stockholm",
    "NO": "Europe/Oslo",
    "FI": "Europe/Helsinki",
    "DE": "Europe/Berlin",
    "BE": "Europe/Brussels",
    "FR": "Europe/Paris",
    "NL": "Europe/Amsterdam",
    "AT": "Europe/Vienna",
    "PL": "Europe/Warsaw",
    "ES": "Europe/Madrid",
    "IT": "Europe/Rome",
    "CH": "Europe/Zurich",
    "CZ": "Europe/Prague",
    "SK": "Europe/Bratislava",
    "HU": "Europe/Budapest",
    "SI": "Europe/Ljubljana",
    "HR": "Europe/Zagreb",
    "RO": "Europe/Bucharest",
    "BG": "Europe/Sofia",
    "GR": "Europe/Athens",
    "PT": "Europe/Lisbon",
    "EE": "Europe/Tallinn",
    "LV": "Europe/Riga",
    "LT": "Europe/Vilnius",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "LU": "Europe/Luxembourg",
}
PLACES = {"ausgrid": ("Australia/Sydney", -33.9, 151.2), "london": ("Europe/London", 51.5, -0.1)}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def dataset_name(path: Path) -> str:
    return re.sub(r"\.csv(\.gz)?$", "", path.name)


def timezone_for(name: str) -> str | None:
    """The local time zone of a dataset from its file name (a bidding zone or a known place), else None."""
    for key, (tz, _, _) in PLACES.items():
        if key in name.lower():
            return tz
    m = re.match(r"price_([A-Z]{2})", name)
    if m and m.group(1) in ZONES:
        return ZONES[m.group(1)]
    return None


def infer_place(pv: pd.Series) -> tuple[float, float]:
    """(latitude, longitude) of a PV roof from its production alone, for a file from an unknown place: the
    longitude from the energy-weighted solar noon (UTC), the latitude as the one whose sun-above-3-degrees
    hours best match the producing hours over the file's seasons. Rough (on the Sydney roof, -28/144 for
    -33.9/151.2: the array faces a little west), but enough for a clear-sky shape and a local clock."""
    from jobs.simulator.solar import interval_mid, sun_position

    pv = pv.dropna()
    grid = pd.date_range(pv.index.min(), pv.index.max(), freq="h")
    energy = pv.reindex(grid).to_numpy(dtype=float)
    known = np.isfinite(energy)
    mid = interval_mid(grid)
    angle = (mid.hour + mid.minute / 60).to_numpy() / 24 * 2 * np.pi
    w = np.where(known, energy, 0.0)
    noon = (np.arctan2((w * np.sin(angle)).sum(), (w * np.cos(angle)).sum()) * 24 / (2 * np.pi)) % 24
    lon = float(((12 - noon) * 15 + 180) % 360 - 180)
    producing = energy[known] > 0.02 * np.quantile(energy[known], 0.99)
    agreement = [np.mean(producing == (sun_position(mid[known], lat, lon)[0] > 3)) for lat in range(-65, 66)]
    return float(range(-65, 66)[int(np.argmax(agreement))]), round(lon, 1)


def place_of(path: Path) -> tuple[str, float | None, float | None]:
    """(time zone, latitude, longitude) of a dataset file: from its name (a bidding zone or a known place);
    else, for a household with PV, located from its production (`infer_place`, a fixed-offset clock unless
    HEA_TIMEZONE is set); else HEA_TIMEZONE or UTC. The guess is logged."""
    name = dataset_name(path)
    tz = timezone_for(name)
    lat, lon = next(((la, lo) for key, (_, la, lo) in PLACES.items() if key in name.lower()), (None, None))
    if tz is not None:
        return tz, lat, lon
    tz = os.environ.get("HEA_TIMEZONE")
    if "pv_kwh" in pd.read_csv(path, nrows=1).columns:
        pv = pd.read_csv(path, usecols=["timestamp_utc", "pv_kwh"], index_col="timestamp_utc")["pv_kwh"]
        pv.index = pd.to_datetime(pv.index, utc=True)
        lat, lon = infer_place(pd.to_numeric(pv, errors="coerce"))
        tz = tz or f"Etc/GMT{-round(lon / 15):+d}"  # a fixed offset from the solar noon: no DST
        log(f"  {name}: no zone or place known from the file name; from its PV: lat {lat}, lon {lon}, local time {tz}")
        return tz, lat, lon
    tz = tz or "UTC"
    log(f"  {name}: no zone or place known from the file name; local time taken as {tz} (set HEA_TIMEZONE)")
    return tz, None, None


def quiet(fn, *args, **kwargs):
    """Run an in-process job function with its protocol lines (stdout) swallowed."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


class AsOf:
    """A read view of a store as it was at `until`: series end there (the production code reads through it)."""

    def __init__(self, store, until: pd.Timestamp):
        self._store = store
        self.until = until

    def read_series(self, name, start=None, end=None):
        end = self.until if end is None else min(pd.Timestamp(end), self.until)
        return self._store.read_series(name, start, end)

    def read_forecast_frame(self, name, start=None, end=None):
        frame = self._store.read_forecast_frame(name, start, end)
        return frame[frame["issued_at"] < self.until] if not frame.empty else frame

    def __getattr__(self, item):
        return getattr(self._store, item)


# --------------------------------------------------------------------------- import
def import_file(path: Path, series_columns: dict[str, str]) -> dict:
    """Import each {series: column} of `path` with the user's import job into the current HEA store."""
    from jobs.sources import import_series

    out = {}
    for series, column in series_columns.items():
        args = import_series.build_parser().parse_args(["--series", series, "--source", str(path), "--column", column])
        out[series] = quiet(import_series.main, args)
    return out


# --------------------------------------------------------------------------- walk-forward plan
def plan_windows(first: pd.Timestamp, last: pd.Timestamp, tz: str, windows: int, min_history_days: int):
    """[(start_day, end_day)) local dates of the windows, oldest first, the first one being the warm-up."""
    first_day = (first.tz_convert(tz) + DAY).normalize().tz_localize(None)
    last_full = (last + pd.Timedelta(hours=1)).tz_convert(tz).normalize().tz_localize(None)  # exclusive end
    out = []
    end = last_full
    for _ in range(windows + 1):
        start = end - pd.Timedelta(days=WINDOW_DAYS)
        if (start - first_day).days < min_history_days:
            break
        out.append((start, end))
        end = start
    return list(reversed(out))


def local_midnight(day: pd.Timestamp, tz: str) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(tz, nonexistent="shift_forward", ambiguous=True).tz_convert("UTC")


def day_hours(day: pd.Timestamp, tz: str) -> pd.DatetimeIndex:
    return pd.date_range(local_midnight(day, tz), local_midnight(day + DAY, tz), freq="h", inclusive="left")


def decision_time(day: pd.Timestamp, tz: str) -> pd.Timestamp:
    """06:00 local on the day before `day`: when the daily pipeline forecasts `day`."""
    return local_midnight(day - DAY, tz) + pd.Timedelta(hours=DECISION_HOUR)


# --------------------------------------------------------------------------- forecasters per kind
def price_forecasts(store, days, tz) -> dict[str, pd.Series]:
    from jobs.common.metrics import naive_forecasts
    from jobs.prices import features as pf
    from jobs.prices import lear
    from jobs.prices.run_model import price_path

    prices = pf.load_prices(store)
    model = lear.model_from_env()
    out: dict[str, list] = {"model": [], "yesterday": [], "7day": [], "blend": []}
    for day in days:
        hours = day_hours(day, tz)
        known_until = local_midnight(day, tz)  # D-1's day-ahead prices were published before 06:00 on D-1
        known = prices[prices.index < known_until]
        out["model"].append(price_path(known, hours, None, model))
        for name, f in naive_forecasts(prices, hours, known_until=known_until).items():
            out[name].append(f)
    return {k: pd.concat(v) for k, v in out.items()}


def window_store(full, path: Path, until: pd.Timestamp, series: list[str]):
    from jobs.common.store import Store

    if path.exists():
        path.unlink()
    st = Store(path)
    for name in series:
        st.upsert_series(name, full.read_series(name, None, until), source="csv", origin="bench")
    return st


def demand_forecasts(store, base: Path, windows, tz) -> tuple[dict[str, pd.Series], list[dict]]:
    from jobs.common.metrics import naive_forecasts
    from jobs.demand import features as df
    from jobs.demand import predict as demand_predict
    from jobs.demand import train as demand_train

    consumption = df.load_consumption(store)
    out: dict[str, list] = {"model": [], "yesterday": [], "7day": [], "blend": []}
    trainings: list[dict] = []
    choices: list[str | None] = []
    for w, (start, end) in enumerate(windows):
        cutoff = decision_time(start, tz)
        win_db = base / f"window{w}.db"
        st = window_store(store, win_db, cutoff, [df.TARGET])
        st.close()
        t0 = time.time()
        model = None
        with environment(HEA_STORE_URL=f"sqlite:///{win_db}", HEA_NOW=cutoff.isoformat()):
            try:
                args = demand_train.build_parser().parse_args(["--production", "--trials", "0"])
                res = quiet(demand_train.main, args)
                from jobs.common import registry
                from jobs.common.store import Store

                with Store(win_db) as s2:
                    latest = s2.models(demand_train.NAME)[-1]
                model = registry.load_model(latest["path"])
                # what production would serve in this window: the train job's decision (registry.decide on
                # its holdout weeks); the "model" row scores the model itself whatever serves
                choice = (registry.serving(demand_train.NAME) or {}).get("forecaster", "model")
                choices.append("model" if choice == "champion" else choice)
                trainings.append(
                    {
                        "window": w,
                        "seconds": round(time.time() - t0, 1),
                        "serving": res.get("serving"),
                        "reason": res.get("reason"),
                        "hmm": res.get("hmm"),
                        "metrics": res.get("metrics"),
                    }
                )
            except Exception as err:  # a window the production code cannot train: the model has no forecast
                trainings.append({"window": w, "error": f"{type(err).__name__}: {err}"})
                choices.append(None)
        log(f"    demand window {w + 1}/{len(windows)} trained in {time.time() - t0:.0f} s")
        for day in pd.date_range(start, end - DAY, freq="D"):
            hours = day_hours(day, tz)
            now = decision_time(day, tz)
            if model is not None:
                view = AsOf(store, now)
                window = pd.date_range(now.floor("h"), hours[-1], freq="h")
                try:
                    values, _ = quiet(demand_predict.forecast, view, model, now - pd.Timedelta(seconds=1), window)
                    out["model"].append(values.reindex(hours))
                except Exception as err:
                    log(f"    demand forecast for {day.date()} failed: {err}")
                    out["model"].append(pd.Series(np.nan, index=hours))
            else:
                out["model"].append(pd.Series(np.nan, index=hours))
            for name, f in naive_forecasts(consumption, hours, known_until=now).items():
                out[name].append(f)
    return {k: pd.concat(v) for k, v in out.items()}, trainings, choices


def solar_forecasts(store, days, tz, lat, lon) -> tuple[dict[str, pd.Series], list[str]]:
    """The naive forecasters, the clear-sky-scaled baseline, and "served": what the production solar job
    serves on a roof without weather forecasts (jobs.solar.serving.naive_fallback, deciding each day on the
    four weeks before it), with the naive forecaster it chose each day."""
    from jobs.common.features import to_hourly
    from jobs.common.metrics import naive_forecasts
    from jobs.simulator.solar import clear_sky_ghi, interval_mid, sun_position
    from jobs.solar.serving import naive_fallback

    pv = to_hourly(store.read_series("solar.production"))
    grid = pd.date_range(pv.index.min(), pv.index.max(), freq="h")
    clear = pd.Series(clear_sky_ghi(sun_position(interval_mid(grid), lat, lon)[0]), index=grid)
    out: dict[str, list] = {"clear-sky scaled": [], "yesterday": [], "7day": [], "blend": [], "served": []}
    chosen: list[str] = []
    for day in days:
        hours = day_hours(day, tz)
        now = decision_time(day, tz)
        recent = pv[(pv.index < now) & (pv.index >= now - 7 * DAY)]
        ratio = recent.sum() / max(clear.reindex(recent.index).sum(), 1e-9)
        out["clear-sky scaled"].append(
            pd.Series(ratio * clear_sky_ghi(sun_position(interval_mid(hours), lat, lon)[0]), index=hours)
        )
        for name, f in naive_forecasts(pv, hours, known_until=now).items():
            out[name].append(f)
        served, name, _ = naive_fallback(pv, hours, now, tz)
        out["served"].append(served)
        chosen.append(name)
    return {k: pd.concat(v) for k, v in out.items()}, chosen


# --------------------------------------------------------------------------- scoring
def serving_choice(actual, forecasts, previous_days, tz, model_names) -> str:
    """What production would serve next window, from the four weeks before it (registry.decide)."""
    from jobs.common import registry
    from jobs.common.metrics import weekly_windows

    hours = pd.DatetimeIndex(np.concatenate([day_hours(d, tz).to_numpy() for d in previous_days]))
    weeks = weekly_windows(hours, tz)
    challenger = model_names[0] if model_names else None
    scores = registry.window_maes(
        actual, {k: v for k, v in forecasts.items() if k in (*registry.NAIVE, *model_names)}, weeks
    )
    if challenger and all(v != v for v in scores[challenger]):
        scores.pop(challenger)
        challenger = None
    return registry.decide(scores, challenger=challenger)["serving"]


def summarise(dataset, kind, actual, forecasts, reported_hours, tz, served_by, windows) -> list[dict]:
    from jobs.common.metrics import precision_recall, top_k_per_day, within_day_rank_correlation

    a = actual.reindex(reported_hours).to_numpy(dtype=float)
    preds = {k: v.reindex(reported_hours).to_numpy(dtype=float) for k, v in forecasts.items()}
    ok = np.isfinite(a) & np.isfinite(preds["yesterday"]) & np.isfinite(preds["7day"])
    err = {k: np.abs(a - p) for k, p in preds.items()}
    rows = []
    for name, p in preds.items():
        m = ok & np.isfinite(p)
        if not m.any():
            rows.append(
                {
                    "dataset": dataset,
                    "kind": kind,
                    "forecaster": name,
                    "serving": False,
                    "windows": windows,
                    "mae": None,
                    "rmae_vs_yesterday": None,
                    "rmae_vs_7day": None,
                    "rmae_vs_blend": None,
                    "rank_corr": None,
                    "note": "no forecast (the production model could not run here)",
                }
            )
            continue
        row = {
            "dataset": dataset,
            "kind": kind,
            "forecaster": name,
            "serving": name == "served",
            "windows": windows,
            "mae": float(err[name][m].mean()),
        }
        for label in ("yesterday", "7day", "blend"):
            row[f"rmae_vs_{label}"] = float(err[name][m].sum() / err[label][m].sum())
        idx = reported_hours[m]
        row["rank_corr"] = within_day_rank_correlation(pd.Series(a[m], index=idx), p[m], tz)
        row["hours"] = int(m.sum())
        if kind == "price":
            truth_top = top_k_per_day(pd.Series(a[m], index=idx), PEAK_K, tz)
            truth_low = top_k_per_day(pd.Series(a[m], index=idx), PEAK_K, tz, largest=False)
            row["peak_precision"] = precision_recall(truth_top, top_k_per_day(pd.Series(p[m], index=idx), PEAK_K, tz))[
                "precision"
            ]
            row["valley_precision"] = precision_recall(
                truth_low, top_k_per_day(pd.Series(p[m], index=idx), PEAK_K, tz, largest=False)
            )["precision"]
        if name == "served":
            row["served_by"] = served_by
        rows.append({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})
    return rows


def evaluate_dataset(path: Path, kind_filter: set[str], n_windows: int, work: Path) -> tuple[list[dict], dict]:
    from jobs.common.store import Store

    name = dataset_name(path)
    tz, lat, lon = place_of(path)
    header = pd.read_csv(path, nrows=1).columns
    base = work / name
    base.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    info: dict = {"dataset": name, "timezone": tz, "place": (lat, lon)}
    rows: list[dict] = []
    env = dict(
        HEA_DATA_DIR=base / "data",
        HEA_MODELS_DIR=base / "models",
        HEA_TIMEZONE=tz,
        HEA_STORE_URL=f"sqlite:///{base / 'data' / 'energy.db'}",
    )
    with environment(**env):
        if "price_eur_mwh" in header:
            kinds = {"price": ("price.spot", "price_eur_mwh")}
        else:
            kinds = {"demand": ("home.consumption", "kwh")}
            if "pv_kwh" in header:
                kinds["solar"] = ("solar.production", "pv_kwh")
        kinds = {k: v for k, v in kinds.items() if k in kind_filter}
        if not kinds:
            return [], info
        info["import"] = import_file(path, {series: col for series, col in kinds.values()})
        store = Store.open()
        for kind, (series, _) in kinds.items():
            tk = time.time()
            full = store.read_series(series)
            min_history = 35 if kind == "price" else 42
            windows = plan_windows(full.index.min(), full.index.max(), tz, n_windows, min_history)
            if len(windows) < 2:
                log(f"  {name} {kind}: too little history for a window after the warm-up; skipped")
                continue
            days = pd.date_range(windows[0][0], windows[-1][1] - DAY, freq="D")
            log(f"  {name} {kind}: {len(windows) - 1} windows + 1 warm-up, {len(days)} days ({tz})")
            if kind == "price":
                forecasts, model_names = price_forecasts(store, days, tz), ["model"]
            elif kind == "demand":
                forecasts, trainings, trained_choice = demand_forecasts(store, base, windows, tz)
                model_names = ["model"]
                info["demand_training"] = trainings
            else:
                forecasts, solar_chosen = solar_forecasts(store, days, tz, lat, lon)
                model_names = []
            actual = full
            if kind == "solar":
                # the production job decides every day (no model without weather): served_by counts days
                first = len(pd.date_range(windows[0][0], windows[0][1] - DAY))
                forecasts["served"] = forecasts["served"][
                    forecasts["served"].index >= local_midnight(windows[1][0], tz)
                ]
                served_by = [f"{name} (days)" for name in solar_chosen[first:]]
            else:
                served, served_by = [], []
                for w in range(1, len(windows)):
                    prev = pd.date_range(windows[w - 1][0], windows[w - 1][1] - DAY, freq="D")
                    if kind == "demand" and trained_choice[w]:
                        choice = trained_choice[w]  # the demand train job decides what serves itself
                    else:
                        choice = serving_choice(actual, forecasts, prev, tz, model_names)
                    days_w = pd.date_range(windows[w][0], windows[w][1] - DAY)
                    hours = pd.DatetimeIndex(np.concatenate([day_hours(d, tz).to_numpy() for d in days_w]))
                    served.append(forecasts[choice].reindex(hours))
                    served_by.append(choice)
                forecasts["served"] = pd.concat(served)
            reported = forecasts["served"].index
            rows += summarise(name, kind, actual, forecasts, reported, tz, served_by, len(windows) - 1)
            info[f"{kind}_seconds"] = round(time.time() - tk, 1)
            info[f"{kind}_windows"] = [(str(s.date()), str(e.date())) for s, e in windows[1:]]
        store.close()
    info["seconds"] = round(time.time() - t0, 1)
    log(f"  {name}: {info['seconds']} s")
    return rows, info


# --------------------------------------------------------------------------- output
def pooled_rows(rows: list[dict]) -> list[dict]:
    """Per kind and forecaster, pooled over datasets: summed MAE over summed yardstick MAE (per-hour sums)."""
    out = []
    for kind in ("price", "demand", "solar"):
        sel = [r for r in rows if r["kind"] == kind and r.get("mae") is not None]
        datasets = sorted({r["dataset"] for r in sel})
        if len(datasets) < 2:
            continue
        for name in dict.fromkeys(r["forecaster"] for r in sel):
            group = [r for r in sel if r["forecaster"] == name]
            if len(group) < len(datasets):
                continue
            abs_sum = sum(r["mae"] * r["hours"] for r in group)
            row = {
                "dataset": f"all {kind} ({len(group)})",
                "kind": kind,
                "forecaster": name,
                "serving": name == "served",
                "windows": sum(r["windows"] for r in group),
                "mae": abs_sum / sum(r["hours"] for r in group),
            }
            for label in ("yesterday", "7day", "blend"):
                row[f"rmae_vs_{label}"] = abs_sum / sum(r["mae"] * r["hours"] / r[f"rmae_vs_{label}"] for r in group)
            row["rank_corr"] = float(np.mean([r["rank_corr"] for r in group]))
            for key in ("peak_precision", "valley_precision"):
                if all(key in r for r in group):
                    row[key] = float(np.mean([r[key] for r in group]))
            out.append({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})
    return out


def markdown(rows: list[dict], pooled: list[dict]) -> str:
    def f(v, d=3):
        return "-" if v is None else (f"{v:.{d}f}" if isinstance(v, float) else str(v))

    lines = [
        "| dataset | kind | forecaster | windows | MAE | rMAE vs yesterday | rMAE vs 7-day | rMAE vs blend "
        "| rank corr | peak / valley precision |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in pooled + rows:
        name = r["forecaster"] + (" **(serving)**" if r["serving"] else "")
        if r.get("served_by"):
            counts = pd.Series(r["served_by"]).value_counts()
            name += " = " + ", ".join(f"{k} x{v}" for k, v in counts.items())
        pv = f"{f(r.get('peak_precision'), 2)} / {f(r.get('valley_precision'), 2)}" if "peak_precision" in r else ""
        lines.append(
            f"| {r['dataset']} | {r['kind']} | {name} | {r['windows']} | {f(r.get('mae'))} | "
            f"{f(r.get('rmae_vs_yesterday'))} | {f(r.get('rmae_vs_7day'))} | {f(r.get('rmae_vs_blend'))} | "
            f"{f(r.get('rank_corr'))} | {pv} |"
        )
    return "\n".join(lines)


def update_docs(table: str, header: str) -> None:
    text = DOCS.read_text()
    block = f"{BEGIN}\n{header}\n\n{table}\n{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOCS.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="prices/ and households/ (default %(default)s)")
    ap.add_argument("--out", help="write the JSON list here (e.g. bench/real.json)")
    ap.add_argument(
        "--windows", type=int, default=DEFAULT_WINDOWS, help="four-week windows per series (default %(default)s)"
    )
    ap.add_argument("--only", action="append", help="only datasets whose name contains this (repeatable)")
    ap.add_argument("--kinds", default=",".join(sorted(ALL_KINDS)), help="comma-separated kinds (default all)")
    ap.add_argument("--no-docs", action="store_true", help="do not write the table into docs/models.md")
    args = ap.parse_args(argv)

    data_dir = Path(args.data_dir).resolve()
    files = sorted(
        [
            *data_dir.glob("prices/*.csv"),
            *data_dir.glob("prices/*.csv.gz"),
            *data_dir.glob("households/*.csv"),
            *data_dir.glob("households/*.csv.gz"),
        ]
    )
    if args.only:
        files = [p for p in files if any(o.lower() in p.name.lower() for o in args.only)]
    if not files:
        print(f"no prices/*.csv[.gz] or households/*.csv[.gz] under {data_dir}", file=sys.stderr)
        return 2
    kinds = {k.strip() for k in args.kinds.split(",") if k.strip()}
    # The table in docs/models.md is the full run's: a partial one (some files, some kinds, other windows)
    # prints its rows but must not replace the others'.
    full_run = not args.only and kinds >= ALL_KINDS and args.windows == DEFAULT_WINDOWS
    work = Path(tempfile.mkdtemp(prefix="hea-bench-real-"))
    t0, cpu0 = time.time(), time.process_time()
    rows, infos = [], []
    try:
        for path in files:
            log(f"{path.name}")
            r, info = evaluate_dataset(path, kinds, args.windows, work)
            rows += r
            infos.append(info)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds, cpu = time.time() - t0, time.process_time() - cpu0
    pooled = pooled_rows(rows)
    table = markdown(rows, pooled)
    used = sorted({r["dataset"] for r in rows})
    header = (
        f"Measured with `npm run bench:real` ({len(used)} files, {seconds / 60:.1f} min wall clock and "
        f"{cpu / 60:.1f} min CPU on {os.cpu_count()} shared CPUs, load average {os.getloadavg()[0]:.0f}, {time.strftime('%Y-%m-%d')}): one-day-ahead forecasts at 06:00 local, "
        f'walk-forward over four-week windows, training only on the past. "all" rows pool the datasets '
        f"(summed absolute errors); **serving** is what the registry would have served window by window "
        "(solar: what the production job serves without weather forecasts, chosen day by day)."
    )
    print(header + "\n\n" + table)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=2))
        Path(str(out) + ".details.json").write_text(
            json.dumps(
                {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "pooled": pooled, "datasets": infos},
                indent=2,
                default=str,
            )
        )
        log(f"wrote {out}")
    if not args.no_docs and data_dir == DEFAULT_DATA_DIR.resolve():
        if full_run:
            update_docs(table, header)
            log(f"updated {DOCS}")
        else:
            log(f"partial run (--only, --kinds or --windows): {DOCS} left as it is")
    log(f"total {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
