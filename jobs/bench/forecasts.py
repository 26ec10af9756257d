"""Forecast benchmark (not a test): a fresh simulated store, every training job, and a table of figures.

    python -m jobs.bench.forecasts [--days 365] [--trials 50] [--now 2026-11-20T10:00:00Z]
                                   [--holdout-days 28] [--out bench/forecasts.json] [--keep] [--ablation]

Builds a store in a temporary directory from the simulator (the fetch jobs with HEA_BACKFILL_DAYS=--days),
runs the real jobs as subprocesses exactly as the worker does (prices_train for trend/peak/valley,
demand_train with --trials, solar_predictions which trains itself, then price_predictions and
demand_predictions), and prints for each model its holdout MAE against "same time yesterday" and the
7-day same-slot average (and their ratios, rMAE), the within-day rank correlation of the price forecast,
peak/valley precision, each job's wall-clock seconds, and how well the demand model's HMM recovers the
simulator's hidden occupancy. --ablation adds the demand model without its HMM and without temperature.
--out also writes everything as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jobs.bench.common import environment, hea_settings, result_of

REPO_ROOT = Path(__file__).resolve().parents[2]

FETCHES = [
    "jobs.prices.fetch",
    "jobs.commodities.fetch",
    "jobs.weather.fetch",
    "jobs.demand.fetch_consumption",
    "jobs.demand.fetch_heat_pump",
    "jobs.solar.fetch_actual",
]


def run(module: str, *args: str, env: dict) -> dict:
    t0 = time.time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    seconds = time.time() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds too: on a shared machine the wall clock says more about the neighbours than the job
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = result_of(proc.stdout)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-15:])
        raise SystemExit(f"{module} {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    return {
        "job": " ".join([module, *args]),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "result": result or {},
    }


def occupancy_agreement(env: dict) -> dict:
    """How well the demand model's HMM recovers the simulator's hidden occupancy (away/home/asleep).

    The HMM's states are unlabelled, so each is mapped to the true state it most often coincides with;
    the figure is the share of hours where the filtered (past-only) most likely state maps to the truth,
    next to always guessing the most common state.
    """
    import numpy as np

    try:
        with environment(**hea_settings(env)):
            from jobs.common import registry
            from jobs.common.store import Store
            from jobs.demand.features import hmm_observations, load_consumption
            from jobs.simulator import Simulator

            store = Store.open()
            model, _ = registry.load_champion(store, "demand")
            consumption = load_consumption(store)
            store.close()
            occ = model.extra["occupancy"]
            probs = occ.filtered(hmm_observations(consumption, consumption.index))
            truth = Simulator.from_env().occupancy(consumption.index)
            guess = probs.argmax(axis=1)
            ok = np.isfinite(hmm_observations(consumption, consumption.index))
            mapping = {
                s: int(np.bincount(truth[ok & (guess == s)], minlength=3).argmax()) if (ok & (guess == s)).any() else 0
                for s in range(occ.n_states)
            }
            mapped = np.array([mapping[g] for g in guess])
            acc = float((mapped[ok] == truth[ok]).mean())
            majority = float(np.bincount(truth[ok]).max() / ok.sum())
            return {
                "accuracy": round(acc, 3),
                "majority_class": round(majority, 3),
                "mapping": {str(k): ["away", "home", "asleep"][v] for k, v in mapping.items()},
            }
    except Exception as err:  # a figure, not a gate
        return {"error": str(err)}


def demand_ablation(env: dict) -> dict:
    """Holdout MAE of the demand model (default hyperparameters) without the HMM or the temperature features."""
    try:
        with environment(**hea_settings(env)):
            import contextlib
            import io

            from jobs.common.forecast_settings import holdout_days, min_lead_hours
            from jobs.common.holdout import holdout_cutoff
            from jobs.common.store import Store
            from jobs.common.training import TrainSpec, train
            from jobs.demand import features as df
            from jobs.demand.train import evaluator

            store = Store.open()
            c = df.load_consumption(store)
            cut = holdout_cutoff(c.index, holdout_days())
            occ = df.Occupancy(df.hmm_states()).fit(c[c.index < cut])
            frame = df.build_frame(c, c.index, occ, df.Weather(store, min_lead=min_lead_hours()))
            frame["y"] = c.to_numpy()
            every = df.feature_columns(frame)
            sets = {
                "all features": every,
                "without HMM occupancy": [f for f in every if not f.startswith("occ")],
                "without temperature": [f for f in every if "temp" not in f and "heating" not in f],
            }
            out = {}
            for label, feats in sets.items():
                spec = TrainSpec(
                    name="ablation",
                    kind="regressor",
                    frame=frame,
                    features=feats,
                    target="y",
                    evaluate=evaluator(c),
                    metric="mae",
                    base="load_slot7_mean",
                    params={"objective": "reg:absoluteerror"},
                )
                with contextlib.redirect_stdout(io.StringIO()):  # the progress lines of an in-process run
                    res = train(store, spec, production=False)
                out[label] = {"mae": res["metrics"]["mae"], "rmae_7day": res["metrics"]["rmae_7day"]}
            store.close()
            return out
    except Exception as err:  # a figure, not a gate
        return {"error": str(err)}


def fmt(v, digits=3):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365, help="days of simulated history (default 365)")
    ap.add_argument("--trials", type=int, default=50, help="demand_train --trials (default 50, as weekly)")
    ap.add_argument("--now", default="2026-11-20T10:00:00Z", help="HEA_NOW for every job")
    ap.add_argument("--holdout-days", type=int, default=28)
    ap.add_argument("--out", help="write the figures as JSON here (e.g. bench/forecasts.json)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary store and models")
    ap.add_argument(
        "--ablation",
        action="store_true",
        help="also score the demand model without its HMM and without its temperature features",
    )
    args = ap.parse_args(argv)

    base = Path(tempfile.mkdtemp(prefix="hea-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEA_")}
    env.update(
        HEA_DATA_DIR=str(base / "data"),
        HEA_MODELS_DIR=str(base / "models"),
        HEA_NOW=args.now,
        HEA_BACKFILL_DAYS=str(args.days),
        HEA_HOLDOUT_DAYS=str(args.holdout_days),
        PYTHONUNBUFFERED="1",
    )
    report: dict = {
        "days": args.days,
        "now": args.now,
        "holdout_days": args.holdout_days,
        "trials": args.trials,
        "cpus": os.cpu_count(),
        "fetch": [],
        "train": {},
        "predict": [],
    }
    try:
        print(f"store: {base} ({args.days} days of simulated history, now={args.now})", flush=True)
        t0 = time.time()
        for module in FETCHES:
            report["fetch"].append(run(module, env=env))
        report["fetch_seconds"] = round(time.time() - t0, 2)
        print(f"fetched in {report['fetch_seconds']} s", flush=True)
        for model in ("trend", "peak", "valley"):
            report["train"][f"price_{model}"] = run("jobs.prices.train", "--model", model, "--production", env=env)
            r = report["train"][f"price_{model}"]
            print(f"price_{model}: {r['seconds']} s ({r['cpu_seconds']} s CPU)", flush=True)
        report["train"]["demand"] = run("jobs.demand.train", "--production", "--trials", str(args.trials), env=env)
        r = report["train"]["demand"]
        print(f"demand: {r['seconds']} s ({r['cpu_seconds']} s CPU)", flush=True)
        solar = run("jobs.solar.predict", "--horizon-days", "2.0", env=env)
        report["train"]["solar"] = {**solar, "result": solar["result"].get("training", {})}
        report["predict"].append(solar)
        for job in (
            ("jobs.prices.run_model", "--model", "trend", "--horizon-days", "2.0"),
            ("jobs.prices.run_model", "--model", "peak", "--horizon-days", "2.0"),
            ("jobs.demand.predict", "--horizon-days", "2.0"),
        ):
            report["predict"].append(run(*job, env=env))
        report["occupancy"] = occupancy_agreement(env)
        if args.ablation:
            report["demand_ablation"] = demand_ablation(env)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    print()
    print(
        f"Holdout: last {args.holdout_days} days, forecast one day ahead; {args.days} days of history; "
        f"{os.cpu_count()} CPUs"
    )
    head = (
        f"{'model':<13} {'MAE':>8} {'yesterday':>10} {'7-day avg':>10} {'rMAE y':>7} {'rMAE 7d':>8} "
        f"{'rank corr':>9} {'train s':>8} {'CPU s':>7}"
    )
    print(head)
    print("-" * len(head))
    for name in ("price_trend", "demand", "solar"):
        r = report["train"][name]
        m = r["result"].get("metrics", {})
        print(
            f"{name:<13} {fmt(m.get('mae')):>8} {fmt(m.get('baseline_yesterday_mae')):>10} "
            f"{fmt(m.get('baseline_7day_mae')):>10} {fmt(m.get('rmae_yesterday')):>7} {fmt(m.get('rmae_7day')):>8} "
            f"{fmt(m.get('rank_corr_within_day')):>9} {fmt(r['seconds'], 1):>8} {fmt(r['cpu_seconds'], 1):>7}"
        )
    trend = report["train"]["price_trend"]["result"].get("metrics", {})
    print(
        f"{'(yesterday)':<13} {'':>8} {'':>10} {'':>10} {'':>7} {'':>8} "
        f"{fmt(trend.get('rank_corr_within_day_yesterday')):>9}"
    )
    print()
    head2 = (
        f"{'model':<13} {'precision':>9} {'yesterday':>10} {'7-day avg':>10} {'rank corr':>9} {'train s':>8} "
        f"{'CPU s':>7}"
    )
    print(head2)
    print("-" * len(head2))
    for name in ("price_peak", "price_valley"):
        r = report["train"][name]
        m = r["result"].get("metrics", {})
        print(
            f"{name:<13} {fmt(m.get('precision')):>9} {fmt(m.get('baseline_yesterday_precision')):>10} "
            f"{fmt(m.get('baseline_7day_precision')):>10} {fmt(m.get('rank_corr_within_day')):>9} "
            f"{fmt(r['seconds'], 1):>8} {fmt(r['cpu_seconds'], 1):>7}"
        )
    solar_m = report["train"]["solar"]["result"].get("metrics", {})
    if solar_m:
        print(
            f"\nsolar: physical estimate alone MAE {fmt(solar_m.get('baseline_physical_mae'))}; "
            f"serving {report['predict'][0]['result'].get('serving')}"
        )
    occ = report.get("occupancy", {})
    if "accuracy" in occ:
        print(
            f"demand HMM: filtered state matches the simulator's hidden occupancy in {occ['accuracy']:.1%} of hours "
            f"(always the commonest state: {occ['majority_class']:.1%}); states -> {occ['mapping']}"
        )
    for label, r in report.get("demand_ablation", {}).items():
        if isinstance(r, dict):
            print(f"demand ablation, {label}: MAE {fmt(r['mae'])}, rMAE vs 7-day {fmt(r['rmae_7day'])}")
    train_total = sum(r["seconds"] for r in report["train"].values())
    cpu_total = sum(r["cpu_seconds"] for r in report["train"].values())
    report["train_seconds_total"] = round(train_total, 1)
    report["train_cpu_seconds_total"] = round(cpu_total, 1)
    print(
        f"training jobs: {train_total:.1f} s in total, {cpu_total:.1f} s CPU (demand with --trials {args.trials}); "
        f"fetching {report['fetch_seconds']} s; predictions "
        + ", ".join(
            f"{p['job'].split()[0].split('.')[-2]}.{p['job'].split()[0].split('.')[-1]} {p['seconds']} s"
            for p in report["predict"]
        )
    )
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(out.suffix + ".tmp")
        tmp.write_text(json.dumps(report, indent=2))
        os.replace(tmp, out)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
