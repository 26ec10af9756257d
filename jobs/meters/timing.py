"""Where a meter-year training's time goes: `python -m jobs.meters.timing [--meter-id ID] [--meter-type TYPE]`.

Runs the steps of jobs.meters.train one by one with the job's own functions and prints each one's seconds:

    import third-party  numpy, pandas, xgboost: what the warm job host preloads (a cold job pays it)
    import jobs.*       the job's own modules: every job pays it, warm or cold (the host never preloads them)
    read                the meter's readings from the store (after an untimed first read that backfills a
                        simulated meter, as its first training does)
    validate            gaps, outliers (jobs.meters.train.validate)
    features            calendar features and lags
    fit holdout / fit final   each fit alone
    fits as the job runs them  both, in parallel or not as HEA_METER_PARALLEL_FITS and the idle cores say
                        (train.fit_plan), with the holdout forecast and score
    predict + score     the holdout forecast and its report
    write               the model and its metadata, into a temporary directory (never the real models)

Options: --days (default HEA_METER_HISTORY_DAYS or 365), --repeat N (the median of N runs of the steps
after the imports, default 3), --json. The environment is the job's (HEA_DATA_DIR, HEA_NOW, HEA_TRAIN_THREADS,
...): the simulated meter's year is backfilled into HEA_DATA_DIR's store on the first run, like a training.
Run it in a fresh process: the import figures are only true for the first import.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _clock(times: dict[str, list[float]], name: str, t0: float) -> float:
    now = time.perf_counter()
    times.setdefault(name, []).append(now - t0)
    return now


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m jobs.meters.timing", description=__doc__.split("\n")[0])
    p.add_argument("--meter-id", default="meter_timing_1")
    p.add_argument("--meter-type", default="electricity")
    p.add_argument("--days", type=int, default=None)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")

    imports: dict[str, float] = {}
    t0 = time.perf_counter()
    import numpy  # noqa: F401
    import pandas as pd  # noqa: F401
    import xgboost  # noqa: F401

    imports["import third-party"] = time.perf_counter() - t0
    # Whether the job's modules come from bytecode already on disk or are compiled from source now.
    cached = Path(importlib.util.cache_from_source(str(Path(__file__).with_name("train.py")))).exists()
    t0 = time.perf_counter()
    import jobs.common.store  # noqa: F401  imported lazily by the job, but every training imports it
    import jobs.simulator.meters  # noqa: F401
    from jobs.common import registry, settings, timeutil
    from jobs.common.features import DAY
    from jobs.common.forecast_model import fit_model
    from jobs.common.metrics import forecast_report
    from jobs.meters import train

    imports["import jobs.*"] = time.perf_counter() - t0
    bytecode = "from cached bytecode" if cached else "compiled from source"

    if not train.METER_ID_RE.match(args.meter_id) or ".." in args.meter_id:
        p.error(f"--meter-id: invalid meter id {args.meter_id!r}")
    if not train.METER_TYPE_RE.match(args.meter_type):
        p.error(f"--meter-type: invalid meter type {args.meter_type!r}")
    days = args.days or settings.env_int("HEA_METER_HISTORY_DAYS", 365)
    if days < 2:
        p.error("--days must be at least 2")

    source = train.StoreSource()
    end = timeutil.now().floor("h")
    start = end - days * DAY
    _, backfilled = source.read(args.meter_type, args.meter_id, start, end)  # untimed: a first training's backfill
    parallel, threads = train.fit_plan()
    params = train.model_params()
    holdout_days = settings.env_int("HEA_METER_HOLDOUT_DAYS", 14)
    name = f"meter.{args.meter_type}.{args.meter_id}"
    times: dict[str, list[float]] = {}
    rows = 0
    with tempfile.TemporaryDirectory(prefix="hea-meter-timing-") as tmp:
        for _ in range(args.repeat):
            t = time.perf_counter()
            raw, _ = source.read(args.meter_type, args.meter_id, start, end)
            t = _clock(times, "read", t)
            clean, _quality = train.validate(raw, end)
            t = _clock(times, "validate", t)
            frame, cols, train_rows, hold_rows, _ = train.training_frame(clean, holdout_days)
            rows = len(frame)
            t = _clock(times, "features", t)
            model = fit_model(name, "regressor", train_rows, cols, "y", params, threads=threads)
            t = _clock(times, "fit holdout", t)
            final = fit_model(name, "regressor", frame, cols, "y", params, threads=threads)
            t = _clock(times, "fit final", t)
            forecast_report(hold_rows["y"], model.predict(hold_rows), clean)
            t = _clock(times, "predict + score", t)
            registry.write_model(Path(tmp) / "model.pkl", final)
            registry.write_metadata(Path(tmp) / "model.json", {"features": final.features, "params": final.params})
            t = _clock(times, "write", t)
            # The two fits as the job runs them (train.train_model's own code path, prediction and score included).
            parallel = train.fit_plan()[0]  # what train_model decides now (auto: is a core idle?)
            with contextlib.redirect_stdout(io.StringIO()):  # its progress line is not this tool's output
                train.train_model(clean, name)
            _clock(times, f"fits as the job runs them ({'parallel' if parallel else 'serial'})", t)

    figures = {k: round(v, 3) for k, v in imports.items()}
    figures.update({k: round(statistics.median(v), 3) for k, v in times.items()})
    info = {
        "meter": f"{args.meter_type}/{args.meter_id}",
        "days": days,
        "rows": rows,
        "backfilled_hours": backfilled,
        "repeat": args.repeat,
        "threads_per_fit": threads,
        "parallel_fits": parallel,
        "jobs_imports": bytecode,
    }
    if args.json:
        print(json.dumps({**info, "seconds": figures}))
        return 0
    print(" ".join(f"{k}={v}" for k, v in info.items()))
    width = max(len(k) for k in figures)
    for k, v in figures.items():
        print(f"  {k.ljust(width)}  {v:7.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
