"""Score controllers against the perfect-foresight optimum on the same hours.

savings = cost without battery - cost with it (wear included); share = savings / optimum's savings.

Energy left in the battery at the end is worth something, and controllers end at different levels. Every
controller and the optimum are credited p_ref per kWh above the starting level and charged p_ref per kWh
below it, p_ref being the period's mean import price after discharge losses (what a stored kWh displaces
later). The optimum's MILP carries the same terminal value and must also end at least where it started
(E[T] >= E[0]), so draining the battery in the last hours is priced, not free. Because of that constraint a
controller that ends below its start can, in rare cases, edge past the optimum by a hair; over a 14-day
holdout the end-of-period valuation is worth a few percent of the optimum's savings (docs/battery.md).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from jobs.battery import optimize, physics
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.controllers import Controller
from jobs.battery.scenario import Scenario

TRAJECTORY_COLUMNS = (
    "battery_kw",
    "charge_kw",
    "discharge_kw",
    "soc",
    "energy_kwh",
    "grid_import_kwh",
    "grid_export_kwh",
    "price_buy",
    "price_sell",
    "load_kwh",
    "pv_kwh",
    "cost_eur",
    "cost_no_battery_eur",
)


def run(
    controller: Controller,
    sc: Scenario,
    cfg: BatteryConfig,
    start: int = 0,
    end: int | None = None,
    e0: float | None = None,
    on_step=None,
) -> pd.DataFrame:
    """Roll a controller over hours [start, end) of the scenario's actuals; one row per hour."""
    end = len(sc) if end is None else end
    energy = cfg.e_initial if e0 is None else float(e0)
    controller.bind(sc)
    rows = []
    for t in range(start, end):
        power = controller.decide(t, energy)
        res = physics.step(cfg, energy, power, sc.load[t], sc.pv[t], sc.buy[t], sc.sell[t])
        energy = res.energy_kwh
        rows.append(
            (
                res.charge_kw - res.discharge_kw,
                res.charge_kw,
                res.discharge_kw,
                energy / cfg.capacity_kwh,
                energy,
                res.grid_import_kwh,
                res.grid_export_kwh,
                sc.buy[t],
                sc.sell[t],
                sc.load[t],
                sc.pv[t],
                res.cost_eur,
                res.cost_no_battery_eur,
            )
        )
        if on_step is not None:
            on_step(t - start + 1, end - start)
    return pd.DataFrame(rows, columns=list(TRAJECTORY_COLUMNS), index=sc.index[start:end])


def plan_frame(plan: optimize.Plan, sc: Scenario, cfg: BatteryConfig, start: int, end: int) -> pd.DataFrame:
    """The optimum's schedule in the same shape as a controller's trajectory."""
    buy, sell = sc.buy[start:end], sc.sell[start:end]
    load, pv = sc.load[start:end], sc.pv[start:end]
    wear = cfg.wear_eur_kwh * (plan.charge_kw + plan.discharge_kw)
    cost = buy * plan.grid_import_kwh - sell * plan.grid_export_kwh + wear
    net = load - pv
    cost_nb = np.where(net >= 0, buy * net, sell * net)
    return pd.DataFrame(
        {
            "battery_kw": plan.battery_kw,
            "charge_kw": plan.charge_kw,
            "discharge_kw": plan.discharge_kw,
            "soc": plan.energy_kwh / cfg.capacity_kwh,
            "energy_kwh": plan.energy_kwh,
            "grid_import_kwh": plan.grid_import_kwh,
            "grid_export_kwh": plan.grid_export_kwh,
            "price_buy": buy,
            "price_sell": sell,
            "load_kwh": load,
            "pv_kwh": pv,
            "cost_eur": cost,
            "cost_no_battery_eur": cost_nb,
        },
        index=sc.index[start:end],
    )


def summarize(traj: pd.DataFrame, e0: float, p_credit: float, p_debit: float) -> dict:
    final = float(traj["energy_kwh"].iloc[-1])
    raw = float(traj["cost_eur"].sum())
    delta = final - e0
    return {
        "cost_eur": raw - (p_credit * delta if delta >= 0 else p_debit * delta),
        "raw_cost_eur": raw,
        "throughput_kwh": float((traj["charge_kw"] + traj["discharge_kw"]).sum()),
        "wear_eur": None,  # filled by the caller, which knows the wear rate
        "final_soc": final,
    }


def evaluate(
    sc: Scenario,
    cfg: BatteryConfig,
    tariff: Tariff,
    controllers: list[Controller],
    start: int = 0,
    end: int | None = None,
    e0: float | None = None,
    progress_cb=None,
) -> dict:
    """Each controller's cost, savings and share of the optimum's savings over hours [start, end)."""
    end = len(sc) if end is None else end
    if end - start < 1:
        raise ValueError("empty evaluation period")
    e0 = cfg.e_initial if e0 is None else float(e0)
    mean_buy = float(np.mean(sc.buy[start:end]))
    p_ref = p_debit = mean_buy * cfg.eta_discharge
    t0 = time.perf_counter()
    plan = optimize.solve(
        cfg,
        sc.buy[start:end],
        sc.sell[start:end],
        sc.load[start:end],
        sc.pv[start:end],
        e0=e0,
        terminal_min=e0,
        terminal_value=p_ref,
        grid_limit_kw=tariff.grid_limit_kw,
        time_limit=120.0,
    )
    trajectories = {"optimum": plan_frame(plan, sc, cfg, start, end)}
    seconds = {"optimum": time.perf_counter() - t0}
    for i, ctrl in enumerate(controllers):
        t0 = time.perf_counter()
        cb = None
        if progress_cb is not None:

            def cb(k, n, i=i, name=ctrl.name):
                progress_cb(name, (i + k / n) / len(controllers))

        trajectories[ctrl.name] = run(ctrl, sc, cfg, start, end, e0, on_step=cb)
        seconds[ctrl.name] = time.perf_counter() - t0

    cost_nb = float(trajectories["optimum"]["cost_no_battery_eur"].sum())
    out: dict = {
        "hours": end - start,
        "start": sc.index[start],
        "end": sc.index[end - 1] + pd.Timedelta(hours=1),
        "cost_no_battery_eur": cost_nb,
        "terminal_value_eur_kwh": p_ref,
        "controllers": {},
    }
    opt_savings = None
    for name, traj in trajectories.items():
        s = summarize(traj, e0, p_ref, p_debit)
        s["wear_eur"] = cfg.wear_eur_kwh * s["throughput_kwh"]
        s["savings_eur"] = cost_nb - s["cost_eur"]
        s["seconds"] = seconds[name]
        if name == "optimum":
            opt_savings = s["savings_eur"]
        out["controllers"][name] = s
    for s in out["controllers"].values():
        s["share_of_optimum"] = s["savings_eur"] / opt_savings if opt_savings and opt_savings > 1e-9 else None
    out["optimum_savings_eur"] = opt_savings
    out["trajectories"] = trajectories
    return out
