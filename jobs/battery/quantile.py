"""MPC on load scenarios (issue 10 item 6): plan on several load quantiles, apply the consensus first hour.

The production load forecast is a median (its XGBoost minimises absolute error). Its uncertainty is read
from the spread of the last 7 same-hour values already observed: the scenarios are the forecast shifted by
that spread's q-quantile minus its mean, for q in `QUANTILES`. Each scenario gets its own plan (the warm LP,
~0.5 ms each); the hour's action is the median of the plans' first-hour battery powers, or self-consumption
when most plans exchange nothing with the grid in that hour.
"""

from __future__ import annotations

import numpy as np

from jobs.battery.controllers import MPC

QUANTILES = (0.2, 0.5, 0.8)


class QuantileMPC(MPC):
    name = "mpc_quantile"

    def __init__(self, cfg, tariff, forecasts=None, quantiles=QUANTILES, name: str | None = None):
        super().__init__(cfg, tariff)
        self.forecasts = forecasts
        self.quantiles = quantiles
        if name:
            self.name = name

    def bind(self, scenario):
        self.actual = scenario
        self.sc = self.forecasts if self.forecasts is not None else scenario
        return self

    def _spread(self, t: int, h: int) -> np.ndarray:
        """(len(quantiles), h): quantile minus mean of the 7 last observed same-hour loads, per step."""
        load = self.actual.load
        steps = np.arange(h)
        k0 = np.ceil((steps + 1) / 24.0).astype(int)
        src = t + steps[:, None] - 24 * (k0[:, None] + np.arange(7)[None, :])
        vals = np.where(src >= 0, load[np.clip(src, 0, len(load) - 1)], np.nan)
        if np.isnan(vals).any():  # the first week: no spread yet
            return np.zeros((len(self.quantiles), h))
        return np.quantile(vals, self.quantiles, axis=1) - vals.mean(axis=1)[None, :]

    def decide(self, t, energy_kwh):
        sc = self.sc
        h = sc.horizon
        buy, sell, pv = sc.fc_buy[t, :h], sc.fc_sell[t, :h], sc.fc_pv[t, :h]
        tv = self.terminal_value(buy)
        powers, self_consume = [], 0
        for dev in self._spread(t, h):
            load = np.clip(sc.fc_load[t, :h] + dev, 0, None)
            plan = self.planner.solve(
                buy, sell, load, pv, e0=energy_kwh, terminal_min=self.cfg.e_min, terminal_value=tv
            )
            powers.append(float(plan.battery_kw[0]))
            self_consume += plan.grid_import_kwh[0] <= 1e-6 and plan.grid_export_kwh[0] <= 1e-6
        if 2 * self_consume > len(powers):
            return None
        return float(np.median(powers))
