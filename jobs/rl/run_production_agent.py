"""Write the battery's charge/discharge plan until the end of tomorrow (job rl_control).

    python -m jobs.rl.run_production_agent

Inputs, per hour from the next full hour to the end of the next local day: published day-ahead prices
(price.spot), else the latest forecast.price issue, else the last known day repeated; forecast.demand and
forecast.solar, else 7-day / 3-day same-hour averages of home.consumption / solar.production. Every
fallback is named in the result's `fallbacks`.

Controller: the one the last `rl_train` evaluation chose (registry `battery_controller`, metrics
`best_controller`): the agent only if it beat MPC and the rule there; rule-based self-consumption if no
evaluation exists yet. MPC plans with one MILP over the whole horizon (it replans every run); the rule and
the agent are rolled forward hour by hour on the forecasts.

Starting state of charge: HEA_BATTERY_SOC_NOW (fraction) when the caller knows it (a real battery's
reading); else the previous plan's SoC for the first hour; else HEA_BATTERY_SOC_INITIAL.
The plan (store.write_plan) has one row per hour: battery_kw (+ charges), charge_kw, discharge_kw,
mode ("setpoint" or "self_consumption"), soc, energy_kwh, grid_import_kwh, grid_export_kwh, price_buy,
price_sell (EUR/kWh), load_kwh, pv_kwh, cost_eur, cost_no_battery_eur.
"""

from __future__ import annotations

import time

import pandas as pd

from threadpoolctl import threadpool_limits

from jobs.battery import data as bdata
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.controllers import MPC, AgentController, Controller, RuleBased
from jobs.battery.evaluate import plan_frame, run
from jobs.battery.scenario import build_scenario
from jobs.common import registry, settings, timeutil
from jobs.common.protocol import ConfigError, parser, progress, run_main
from jobs.common.forecasting import train_threads
from jobs.common.store import Store
from jobs.rl.train import REGISTRY_NAME


class _Recording(Controller):
    """Remembers whether each hour was a power setpoint or self-consumption (the plan's `mode`)."""

    def __init__(self, inner: Controller):
        self.inner = inner
        self.name = inner.name
        self.modes: list[str] = []

    def bind(self, scenario):
        self.inner.bind(scenario)
        return self

    def decide(self, t, energy_kwh):
        power = self.inner.decide(t, energy_kwh)
        self.modes.append("self_consumption" if power is None else "setpoint")
        return power


def build_parser():
    p = parser("Write the battery plan for the rest of today and tomorrow from the latest forecasts.")
    p.add_argument("--controller", choices=("auto", "rule_based", "mpc", "rl_agent"), default="auto",
                   help="override the evaluated choice (default: auto)")
    return p


def plan_window(now: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = now.ceil("h")
    tomorrow = timeutil.local_date(now) + pd.Timedelta(days=1).to_pytimedelta()
    return start, timeutil.local_day_bounds(tomorrow)[1]


def choose_controller(store, requested: str) -> tuple[str, str, dict | None]:
    record = store.champion(REGISTRY_NAME)
    if requested != "auto":
        return requested, "requested with --controller", record
    if record is None:
        return "rule_based", "no battery evaluation yet (run rl_train): rule-based self-consumption", None
    best = (record.get("metrics") or {}).get("best_controller", "rule_based")
    shares = (record.get("metrics") or {}).get("shares", {})
    share = shares.get(best)
    share_txt = f"{share:.3f}" if isinstance(share, (int, float)) else "n/a"
    return best, f"best in evaluation {record['version']} (share of optimum {share_txt})", record


def starting_energy(store, cfg: BatteryConfig, start: pd.Timestamp) -> tuple[float, str]:
    soc_now = settings.env_str("HEA_BATTERY_SOC_NOW", "")
    if soc_now:
        try:
            soc = float(soc_now)
        except ValueError:
            raise ConfigError(f"HEA_BATTERY_SOC_NOW={soc_now!r} is not a number") from None
        if not 0 <= soc <= 1:
            raise ConfigError(f"HEA_BATTERY_SOC_NOW={soc} must be a fraction in [0, 1]")
        return min(max(soc * cfg.capacity_kwh, cfg.e_min), cfg.e_max), "HEA_BATTERY_SOC_NOW"
    prev = store.read_plan()
    if not prev.empty and "energy_kwh" in prev.columns:
        before = prev[prev.index < start]
        if not before.empty and before.index[-1] == start - pd.Timedelta(hours=1):
            e = float(before["energy_kwh"].iloc[-1])  # energy after the hour that ends at `start`
            return min(max(e, cfg.e_min), cfg.e_max), f"previous plan issued {timeutil.iso(prev.attrs.get('issued_at'))}"
    return cfg.e_initial, "HEA_BATTERY_SOC_INITIAL"


def main(args) -> dict:
    # The trees' OpenMP threads: see jobs/battery/fqi.py (HEA_TRAIN_THREADS, default 1).
    with threadpool_limits(limits=train_threads()):
        return _main(args)


def _main(args) -> dict:
    t0 = time.perf_counter()
    cfg, tariff = BatteryConfig.from_env(), Tariff.from_env()
    now = timeutil.now()
    start, end = plan_window(now)
    progress(5, "loading", f"plan {timeutil.iso(start)} .. {timeutil.iso(end)}")
    with Store.open() as store:
        frame, info = bdata.plan_inputs(store, start, end)
        name, why, record = choose_controller(store, args.controller)
        notes: list[str] = []
        agent = None
        if name == "rl_agent":
            path = (record or {}).get("path") or ((record or {}).get("metrics") or {}).get("agent_path")
            try:
                agent = registry.load_model(path)
            except Exception as err:  # a lost model file must not leave the battery without a plan
                notes.append(f"agent model at {path} could not be loaded ({err}); using MPC")
                name = "mpc"
        energy0, soc_source = starting_energy(store, cfg, start)
        progress(30, "planning", f"{name}: {why}")

        # The forecasts are this plan's "actuals": a perfect-foresight scenario over them, padded past the
        # end by repeating the last day so the agent's 36-hour observation stays defined.
        sc = build_scenario(frame, tariff, forecasts="perfect")
        n = len(sc)
        if name == "mpc":
            # One plan over the whole window: the scenario's forecasts must reach its end (the default
            # 36-hour horizon is shorter than a window that starts before noon and runs to tomorrow night).
            if sc.horizon < n:
                sc = build_scenario(frame, tariff, horizon=n, forecasts="perfect")
            mpc = MPC(cfg, tariff, horizon=n).bind(sc)
            mpc.decide(0, energy0)
            plan = plan_frame(mpc.last_plan, sc, cfg, 0, n)
            plan["mode"] = "setpoint"
        else:
            ctrl = _Recording(AgentController(agent, cfg) if name == "rl_agent" else RuleBased())
            plan = run(ctrl, sc, cfg, 0, n, energy0)
            plan["mode"] = ctrl.modes
        plan.index.name = "ts"
        progress(80, "saving", f"{len(plan)} hourly rows")
        rows = store.write_plan(now, plan, controller=name)

    cost = float(plan["cost_eur"].sum())
    cost_nb = float(plan["cost_no_battery_eur"].sum())
    return {
        "controller": name,
        "reason": why,
        "rows_written": rows,
        "start": timeutil.iso(start),
        "end": timeutil.iso(end),
        "issued_at": timeutil.iso(now),
        "soc_start": round(energy0 / cfg.capacity_kwh, 4),
        "soc_start_source": soc_source,
        "soc_end": round(float(plan["energy_kwh"].iloc[-1]) / cfg.capacity_kwh, 4),
        "charge_kwh": round(float(plan["charge_kw"].sum()), 3),
        "discharge_kwh": round(float(plan["discharge_kw"].sum()), 3),
        "expected_cost_eur": round(cost, 3),
        "expected_cost_no_battery_eur": round(cost_nb, 3),
        "expected_savings_eur": round(cost_nb - cost, 3),
        "inputs": info["sources"],
        "fallbacks": info["fallbacks"],
        "notes": notes,
        "seconds": round(time.perf_counter() - t0, 2),
    }


if __name__ == "__main__":
    run_main(main, build_parser())
