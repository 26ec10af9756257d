"""Battery controllers: each decides, hour by hour, from what it could know at that hour.

A controller's `decide(t, energy_kwh)` returns a battery power in kW (positive charges) or None for
self-consumption (follow the actual net load within the hour). The physics in `physics.step` projects the
request onto the limits and prices the hour, for every controller alike.

- `NoBattery`: idle; the reference cost.
- `RuleBased`: self-consumption: store PV surplus, cover load from the battery, never trade with the grid.
- `MPC`: every hour, solve the MILP over the forecast horizon from the current state, apply the first hour,
  replan next hour. When the plan's first hour is pure self-consumption (no grid exchange planned), it
  follows the actual net load instead of the forecast's, like an inverter would.
- `AgentController`: the trained RL agent's greedy masked action on the same observation as in training.
- `Optimum` lives in `evaluate.py`: it sees the actuals, so it is not a controller but the yardstick.
"""

from __future__ import annotations

import numpy as np

from jobs.battery import optimize
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.env import action_mask, action_power, observation, static_features
from jobs.battery.scenario import Scenario


class Controller:
    name = "controller"

    def bind(self, scenario: Scenario) -> Controller:
        self.sc = scenario
        return self

    def decide(self, t: int, energy_kwh: float) -> float | None:  # pragma: no cover - interface
        raise NotImplementedError


class NoBattery(Controller):
    name = "no_battery"

    def decide(self, t, energy_kwh):
        return 0.0


class RuleBased(Controller):
    name = "rule_based"

    def decide(self, t, energy_kwh):
        return None


class MPC(Controller):
    name = "mpc"

    def __init__(self, cfg: BatteryConfig, tariff: Tariff, horizon: int | None = None):
        self.cfg = cfg
        self.tariff = tariff
        self.horizon = horizon
        self.last_plan: optimize.Plan | None = None
        self.planner = optimize.RecedingPlanner(cfg, grid_limit_kw=tariff.grid_limit_kw)

    def terminal_value(self, fc_buy: np.ndarray) -> float:
        """What a kWh left in the battery at the horizon's end is worth.

        Zero would empty the battery at every horizon's end; a high value would hoard. A kWh kept will,
        at best, displace an import later: a low-quartile import price after discharge losses and wear is a
        cautious estimate of that.
        """
        return max(0.0, float(np.quantile(fc_buy, 0.25)) * self.cfg.eta_discharge - self.cfg.wear_eur_kwh)

    def decide(self, t, energy_kwh):
        sc = self.sc
        h = sc.horizon if self.horizon is None else min(self.horizon, sc.horizon)
        buy, sell, load, pv = sc.fc_buy[t, :h], sc.fc_sell[t, :h], sc.fc_load[t, :h], sc.fc_pv[t, :h]
        plan = self.planner.solve(
            buy, sell, load, pv, e0=energy_kwh, terminal_min=self.cfg.e_min, terminal_value=self.terminal_value(buy)
        )
        self.last_plan = plan
        tol = 1e-6
        if plan.grid_import_kwh[0] <= tol and plan.grid_export_kwh[0] <= tol:
            return None
        return float(plan.battery_kw[0])


class AgentController(Controller):
    name = "rl_agent"

    def __init__(self, agent, cfg: BatteryConfig):
        self.agent = agent
        self.cfg = cfg

    def bind(self, scenario):
        super().bind(scenario)
        self.static = static_features(scenario)
        return self

    def decide(self, t, energy_kwh):
        obs = observation(self.static, t, energy_kwh, self.cfg)
        a = self.agent.act(obs, action_mask(self.cfg, energy_kwh))
        return action_power(a, self.cfg)
