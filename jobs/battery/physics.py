"""One hour of a home battery: the single place where energy flows and costs are computed.

The environment, every controller's evaluation and the production plan all go through `step`, so the
optimum, the rule, MPC and the agent are scored by the same physics. A controller asks for a battery power
(positive charges, negative discharges) or for self-consumption (None: follow the home's actual net load,
as an inverter in self-consumption mode does); the request is projected onto the power and SoC limits.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jobs.battery.config import BatteryConfig
from jobs.battery.tariff import hour_cost


class StepResult(NamedTuple):
    charge_kw: float
    discharge_kw: float
    grid_import_kwh: float
    grid_export_kwh: float
    energy_kwh: float  # stored energy after the step
    cost_eur: float  # energy cost + wear
    wear_eur: float
    cost_no_battery_eur: float


def step(
    cfg: BatteryConfig,
    energy_kwh: float,
    power_kw: float | None,
    load_kwh: float,
    pv_kwh: float,
    buy: float,
    sell: float,
    dt: float = 1.0,
) -> StepResult:
    net = load_kwh - pv_kwh
    wanted = -net / dt if power_kw is None else float(power_kw)
    charge = discharge = 0.0
    if wanted > 0:
        room = max(0.0, cfg.e_max - energy_kwh) / (cfg.eta_charge * dt)
        charge = min(wanted, cfg.charge_kw, room)
    elif wanted < 0:
        avail = max(0.0, energy_kwh - cfg.e_min) * cfg.eta_discharge / dt
        discharge = min(-wanted, cfg.discharge_kw, avail)
    energy_next = energy_kwh + dt * (cfg.eta_charge * charge - discharge / cfg.eta_discharge)
    grid = net + dt * (charge - discharge)
    imp, exp = max(grid, 0.0), max(-grid, 0.0)
    wear = cfg.wear_eur_kwh * dt * (charge + discharge)
    cost = buy * imp - sell * exp + wear
    return StepResult(charge, discharge, imp, exp, energy_next, cost, wear, hour_cost(net, buy, sell))


def step_many(cfg: BatteryConfig, energy_kwh, power_kw, self_consume, load_kwh, pv_kwh, buy, sell, dt: float = 1.0):
    """`step` for arrays of independent batteries (the agent's data collection); same rules, same results.

    `self_consume` (bool array) marks entries that follow the net load; `power_kw` is ignored there.
    Returns (charge_kw, discharge_kw, import_kwh, export_kwh, energy_next, cost, cost_no_battery).
    """
    energy = np.asarray(energy_kwh, dtype=float)
    net = np.asarray(load_kwh, dtype=float) - np.asarray(pv_kwh, dtype=float)
    wanted = np.where(self_consume, -net / dt, np.asarray(power_kw, dtype=float))
    room = np.maximum(0.0, cfg.e_max - energy) / (cfg.eta_charge * dt)
    avail = np.maximum(0.0, energy - cfg.e_min) * cfg.eta_discharge / dt
    charge = np.where(wanted > 0, np.minimum(np.minimum(wanted, cfg.charge_kw), room), 0.0)
    discharge = np.where(wanted < 0, np.minimum(np.minimum(-wanted, cfg.discharge_kw), avail), 0.0)
    energy_next = energy + dt * (cfg.eta_charge * charge - discharge / cfg.eta_discharge)
    grid = net + dt * (charge - discharge)
    imp, exp = np.maximum(grid, 0.0), np.maximum(-grid, 0.0)
    cost = buy * imp - sell * exp + cfg.wear_eur_kwh * dt * (charge + discharge)
    cost_nb = np.where(net >= 0, buy * net, sell * net)
    return charge, discharge, imp, exp, energy_next, cost, cost_nb
