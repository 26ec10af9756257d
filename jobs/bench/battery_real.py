"""The battery controllers judged on real prices and real homes (npm run bench:battery:real).

    python -m jobs.bench.battery_real [--data-dir DIR] [--out FILE] [--windows 8] [--zones Z,..]
                                      [--households H,..] [--workers CORES] [--no-agent]

Each household (load, and PV where there is one) is paired with each price zone by day of year and weekday
(jobs/battery/realdata.py), under the configured battery and tariff (HEA_BATTERY_*, HEA_* tariff variables).
Per pair, 1 + N four-week windows spread over the zone's last year: the first is the selection window (what
rl_train's evaluation sees: it picks the controller production runs, by `choose_best`), the other N are held
out and scored. On every window, from the same starting SoC:

- optimum: the MILP on the actual prices, load and PV (perfect foresight): the yardstick;
- no_battery; rule_based (self-consumption);
- mpc_naive: MPC re-planned every hour on naive forecasts (published prices, else the last known day; load
  the 7-day same-hour mean; PV the 3-day same-hour mean);
- mpc: the production MPC on the production forecasters' daily issues (jobs/battery/forecast_issues.py),
  re-planned every hour; before ~13:00 local, tomorrow's prices are the forecast's;
- mpc_quantile: item 6 of issue 10, MPC planning on a low load quantile (see `QuantileMPC`);
- rl_agent: behaviour cloning on the optimum's actions, then rollout policy iteration (jobs/battery/imitation.py),
  trained per pair on the hours outside its fold's windows (two folds: windows alternate).

What does not change is computed once: the expert's labels once per pair for both folds (each keeps the
hours outside its windows), the price forecasts once per zone, and the load forecasts once per household and
local calendar (zones whose windows fall on the same local hours share them, through a cache directory the
worker processes share).

FILE is a JSON array with one object per (dataset, controller): prices, household, controller, production
(true on what the selection window's evaluation would run), windows (per window: start, savings, optimum
savings, share), share_of_optimum, savings_eur, optimum_savings_eur, savings_eur_per_month; and the pooled
rows (prices = household = "pooled"), where controller "production" is what production ran on each pair.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from jobs.battery import forecast_issues as fi
from jobs.battery import realdata as rd
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.controllers import MPC, AgentController, NoBattery, RuleBased
from jobs.battery.evaluate import evaluate
from jobs.battery.scenario import DEFAULT_HORIZON, _price_known_end, build_scenario
from jobs.battery.tariff import per_month
from jobs.common.protocol import UsageError, parser, progress, run_main
from jobs.common.settings import REPO_ROOT

WINDOW_DAYS = 28
WARMUP_DAYS = 56  # the forecasters need some history before the first window
CONTROLLERS = ("optimum", "no_battery", "rule_based", "mpc_naive", "mpc", "mpc_quantile", "rl_agent")
MARGIN = 0.01  # as HEA_RL_AGENT_MARGIN
# Hours labelled by the expert per pair, shared by the two folds: each keeps the ~80% outside its windows,
# about imitation.MAX_HOURS, as rl_train samples.
AGENT_POOL_HOURS = 7500


class MPCOn(MPC):
    """MPC reading its forecasts from another scenario (same hours, other forecasts)."""

    def __init__(self, cfg, tariff, forecasts, name):
        super().__init__(cfg, tariff)
        self.forecasts = forecasts
        self.name = name

    def bind(self, scenario):
        self.sc = self.forecasts
        return self


def window_starts(index: pd.DatetimeIndex, n: int, tz: str) -> list[int]:
    """n + 1 window starts (local midnights) spread over the last year, after a warm-up."""
    end = index[-1] + pd.Timedelta(hours=1)
    first = max(index[0] + pd.Timedelta(days=WARMUP_DAYS), end - pd.Timedelta(days=365))
    last = end - pd.Timedelta(days=WINDOW_DAYS + 1)
    if last <= first:
        raise UsageError(f"{(end - index[0]).days} days of prices: too short for a {WINDOW_DAYS}-day window")
    raw = [first + (last - first) * k / n for k in range(n + 1)]
    starts = [(r.tz_convert(tz).normalize() + pd.DateOffset(days=1)).tz_convert("UTC") for r in raw]
    return [int(index.searchsorted(s)) for s in starts]


def load_forecasts(load: pd.Series, hours: pd.DatetimeIndex, tz: str, horizon: int, cache_dir: str | None):
    """`fi.window_forecasts` for the load, cached on disk by everything it reads.

    A household laid onto two zones' calendars has the same load on the same local hours (the pairing goes
    by local date), so zones with the same windows and clock changes share the forecasts: the key is the
    load the fits read (a year before the window to its end), its UTC hours and their local wall-clock times.
    """
    if cache_dir is None:
        return fi.window_forecasts(load, hours, "load", tz, horizon)
    lo, hi = hours[0] - pd.Timedelta(days=fi.FIT_DAYS + 1), hours[-1] + pd.Timedelta(hours=horizon + 1)
    used = load[(load.index >= lo) & (load.index <= hi)]
    key = hashlib.sha256()
    for part in (
        used.to_numpy(dtype=float),
        used.index.as_unit("ns").asi8,
        used.index.tz_convert(tz).tz_localize(None).as_unit("ns").asi8,
        hours.as_unit("ns").asi8,
        np.array([horizon]),
    ):
        key.update(np.ascontiguousarray(part).tobytes())
    path = Path(cache_dir) / f"load-{key.hexdigest()[:32]}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    out = fi.window_forecasts(load, hours, "load", tz, horizon)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(pickle.dumps(out))
    tmp.replace(path)  # atomic: a worker reading at the same time sees all of it or nothing
    return out


def production_forecasts(sc, frame, starts, tz, horizon, tariff, price_cache: dict, cache_dir: str | None = None):
    """A copy of the naive scenario whose window hours carry the production forecasters' issues."""
    fc_buy, fc_sell, fc_load = sc.fc_buy.copy(), sc.fc_sell.copy(), sc.fc_load.copy()
    known_end = _price_known_end(sc.index, tz)
    n = len(sc.index)
    ns = sc.index.as_unit("ns").asi8
    known_ns = np.where(known_end < n, ns[np.minimum(known_end, n - 1)], np.iinfo(np.int64).max)
    scores = []
    for s in starts:
        hours = sc.index[s : s + WINDOW_DAYS * 24]
        sl = slice(s, s + len(hours))
        if hours[0] not in price_cache:  # the zone's prices are the same for every household
            price_cache[hours[0]] = fi.window_forecasts(frame["spot"], hours, "price", tz, horizon, known_ns[sl])
        p, p_scores = price_cache[hours[0]]
        ld, l_scores = load_forecasts(frame["load"], hours, tz, horizon, cache_dir)
        fc_buy[sl], fc_sell[sl], fc_load[sl] = tariff.buy(p), tariff.sell(p), np.clip(ld, 0, None)
        scores.append({"price": p_scores, "load": l_scores})
    return replace(sc, fc_buy=fc_buy, fc_sell=fc_sell, fc_load=fc_load, forecast_kind="production"), scores


def run_zone(task) -> list[dict]:
    zone, houses, data_dir, n_windows, with_agent, cache_dir = task
    cache: dict = {}
    with threadpool_limits(limits=1):
        return [
            row for h in houses for row in _run_pair(zone, h, Path(data_dir), n_windows, with_agent, cache, cache_dir)
        ]


def _run_pair(zone, house_name, data_dir, n_windows, with_agent, price_cache, cache_dir=None) -> list[dict]:
    from jobs.battery import imitation
    from jobs.battery.quantile import QuantileMPC

    t0 = time.perf_counter()
    cfg, tariff = BatteryConfig.from_env(), Tariff.from_env()
    prices = rd.load_prices(data_dir)[zone]
    house = rd.load_households(data_dir)[house_name]
    tz = rd.zone_tz(zone)
    starts_full = window_starts(prices.index, n_windows, tz)
    lo = max(0, starts_full[0] - 400 * 24)
    spot = prices.iloc[lo:]
    frame = rd.pair(house, spot.index, tz)
    frame.insert(0, "spot", spot.to_numpy())
    starts = [s - lo for s in starts_full]
    sc = build_scenario(frame, tariff, horizon=DEFAULT_HORIZON, forecasts="naive", tz=tz)
    ours, fc_scores = production_forecasts(sc, frame, starts, tz, DEFAULT_HORIZON, tariff, price_cache, cache_dir)
    t_fc = time.perf_counter() - t0
    agents = {}
    if with_agent:
        # The expert's labels once for both folds: each fold keeps those outside its own windows.
        rng = np.random.default_rng(0)
        hours = imitation.training_hours(sc, None)
        pool_hours = np.sort(rng.choice(hours, size=min(AGENT_POOL_HOURS, len(hours)), replace=False))
        pool = imitation.expert_dataset(sc, cfg, tariff, pool_hours, rng)
        for fold in (0, 1):
            excluded = [(s - 48, s + WINDOW_DAYS * 24 + 48) for i, s in enumerate(starts) if i % 2 == fold]
            agents[fold] = imitation.train(sc, cfg, tariff, excluded, seed=fold, pool=pool)
    per = {c: [] for c in CONTROLLERS}
    for i, s in enumerate(starts):
        e = s + WINDOW_DAYS * 24
        ctrls = [
            NoBattery(),
            RuleBased(),
            MPCOn(cfg, tariff, sc, "mpc_naive"),
            MPCOn(cfg, tariff, ours, "mpc"),
            QuantileMPC(cfg, tariff, ours, name="mpc_quantile"),
        ]
        if with_agent:
            ctrls.append(AgentController(agents[i % 2], cfg))
        ev = evaluate(sc, cfg, tariff, ctrls, start=s, end=e)
        for name, v in ev["controllers"].items():
            per[name].append(
                {
                    "start": ev["start"].isoformat(),
                    "savings_eur": v["savings_eur"],
                    "optimum_savings_eur": ev["optimum_savings_eur"],
                    "cost_no_battery_eur": ev["cost_no_battery_eur"],
                    "share": v["share_of_optimum"],
                    "throughput_kwh": v["throughput_kwh"],
                }
            )
    sel_shares = {name: w[0]["share"] for name, w in per.items() if w}
    production, why = choose(sel_shares)
    rows = []
    for name, wins in per.items():
        if not wins:
            continue
        held = wins[1:]
        sav = sum(w["savings_eur"] for w in held)
        opt = sum(w["optimum_savings_eur"] for w in held)
        hours = 24 * WINDOW_DAYS * len(held)
        rows.append(
            {
                "prices": zone,
                "household": house_name,
                "controller": name,
                "production": name == production,
                "windows": held,
                "share_of_optimum": sav / opt if opt > 1e-9 else None,
                "savings_eur": sav,
                "optimum_savings_eur": opt,
                "savings_eur_per_month": per_month(sav, hours),
                "selection_window": wins[0],
                **({"why": why} if name == production else {}),
            }
        )
    rows[0]["seconds"] = {"total": time.perf_counter() - t0, "forecasts": t_fc}
    rows[0]["forecast_mae"] = fc_scores
    return rows


class _Inline:
    """One worker: run in this process (a profiler or a debugger sees the work)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    map = staticmethod(map)


def choose(shares: dict) -> tuple[str, str]:
    """What rl_train's evaluation would pick from the selection window (jobs/rl/train.py choose_best)."""
    from jobs.rl.train import choose_best

    return choose_best(
        {"rule_based": shares.get("rule_based"), "mpc": shares.get("mpc"), "rl_agent": shares.get("rl_agent")}, MARGIN
    )


def pooled(rows: list[dict]) -> list[dict]:
    out = []
    names = list(dict.fromkeys(r["controller"] for r in rows)) + ["production"]
    for name in names:
        sel = [r for r in rows if (r["production"] if name == "production" else r["controller"] == name)]
        sav = sum(r["savings_eur"] for r in sel)
        opt = sum(r["optimum_savings_eur"] for r in sel)
        n_win = sum(len(r["windows"]) for r in sel)
        out.append(
            {
                "prices": "pooled",
                "household": "pooled",
                "controller": name,
                "production": name == "production",
                "windows": n_win,
                "datasets": len(sel),
                "share_of_optimum": sav / opt if opt > 1e-9 else None,
                "savings_eur": sav,
                "optimum_savings_eur": opt,
                "savings_eur_per_month": per_month(sav, 24 * WINDOW_DAYS * n_win) if n_win else None,
            }
        )
    return out


def build_parser():
    p = parser("Battery controllers on real prices and real households, against the optimum.")
    p.add_argument("--data-dir", default=str(REPO_ROOT.parent / "shared" / "data" / "real"))
    p.add_argument("--out", default=None, help="JSON file for the results (default: only the result line)")
    p.add_argument("--windows", type=int, default=8, help="held-out four-week windows per pair (>= 1)")
    p.add_argument("--zones", default=None, help="comma-separated price zones (default all)")
    p.add_argument("--households", default=None, help="comma-separated households (default all)")
    p.add_argument(
        "--workers", type=int, default=None, help="zones run in parallel processes (default: the number of cores)"
    )
    p.add_argument("--no-agent", action="store_true", help="skip training the agent")
    return p


def main(args) -> dict:
    t0 = time.perf_counter()
    data_dir = Path(args.data_dir)
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if args.windows < 1 or workers < 1:
        raise UsageError("--windows and --workers must be positive")
    zones = sorted(rd.load_prices(data_dir))
    houses = sorted(rd.load_households(data_dir))
    if args.zones:
        zones = [z for z in zones if z in args.zones.split(",")]
    if args.households:
        houses = [h for h in houses if h in args.households.split(",")]
    if not zones or not houses:
        raise UsageError("no price zone or household left after the filters")
    cache = tempfile.TemporaryDirectory(prefix="hea-bench-battery-")
    # Zones that share load forecasts (the same windows) are spread apart, so one computes what the next reads.
    zones = sorted(zones, key=lambda z: (zones.index(z) % 2, z)) if workers > 1 else zones
    tasks = [(z, houses, str(data_dir), args.windows, not args.no_agent, cache.name) for z in zones]
    rows: list[dict] = []
    progress(
        1, "pairs", f"{len(zones)} zones x {len(houses)} households x {args.windows + 1} windows, {workers} workers"
    )
    with cache, ProcessPoolExecutor(max_workers=workers) if workers > 1 else _Inline() as pool:
        for k, res in enumerate(pool.map(run_zone, tasks)):
            rows += res
            progress(
                100 * (k + 1) / len(tasks),
                "pairs",
                f"{res[0]['prices']}: {len(houses)} households "
                f"in {sum(r['seconds']['total'] for r in res if 'seconds' in r):.0f} s",
            )
    all_rows = rows + pooled(rows)
    if args.out:
        Path(args.out).write_text(json.dumps(all_rows, indent=1, default=str))
    summary = {
        r["controller"]: round(r["share_of_optimum"], 3) if r["share_of_optimum"] is not None else None
        for r in all_rows
        if r["prices"] == "pooled"
    }
    return {
        "pooled_share_of_optimum": summary,
        "pooled_savings_eur_per_month": {
            r["controller"]: round(r["savings_eur_per_month"], 2)
            for r in all_rows
            if r["prices"] == "pooled" and r["savings_eur_per_month"] is not None
        },
        "production": {f"{r['prices']}/{r['household']}": r["controller"] for r in rows if r["production"]},
        "pairs": len(zones) * len(houses),
        "windows_per_pair": args.windows,
        "workers": workers,
        "out": args.out,
        "seconds": round(time.perf_counter() - t0, 1),
    }


if __name__ == "__main__":
    run_main(main, build_parser())
