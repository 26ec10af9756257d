"""Benchmark of the battery controllers (not a test): simulated history, the real rl_train job, the figures.

    .venv/bin/python -m jobs.bench.battery [--days 365] [--end 2025-08-15T10:30:00Z,...] [--holdout-days 28]
                                           [--timesteps N] [--out bench-battery.json]

For each end instant: a fresh temporary store filled by the simulator with `--days` of history before it,
then `python -m jobs.rl.train --holdout-days H` run as the worker would run it (a subprocess, HEA_NOW = end),
then, on the same held-out hours, MPC with perfect forecasts (the literature's "99% of the optimum" check,
which isolates forecast error from the planner). Prints each controller's share of the optimum's savings,
costs and the training seconds; writes everything as JSON with --out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from jobs.battery import data as bdata
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.controllers import MPC
from jobs.battery.evaluate import evaluate
from jobs.battery.scenario import build_scenario
from jobs.bench.common import environment, result_of
from jobs.common.store import Store
from jobs.simulator.backfill import backfill_store

REPO = Path(__file__).resolve().parents[2]
CONTROLLERS = ("rule_based", "mpc", "rl_agent")


def run_once(end: str, days: int, holdout_days: int, timesteps: int | None, keep: bool) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="hea-bench-battery-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HEA_")
        or k.startswith("HEA_BATTERY")
        or k
        in (
            "HEA_GRID_FEE_EUR_KWH",
            "HEA_ENERGY_TAX_EUR_KWH",
            "HEA_VAT",
            "HEA_EXPORT_FEE_EUR_KWH",
            "HEA_SIM_SEED",
            "HEA_RL_ITERATIONS",
            "HEA_RL_EPISODE_HOURS",
        )
    }
    env.update(HEA_DATA_DIR=str(tmp / "data"), HEA_MODELS_DIR=str(tmp / "models"), HEA_NOW=end, PYTHONUNBUFFERED="1")
    (tmp / "data").mkdir(parents=True)
    url = f"sqlite:///{tmp / 'data' / 'energy.db'}"
    stop = pd.Timestamp(end).floor("h")
    try:
        with environment(HEA_NOW=end):
            with Store.open(url) as store:
                backfill_store(store, stop - pd.Timedelta(days=days), stop, forecasts=False)
            args = [sys.executable, "-m", "jobs.rl.train", "--holdout-days", str(holdout_days)]
            if timesteps:
                args += ["--total-timesteps", str(timesteps)]
            t0 = time.perf_counter()
            proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            result = result_of(proc.stdout)
            if proc.returncode != 0 or result is None:
                raise SystemExit(f"rl_train failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")

            # MPC with perfect forecasts on the very same held-out hours.
            cfg, tariff = BatteryConfig.from_env(), Tariff.from_env()
            with Store.open(url) as store:
                start, stop_h = bdata.history_range(store)
                frame = bdata.load_history(store, start, stop_h)
            sc = build_scenario(frame, tariff, forecasts="perfect")
            hold = pd.Timestamp(result["holdout"]["start"])
            first = int(sc.index.searchsorted(hold))
            ev = evaluate(sc, cfg, tariff, [MPC(cfg, tariff)], start=first, end=len(sc))
            result["mpc_perfect_forecast_share"] = ev["controllers"]["mpc"]["share_of_optimum"]
            result["job_wall_seconds"] = round(wall, 1)
            result["end"] = end
            return result
    finally:
        if not keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=365, help="simulated history before each end (default 365)")
    p.add_argument(
        "--end",
        default="2025-08-15T10:30:00Z",
        help="comma-separated end instants (HEA_NOW of each run); several give a seasonal view",
    )
    p.add_argument("--holdout-days", type=int, default=28)
    p.add_argument("--timesteps", type=int, default=None, help="--total-timesteps for rl_train (its default if unset)")
    p.add_argument("--keep", action="store_true", help="keep the temporary stores")
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    args = p.parse_args()

    runs = []
    for end in [e.strip() for e in args.end.split(",") if e.strip()]:
        print(f"== history of {args.days} days to {end}, holdout {args.holdout_days} days", flush=True)
        r = run_once(end, args.days, args.holdout_days, args.timesteps, args.keep)
        runs.append(r)
        sh = r["shares"]
        print(
            f"   optimum saves {r['optimum_savings_eur']:.2f} EUR of {r['cost_no_battery_eur']:.2f} EUR "
            f"({r['holdout']['start']} .. {r['holdout']['end']})"
        )
        for name in CONTROLLERS:
            print(
                f"   {name:<11} share {sh[name] if sh[name] is None else round(sh[name], 3)!s:>6}   "
                f"cost {r['costs_eur'][name]:.2f} EUR"
            )
        print(f"   mpc with perfect forecasts: share {r['mpc_perfect_forecast_share']:.3f}")
        print(f"   best: {r['best_controller']} ({r['reason']})")
        print(
            f"   seconds: training {r['seconds']['training']}, evaluation {r['seconds']['evaluation']}, "
            f"job {r['job_wall_seconds']}",
            flush=True,
        )
    out = {
        "days": args.days,
        "holdout_days": args.holdout_days,
        "battery": BatteryConfig.from_env().to_dict(),
        "tariff": Tariff.from_env().to_dict(),
        "runs": runs,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2, default=str))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
