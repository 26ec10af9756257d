"""Train one meter's forecasting model: `python -m jobs.meters.train --meter-id ID --meter-type TYPE`.

The job behind the meter training API (the seed's Dramatiq `train_model` task). Stages, printed as progress
lines whose `stage` the meterModelTraining workflow and the API map to statuses:
connecting (5) -> fetching_data (10) -> validating_data (35) -> training_model (50) -> saving_model (90).

Data: `meter.<meter_type>.<meter_id>` hourly consumption from the store (default). A simulated meter
(jobs.simulator.meters: ids `meter_[a-z0-9_]+` of the four simulated types) with no recent readings is
backfilled from the simulator first; any other meter with no readings fails with DataError "meter unknown".
With HEA_METER_SOURCE=influx the readings come from InfluxDB's v1 HTTP API instead (see jobs.meters.influx).

Validation (a DataError, exit 65, never retried): too little data, too many missing hours, too many
outliers (readings far outside the meter's own hour-of-day range, or negative), a stuck (constant) meter.
A few outliers (at most HEA_METER_MAX_OUTLIER_SHARE) are dropped and counted instead.

Model: XGBoost on calendar features and lags that look 24 h or more back (a day-ahead forecast), scored on
the last HEA_METER_HOLDOUT_DAYS days against the seasonal-naive baselines on the same hours, then refit on
all the data and saved as models/<meter_type>/<meter_id>.pkl with models/<meter_type>/<meter_id>.json
(metadata), each replaced atomically. Every stage's duration is added to <HEA_DATA_DIR>/meters/stage_times.json,
from which the API estimates completion times.

Environment:
- HEA_METER_SOURCE             store (default) | influx
- HEA_METER_HISTORY_DAYS       days of history read and, for simulated meters, backfilled (default 365)
- HEA_METER_MIN_DAYS           fewer days of readings than this is "not enough data" (default 28)
- HEA_METER_HOLDOUT_DAYS       holdout length in days (default 14)
- HEA_METER_MAX_GAP_SHARE      largest share of missing hours accepted (default 0.1)
- HEA_METER_MAX_OUTLIER_SHARE  largest share of outlier readings dropped rather than refused (default 0.005)
- HEA_METER_ESTIMATORS         boosting rounds (default 400)
- HEA_TRAIN_THREADS            XGBoost threads (default 1, see jobs.common.forecast_settings)
- HEA_METER_PARALLEL_FITS      auto (default) | true | false: fit the holdout model and the final model at the
                               same time, in two threads of HEA_TRAIN_THREADS each capped at half the cores;
                               auto does so only when a core is idle as the fits start (see fit_plan). The
                               models are the same either way.
- HEA_METER_STAGE_PAUSE_SECONDS  sleep this long as each stage starts (default 0): for demos and tests that
                               watch the stages go by through throttled heartbeats
- DEBUG / HEA_DEBUG            true: debug logging (as in the seed)
- HEA_NOW, HEA_DATA_DIR, HEA_MODELS_DIR, HEA_STORE_URL as for every job; HEA_INFLUX_* for the influx source.
Every log line (stderr) carries task_id, meter_id and meter_type.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from jobs.common import registry, settings, timeutil
from jobs.common.features import DAY, HOUR, calendar_features, lag_features
from jobs.common.files import atomic_write
from jobs.common.forecast_model import fit_model
from jobs.common.forecast_settings import train_threads
from jobs.common.holdout import split_at, trailing_cutoff
from jobs.common.metrics import forecast_report, rounded
from jobs.common.protocol import ConfigError, DataError, UsageError, parser, progress, run_main

# What the API accepts as a meter id (it names a file): no separators, no "..", bounded length.
METER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
METER_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

STAGES = ("connecting", "fetching_data", "validating_data", "training_model", "saving_model")
STAGE_PROGRESS = {"connecting": 5, "fetching_data": 10, "validating_data": 35, "training_model": 50, "saving_model": 90}
EWMA_ALPHA = 0.3  # weight of the newest training in the stage-time estimates

log = logging.getLogger("jobs.meters.train")


class _ContextFilter(logging.Filter):
    def __init__(self, context: dict):
        super().__init__()
        self.context = " ".join(f"{k}={v}" for k, v in context.items())

    def filter(self, record: logging.LogRecord) -> bool:
        record.context = self.context
        return True


def setup_logging(task_id: str, meter_type: str, meter_id: str) -> None:
    debug = settings.env_bool("DEBUG", False) or settings.env_bool("HEA_DEBUG", False)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter({"task_id": task_id, "meter_id": meter_id, "meter_type": meter_type}))
    handler.setFormatter(logging.Formatter("%(asctime)s | %(levelname)-8s | %(name)s | %(message)s | %(context)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False


class StageClock:
    """Progress lines per stage, and how long each stage took (for the result and the estimates)."""

    def __init__(self, pause: float = 0.0):
        self.pause = pause
        self.seconds: dict[str, float] = {}
        self._stage: str | None = None
        self._t = time.monotonic()

    def enter(self, stage: str, message: str) -> None:
        self._close()
        self._stage, self._t = stage, time.monotonic()
        progress(STAGE_PROGRESS[stage], stage, message)
        log.info(message)
        if self.pause > 0:
            time.sleep(self.pause)

    def _close(self) -> None:
        if self._stage is not None:
            self.seconds[self._stage] = round(time.monotonic() - self._t, 3)

    def finish(self) -> dict[str, float]:
        self._close()
        self._stage = None
        return dict(self.seconds)


# --------------------------------------------------------------------------- sources
class StoreSource:
    name = "store"

    def __init__(self):
        from jobs.common.store import Store

        self.store = Store.open()

    def connect(self) -> str:
        return f"store {self.store.path}"

    def read(self, meter_type: str, meter_id: str, start, end) -> tuple[pd.Series, int]:
        from jobs.simulator.meters import backfill_meter, known_meter, series_name

        backfilled = 0
        name = series_name(meter_type, meter_id)
        if known_meter(meter_type, meter_id):
            days = max(1, int(np.ceil((end - start) / DAY)))
            backfilled = backfill_meter(self.store, meter_type, meter_id, days=days, end=end)
            if backfilled:
                log.info("backfilled %d simulated hours into %s", backfilled, name)
        series = self.store.read_series(name, start, end)
        if series.empty and self.store.latest(name) is None:
            raise DataError(
                f"meter unknown: the store has no readings for {name}, and {meter_type}/{meter_id} "
                "is not a simulated meter (ids meter_[a-z0-9_]+ of type electricity, heat, water, gas)"
            )
        return series, backfilled

    def register(self, meter_type: str, meter_id: str, version: str, path: Path, metrics: dict, holdout: dict):
        self.store.register_model(f"meter.{meter_type}.{meter_id}", version, path, metrics, holdout, promoted=True)


class InfluxSource:
    name = "influx"

    def __init__(self):
        from jobs.meters.influx import InfluxClient, InfluxSettings

        self.client = InfluxClient(InfluxSettings.from_env())

    def connect(self) -> str:
        version = self.client.ping()
        self.client.check_database()
        return f"InfluxDB {version} at {self.client.base}, database {self.client.settings.database}"

    def read(self, meter_type: str, meter_id: str, start, end) -> tuple[pd.Series, int]:
        series = self.client.read_meter(meter_type, meter_id, start, end)
        if series.empty:
            s = self.client.settings
            raise DataError(
                f"meter unknown: InfluxDB has no readings for {s.meter_tag}={meter_id}"
                + (f", {s.type_tag}={meter_type}" if s.type_tag else "")
                + f" in {s.measurement}.{s.field} between {timeutil.iso(start)} and {timeutil.iso(end)}"
            )
        return series, 0

    def register(self, *args) -> None:
        pass  # the model registry lives in the store, which an Influx deployment may not have


def open_source():
    kind = settings.env_choice("HEA_METER_SOURCE", "store", ("store", "influx"))
    return InfluxSource() if kind == "influx" else StoreSource()


# --------------------------------------------------------------------------- validation
def validate(series: pd.Series, end: pd.Timestamp) -> tuple[pd.Series, dict]:
    """Hourly readings on a full grid (NaN where missing), outliers removed; DataError when unusable."""
    min_days = settings.env_int("HEA_METER_MIN_DAYS", 28)
    max_gap = settings.env_float("HEA_METER_MAX_GAP_SHARE", 0.1)
    max_outliers = settings.env_float("HEA_METER_MAX_OUTLIER_SHARE", 0.005)
    s = series[np.isfinite(series.to_numpy(dtype=float))]
    s = s[~s.index.duplicated(keep="last")].sort_index()
    if len(s) < min_days * 24:
        raise DataError(
            f"not enough data: {len(s)} hourly readings ({len(s) / 24:.1f} days); "
            f"need at least {min_days} days (HEA_METER_MIN_DAYS)"
        )
    grid = pd.date_range(s.index.min().floor("h"), end - HOUR, freq="h")
    full = s.reindex(grid)
    missing = ~np.isfinite(full.to_numpy(dtype=float))
    gap_share = float(missing.mean())
    longest = _longest_run(missing)
    if gap_share > max_gap:
        raise DataError(
            f"too many gaps: {gap_share:.1%} of the {len(grid)} hours since the first reading are "
            f"missing (longest gap {longest} h); at most {max_gap:.0%} accepted (HEA_METER_MAX_GAP_SHARE)"
        )
    values = full.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    if np.nanmax(finite) - np.nanmin(finite) <= 1e-12:
        raise DataError(f"stuck meter: all {len(finite)} readings are {finite[0]:g}; nothing to learn from")
    outliers = _outliers(full)
    share = float(outliers.sum()) / max(1, len(finite))
    if share > max_outliers:
        raise DataError(
            f"outliers: {int(outliers.sum())} readings ({share:.2%}) are negative or far outside the "
            f"meter's usual range for their hour; at most {max_outliers:.2%} accepted "
            "(HEA_METER_MAX_OUTLIER_SHARE): check the meter or its register"
        )
    clean = full.where(~outliers)
    report = {
        "hours": int(len(grid)),
        "readings": int(len(finite)),
        "missing_hours": int(missing.sum()),
        "missing_share": round(gap_share, 4),
        "longest_gap_hours": int(longest),
        "outliers_removed": int(outliers.sum()),
        "first": timeutil.iso(grid[0]),
        "last": timeutil.iso(grid[-1]),
    }
    return clean, report


def _longest_run(mask: np.ndarray) -> int:
    """The longest run of True in `mask`."""
    edges = np.diff(np.concatenate(([0], np.asarray(mask, dtype=np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max()) if len(starts) else 0


def _same_hour_rolling_median(values: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """For each reading, the median of the readings at the same hour of day over the 15 days around it
    (at least 5 of them; NaN ignored). The readings are laid out as a matrix with one column per hour of day,
    each column its hour's readings in order (NaN after the last), so the 24 rolling medians are one columnwise
    pass: the same medians as a groupby by hour with a rolling median per group, without its per-group Python."""
    row = pd.Series(hours).groupby(hours).cumcount().to_numpy()
    grid = np.full((int(row.max()) + 1, 24), np.nan)
    grid[row, hours] = values
    med = pd.DataFrame(grid).rolling(15, center=True, min_periods=5).median().to_numpy()
    return med[row, hours]


def _outliers(full: pd.Series) -> np.ndarray:
    """Negative readings, and readings far above what the same hour of day reads over the surrounding
    two weeks (a median and a median absolute deviation, so the outliers cannot hide themselves)."""
    values = full.to_numpy(dtype=float)
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    hours = np.asarray(full.index.hour)
    med = _same_hour_rolling_median(values, hours)
    mad = _same_hour_rolling_median(np.abs(values - med), hours)
    level = float(np.nanmedian(values))
    scale = np.maximum(1.4826 * mad, 0.05 * max(level, 1e-9))
    with np.errstate(invalid="ignore"):
        high = (values - med) > 12.0 * scale
        high &= values > 3.0 * np.maximum(med, 0.1 * level)
        neg = values < 0
    return high | neg


# --------------------------------------------------------------------------- model
def fit_plan() -> tuple[bool, int]:
    """(fit the holdout model and the final model in parallel?, XGBoost threads per fit).

    In parallel each fit gets HEA_TRAIN_THREADS capped at half the usable cores, so the two together never ask
    for more threads than there are cores (OpenMP threads competing for cores made fits many times slower:
    forecast_settings). `auto` (the default) fits in parallel only when a core is idle as the fits start
    (`idle_cores`): on a busy machine (other trainings at concurrency 4, say) the second thread gains no CPU,
    and the two threads then wait on each other for the GIL whenever the one holding it is preempted
    (measured: two fits 2.5 s serial vs 3.3 s parallel at load 14 on 2 cores). The models are the same."""
    threads = train_threads()
    mode = settings.env_choice("HEA_METER_PARALLEL_FITS", "auto", ("auto", "true", "false"))
    cores = usable_cores()
    if mode == "false" or cores < 2 or (mode == "auto" and idle_cores(cores) < 1):
        return False, threads
    return True, max(1, min(threads, cores // 2))


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def idle_cores(cores: int) -> int:
    """Cores not running anything now (the kernel's count of runnable threads, this one included, in
    /proc/loadavg); without /proc, all but this one."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            running = int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        running = 1
    return max(0, cores - running)


def features(series: pd.Series, index: pd.DatetimeIndex) -> pd.DataFrame:
    frame = pd.concat([calendar_features(index), lag_features(series, index, "y")], axis=1)
    frame["y"] = series.reindex(index).to_numpy(dtype=float)
    return frame


def model_params() -> dict:
    # Shallow, well-regularised trees: meter readings are noisy, and deeper trees lost to "same time
    # yesterday" on simulated meters of every type, where these beat it (measured on 5 meters, 14-day holdout).
    return {
        "n_estimators": settings.env_int("HEA_METER_ESTIMATORS", 400),
        "max_depth": 3,
        "learning_rate": 0.05,
        "min_child_weight": 10.0,
    }


def training_frame(clean: pd.Series, holdout_days: int):
    """(rows with features and target, feature columns, training rows, holdout rows, holdout start)."""
    frame = features(clean, clean.index)
    cols = [c for c in frame.columns if c != "y"]
    # Rows need a target and a day of look-back (the 24 h lags); the first week's rolling stats may be NaN.
    frame = frame[np.isfinite(frame["y"].to_numpy()) & np.isfinite(frame["y_lag24"].to_numpy())]
    # Exactly the last holdout_days x 24 hours, whatever the hour of the run (the API reports the row count).
    cutoff = trailing_cutoff(clean.index, holdout_days)
    train_rows, hold_rows = split_at(frame, cutoff)
    return frame, cols, train_rows, hold_rows, cutoff


def train_model(clean: pd.Series, meter: str) -> tuple[object, dict, dict]:
    holdout_days = settings.env_int("HEA_METER_HOLDOUT_DAYS", 14)
    params = model_params()
    frame, cols, train_rows, hold_rows, cutoff = training_frame(clean, holdout_days)
    if len(hold_rows) < 24 or len(train_rows) < 7 * 24:
        raise DataError(
            f"not enough data: {len(train_rows)} training and {len(hold_rows)} holdout hours after "
            f"validation; need a week to train and a day of holdout"
        )
    parallel, threads = fit_plan()

    def holdout_fit() -> dict:
        model = fit_model(meter, "regressor", train_rows, cols, "y", params, threads=threads)
        metrics = forecast_report(hold_rows["y"], model.predict(hold_rows), clean)
        progress(
            80,
            "training_model",
            f"holdout MAE {metrics['mae']:.4g} vs same-time-yesterday "
            f"{metrics['baseline_yesterday_mae']:.4g}; refitting on all {len(frame)} hours",
        )
        return metrics

    if parallel:
        # The refit does not depend on the holdout fit: it runs in a second thread meanwhile (xgboost releases
        # the GIL), and the progress lines are the same, in the same order, as one after the other.
        with ThreadPoolExecutor(1, thread_name_prefix="refit") as pool:
            refit = pool.submit(fit_model, meter, "regressor", frame, cols, "y", params, threads=threads)
            metrics = holdout_fit()
            final = refit.result()
    else:
        metrics = holdout_fit()
        final = fit_model(meter, "regressor", frame, cols, "y", params, threads=threads)
    holdout = {
        "start": timeutil.iso(cutoff),
        "end": timeutil.iso(clean.index.max()),
        "days": holdout_days,
        "train_rows": int(len(train_rows)),
        "holdout_rows": int(len(hold_rows)),
    }
    return final, rounded(metrics), holdout


# --------------------------------------------------------------------------- files
def model_paths(meter_type: str, meter_id: str) -> tuple[Path, Path]:
    folder = settings.models_dir() / meter_type
    return folder / f"{meter_id}.pkl", folder / f"{meter_id}.json"


def display_path(path: Path) -> str:
    """Relative to the project root when inside it (as the seed printed), absolute otherwise."""
    try:
        return str(path.relative_to(settings.REPO_ROOT))
    except ValueError:
        return str(path)


def stage_times_file() -> Path:
    return settings.data_dir() / "meters" / "stage_times.json"


def record_stage_times(seconds: dict[str, float]) -> None:
    """Fold this training's stage durations into the running estimates (a locked read-modify-write, so
    parallel trainings do not lose each other's numbers)."""
    path = stage_times_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        stages = data.get("stages") or {}
        for stage, secs in seconds.items():
            old = stages.get(stage) or {}
            n = int(old.get("samples", 0))
            mean = float(old.get("mean_seconds", secs)) if n else secs
            stages[stage] = {
                "mean_seconds": round(mean + EWMA_ALPHA * (secs - mean) if n else secs, 3),
                "last_seconds": secs,
                "samples": n + 1,
            }
        data = {
            "version": 1,
            "updated_at": timeutil.iso(timeutil.now()),
            "trainings": int(data.get("trainings", 0)) + 1,
            "stages": stages,
        }
        atomic_write(path, json.dumps(data, indent=2).encode())


# --------------------------------------------------------------------------- main
def build_parser():
    p = parser("Train one meter's forecasting model (the meter training API's job).")
    p.add_argument("--meter-id", required=True)
    p.add_argument("--meter-type", required=True)
    p.add_argument("--task-id", default="", help="the API's task id, carried in every log line")
    p.add_argument("--history-days", type=int, default=None, help="overrides HEA_METER_HISTORY_DAYS")
    return p


def main(args) -> dict:
    meter_id, meter_type = args.meter_id, args.meter_type
    task_id = args.task_id or os.environ.get("HEA_WORKFLOW_ID", "") or "-"
    setup_logging(task_id, meter_type, meter_id)
    if not METER_ID_RE.match(meter_id) or ".." in meter_id:
        raise UsageError(
            f"invalid meter id {meter_id!r}: 1-64 letters, digits, _ . - (no path separators, no ..)", field="meter_id"
        )
    if not METER_TYPE_RE.match(meter_type):
        raise UsageError(f"invalid meter type {meter_type!r}", field="meter_type")
    history_days = args.history_days or settings.env_int("HEA_METER_HISTORY_DAYS", 365)
    if history_days < 2:
        raise ConfigError(f"history must be at least 2 days, got {history_days}", field="history_days")
    clock = StageClock(settings.env_float("HEA_METER_STAGE_PAUSE_SECONDS", 0.0))
    log.info("starting model training")

    clock.enter("connecting", "connecting to the meter data source")
    source = open_source()
    where = source.connect()
    log.debug("connected to %s", where)

    clock.enter("fetching_data", f"fetching {history_days} days of readings from {source.name}")
    t_fetch = time.monotonic()
    end = timeutil.now().floor("h")
    start = end - history_days * DAY
    raw, backfilled = source.read(meter_type, meter_id, start, end)
    fetch_seconds = time.monotonic() - t_fetch
    log.info("fetched %d readings in %.2f s", len(raw), fetch_seconds)

    clock.enter("validating_data", f"validating {len(raw)} readings")
    clean, quality = validate(raw, end)
    log.debug("data quality: %s", quality)

    clock.enter("training_model", f"training on {quality['readings'] - quality['outliers_removed']} hourly readings")
    t_train = time.monotonic()
    name = f"meter.{meter_type}.{meter_id}"
    model, metrics, holdout = train_model(clean, name)
    train_seconds = time.monotonic() - t_train
    log.info(
        "trained in %.2f s: holdout MAE %s, same-time-yesterday %s, 7-day %s",
        train_seconds,
        metrics.get("mae"),
        metrics.get("baseline_yesterday_mae"),
        metrics.get("baseline_7day_mae"),
    )

    model_path, meta_path = model_paths(meter_type, meter_id)
    clock.enter("saving_model", f"saving the model to {display_path(model_path)}")
    version = registry.version_stamp()
    completed = timeutil.now()
    data_points = int(quality["readings"])
    meta = {
        "meter_id": meter_id,
        "meter_type": meter_type,
        "task_id": task_id,
        "version": version,
        "model": "xgboost day-ahead (calendar + 24h+ lags)",
        "model_path": str(model_path),
        "source": source.name,
        "trained_at": timeutil.iso(completed),
        "data_points": data_points,
        "data_quality": quality,
        "metrics": metrics,
        "holdout": holdout,
        "features": model.features,
        "params": model.params,
    }
    registry.write_model(model_path, model)  # the model first, then the metadata that describes it
    stage_seconds = clock.finish()
    meta["stage_seconds"] = stage_seconds
    registry.write_metadata(meta_path, meta)
    source.register(meter_type, meter_id, version, model_path, metrics, holdout)
    record_stage_times(stage_seconds)
    log.info("model saved at %s", model_path)

    shown = display_path(model_path)
    # A model that does not beat "same time yesterday" on its holdout is saved (the caller may still want
    # it) but not reported as a plain success: the status and the message say so.
    mae, naive = metrics.get("mae"), metrics.get("baseline_yesterday_mae")
    beats_naive = mae is not None and naive is not None and mae < naive
    if beats_naive:
        status, message = "success", f"Model trained and saved at {shown}"
    else:
        status = "worse_than_naive"
        message = (
            f"Model trained and saved at {shown}, but it is worse than the same-time-yesterday forecast on its "
            f"holdout (MAE {mae} vs {naive}): use same-time-yesterday for this meter"
        )
        log.warning("the model is worse than same-time-yesterday: MAE %s vs %s", mae, naive)
    return {
        "status": status,
        "message": message,
        "beats_naive": beats_naive,
        "details": {
            "meter_id": meter_id,
            "meter_type": meter_type,
            "data_points": data_points,
            "model_path": shown,
            "metadata_path": display_path(meta_path),
            "training_completed": completed.isoformat(),
            "data_fetch_time_seconds": round(fetch_seconds, 3),
            "training_time_seconds": round(train_seconds, 3),
            "source": source.name,
            "backfilled_hours": backfilled,
            "data_quality": quality,
            "metrics": metrics,
            "holdout": holdout,
            "stage_seconds": stage_seconds,
            "task_id": task_id,
        },
    }


if __name__ == "__main__":
    run_main(main, build_parser())
