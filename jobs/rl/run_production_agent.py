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

Starting state of charge (`soc_source` in every row and in the result): `measured` from the configured SoC
source (jobs/battery/soc.py: env, file, HTTP/JSON or MQTT); else, when there is none or it fails, `last_plan`
(the previous plan's SoC at this hour, and the failure is named); else `initial` (HEA_BATTERY_SOC_INITIAL).
The control loop runs this job after every price publication and every hour (src/workflows/batteryReplan.ts):
a receding-horizon plan from the next full hour to the end of tomorrow.

The plan (store.write_plan) has one row per hour: action (charge | discharge | idle), power_kw (+ charges),
energy_kwh (into the battery in the hour), soc_kwh and soc_pct (at the hour's end), price_buy_eur_kwh and
price_sell_eur_kwh (jobs/battery/tariff.py), cost_eur (with the battery, wear included), cost_no_battery_eur,
why, soc_source, mode ("setpoint" or "self_consumption"), and the physics: battery_kw, charge_kw,
discharge_kw, soc (fraction), grid_import_kwh, grid_export_kwh, price_buy, price_sell, load_kwh, pv_kwh.
"""

from __future__ import annotations

import time

import pandas as pd
from threadpoolctl import threadpool_limits

from jobs.battery import data as bdata
from jobs.battery import soc
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.controllers import MPC, AgentController, Controller, RuleBased
from jobs.battery.evaluate import plan_frame, run
from jobs.battery.scenario import build_scenario
from jobs.common import registry, timeutil
from jobs.common.forecast_settings import train_threads
from jobs.common.protocol import parser, progress, run_main
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
    p.add_argument(
        "--controller",
        choices=("auto", "rule_based", "mpc", "rl_agent"),
        default="auto",
        help="override the evaluated choice (default: auto)",
    )
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


def _stored_energy(plan: pd.DataFrame) -> pd.Series:
    """Stored energy after each hour: `soc_kwh`, or `energy_kwh` in plans written before it existed."""
    if "soc_kwh" in plan.columns:
        return plan["soc_kwh"]
    return plan["energy_kwh"]


def starting_energy(store, cfg: BatteryConfig, now: pd.Timestamp, start: pd.Timestamp) -> tuple[float, str, str]:
    """Stored energy at `start` (kWh), the source's kind (measured | last_plan | initial) and its detail.

    A measurement taken before `start` is carried forward with the previous plan's power for the rest of the
    current hour (a re-plan at :50 would otherwise start ten minutes of charging behind).
    """
    reading = soc.read_soc(cfg.capacity_kwh)
    prev = store.read_plan()
    failed = f"; {reading.source} source failed: {reading.error}" if reading.error else ""
    if reading.ok:
        energy = reading.fraction * cfg.capacity_kwh
        detail = reading.detail
        hour = now.floor("h")
        if not prev.empty and hour in prev.index and start > now and {"charge_kw", "discharge_kw"} <= set(prev.columns):
            left = (start - now) / pd.Timedelta(hours=1)
            row = prev.loc[hour]
            energy += left * (float(row["charge_kw"]) * cfg.eta_charge - float(row["discharge_kw"]) / cfg.eta_discharge)
            detail += f", carried {left * 60:.0f} min forward on the previous plan"
        return min(max(energy, cfg.e_min), cfg.e_max), "measured", detail
    if not prev.empty and ("soc_kwh" in prev.columns or "energy_kwh" in prev.columns):
        stored = _stored_energy(prev)
        before = stored[stored.index < start]
        if not before.empty and before.index[-1] == start - pd.Timedelta(hours=1):
            e = float(before.iloc[-1])  # energy after the hour that ends at `start`
            issued = timeutil.iso(prev.attrs.get("issued_at"))
            return min(max(e, cfg.e_min), cfg.e_max), "last_plan", f"previous plan issued {issued}{failed}"
    return cfg.e_initial, "initial", f"HEA_BATTERY_SOC_INITIAL (no plan covers {timeutil.iso(start)}){failed}"


IDLE_KW = 1e-3


def _action(battery_kw: float) -> str:
    return "charge" if battery_kw > IDLE_KW else "discharge" if battery_kw < -IDLE_KW else "idle"


def explain(plan: pd.DataFrame, cfg: BatteryConfig) -> list[str]:
    """Why each hour does what it does, in words a person can check against the prices in the row."""
    buy, sell = plan["price_buy"].to_numpy(), plan["price_sell"].to_numpy()
    reasons = []
    for i, row in enumerate(plan.itertuples()):
        later_buy = buy[i + 1 :].max() if i + 1 < len(buy) else buy[i]
        later_sell = sell[i + 1 :].max() if i + 1 < len(sell) else sell[i]
        surplus = row.pv_kwh - row.load_kwh
        rule = "self-consumption rule: " if row.mode == "self_consumption" else ""
        if row.action == "charge":
            if surplus > IDLE_KW and row.grid_import_kwh <= IDLE_KW:
                why = f"stores surplus solar instead of exporting it at {row.price_sell:.3f} EUR/kWh"
            else:
                why = (
                    f"charges at {row.price_buy:.3f} EUR/kWh for later hours that cost up to {later_buy:.3f} "
                    f"to buy (or pay up to {later_sell:.3f} to sell)"
                )
        elif row.action == "discharge":
            if row.grid_export_kwh > IDLE_KW and surplus <= 0:
                why = f"sells stored energy at {row.price_sell:.3f} EUR/kWh, a price peak"
            else:
                why = f"covers the home's load instead of importing at {row.price_buy:.3f} EUR/kWh"
        else:
            soc_kwh = row.soc_kwh
            if soc_kwh >= cfg.e_max - 1e-6:
                why = "idle: the battery is full"
            elif soc_kwh <= cfg.e_min + 1e-6 and surplus <= 0:
                why = "idle: the battery is at its minimum state of charge"
            else:
                why = (
                    f"idle: the spread to later hours does not pay the round-trip losses "
                    f"({cfg.efficiency:.0%}) and wear ({cfg.wear_eur_kwh:.3f} EUR/kWh cycled)"
                )
        reasons.append(rule + why)
    return reasons


def hourly_columns(plan: pd.DataFrame, cfg: BatteryConfig, soc_source: str) -> pd.DataFrame:
    """The plan's columns for the home (TEAM.md's `plans` layout) beside the physics ones.

    `energy_kwh` is the energy into (+) or out of (-) the battery in the hour; `soc_kwh` the stored energy at
    the hour's end.
    """
    out = plan.rename(columns={"energy_kwh": "soc_kwh"}).copy()
    out["action"] = [_action(p) for p in out["battery_kw"]]
    out["power_kw"] = out["battery_kw"]
    out["energy_kwh"] = out["battery_kw"] * 1.0  # one-hour intervals
    out["soc_pct"] = 100.0 * out["soc_kwh"] / cfg.capacity_kwh
    out["price_buy_eur_kwh"] = out["price_buy"]
    out["price_sell_eur_kwh"] = out["price_sell"]
    out["why"] = explain(out, cfg)
    out["soc_source"] = soc_source
    return out


def main(args) -> dict:
    # BLAS/OpenMP threads (HEA_TRAIN_THREADS, default 1): see jobs/battery/imitation.py one_openmp_thread.
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
        energy0, soc_source, soc_detail = starting_energy(store, cfg, now, start)
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
        plan = hourly_columns(plan, cfg, soc_source)
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
        "soc_source": soc_source,
        "soc_source_detail": soc_detail,
        "soc_end": round(float(plan["soc_kwh"].iloc[-1]) / cfg.capacity_kwh, 4),
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
