"""The battery schedule as a mixed-integer linear program (scipy.optimize.milp, HiGHS).

Per step t (length dt hours): import g+ and export g- in [0, G], charge c in [0, Pch], discharge
d in [0, Pdis], stored energy E in [Emin, Emax]:

    g+ - g- = load - pv + c - d                   (energy balance, kWh / dt)
    E[t+1] = E[t] + dt (eta_c c - d / eta_d)
    c <= Pch b,  d <= Pdis (1 - b)                (b binary: never charge and discharge at once)
    g+ <= G z,   g- <= G (1 - z)                  (z binary: never import and export at once)
    E[T] >= terminal_min
    min  sum dt (p_buy g+ - p_sell g- + wear (c + d))  -  terminal_value E[T]

Without the binaries the LP relaxation "wins" by charging and discharging at once when prices are negative
(burning energy in losses is paid for) and by importing and exporting at once when export pays more than
import (unbounded but for G); EMHASS issue 111 is that bug. With forecasts this is the MPC's planner; with
the actuals it is the perfect-foresight optimum that the other controllers are measured against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from jobs.battery.config import BatteryConfig
from jobs.common.protocol import JobError

N_VARS = 7  # per step: c, d, g+, g-, E, b, z


class SolverError(JobError):
    exit_code = 70  # the model is well-formed by construction: a failure here is a bug or a solver problem


@dataclass
class Plan:
    charge_kw: np.ndarray
    discharge_kw: np.ndarray
    grid_import_kwh: np.ndarray
    grid_export_kwh: np.ndarray
    energy_kwh: np.ndarray  # after each step
    cost_eur: float  # objective without the terminal value: energy cost + wear
    status: str

    @property
    def battery_kw(self) -> np.ndarray:
        return self.charge_kw - self.discharge_kw


def solve(
    cfg: BatteryConfig,
    buy: np.ndarray,
    sell: np.ndarray,
    load: np.ndarray,
    pv: np.ndarray,
    e0: float,
    terminal_min: float | None = None,
    terminal_value: float = 0.0,
    dt: float = 1.0,
    grid_limit_kw: float = 17.0,
    integral: bool = True,
    time_limit: float = 60.0,
    lp_first: bool = True,
) -> Plan:
    """Optimal schedule over len(buy) steps from stored energy e0 (kWh)."""
    buy, sell, load, pv = (np.asarray(a, dtype=float) for a in (buy, sell, load, pv))
    T = len(buy)
    if not (len(sell) == len(load) == len(pv) == T) or T == 0:
        raise ValueError("buy, sell, load and pv must have the same non-zero length")
    net = load - pv
    # The fuse must not make the problem infeasible: the home's load is not optional.
    G = max(grid_limit_kw, float(np.max(np.abs(net))) / dt + max(cfg.charge_kw, cfg.discharge_kw)) + 1.0
    e0 = float(min(max(e0, cfg.e_min), cfg.e_max))
    term = e0 if terminal_min is None else float(min(max(terminal_min, cfg.e_min), cfg.e_max))

    def col(k: int) -> np.ndarray:
        return np.arange(T) * N_VARS + k

    C, D, GI, GE, E, B, Z = range(N_VARS)
    n = T * N_VARS
    cost = np.zeros(n)
    cost[col(C)] = dt * cfg.wear_eur_kwh
    cost[col(D)] = dt * cfg.wear_eur_kwh
    cost[col(GI)] = dt * buy
    cost[col(GE)] = -dt * sell
    cost[col(E)[-1]] -= terminal_value

    lo = np.zeros(n)
    hi = np.zeros(n)
    hi[col(C)] = cfg.charge_kw
    hi[col(D)] = cfg.discharge_kw
    hi[col(GI)] = G
    hi[col(GE)] = G
    lo[col(E)] = cfg.e_min
    hi[col(E)] = cfg.e_max
    hi[col(B)] = 1
    hi[col(Z)] = 1
    lo[col(E)[-1]] = max(cfg.e_min, term)

    rows, cols, vals = [], [], []
    lb, ub = [], []
    r = 0

    def add(entries, low, high):
        nonlocal r
        for c_, v in entries:
            rows.append(r)
            cols.append(c_)
            vals.append(v)
        lb.append(low)
        ub.append(high)
        r += 1

    for t in range(T):
        base = t * N_VARS
        # balance: g+ - g- - c + d = net / dt
        add([(base + GI, 1), (base + GE, -1), (base + C, -1), (base + D, 1)], net[t] / dt, net[t] / dt)
        # energy: E_t - E_{t-1} - dt eta_c c + dt d / eta_d = 0
        entries = [(base + E, 1), (base + C, -dt * cfg.eta_charge), (base + D, dt / cfg.eta_discharge)]
        if t == 0:
            add(entries, e0, e0)
        else:
            add(entries + [(base - N_VARS + E, -1)], 0, 0)
        add([(base + C, 1), (base + B, -cfg.charge_kw)], -np.inf, 0)
        add([(base + D, 1), (base + B, cfg.discharge_kw)], -np.inf, cfg.discharge_kw)
        add([(base + GI, 1), (base + Z, -G)], -np.inf, 0)
        add([(base + GE, 1), (base + Z, G)], -np.inf, G)

    A = sparse.csr_array((vals, (rows, cols)), shape=(r, n))
    constraints = LinearConstraint(A, lb, ub)
    bounds = Bounds(lo, hi)
    options = {"time_limit": time_limit, "mip_rel_gap": 1e-6, "disp": False}
    # The LP relaxation is several times faster; when its optimum already never charges and discharges (or
    # imports and exports) at once, setting the binaries to match makes it MILP-feasible with the same cost,
    # so it is the MILP's optimum too. Only relaxations that cheat need branch and bound.
    res, how = None, "lp"
    if lp_first or not integral:
        res = milp(cost, constraints=constraints, integrality=np.zeros(n), bounds=bounds, options=options)
    if integral and (res is None or res.x is None or _cheats(res.x.reshape(T, N_VARS), C, D, GI, GE)):
        integrality = np.zeros(n)
        integrality[col(B)] = 1
        integrality[col(Z)] = 1
        res = milp(cost, constraints=constraints, integrality=integrality, bounds=bounds, options=options)
        how = "milp"
    if res.x is None:
        raise SolverError(f"battery MILP over {T} steps failed: {res.message} (status {res.status})")
    x = res.x.reshape(T, N_VARS)
    c, d = np.clip(x[:, C], 0, None), np.clip(x[:, D], 0, None)
    gi, ge = np.clip(x[:, GI], 0, None), np.clip(x[:, GE], 0, None)
    energy = x[:, E]
    realised = float(np.sum(dt * (buy * gi - sell * ge + cfg.wear_eur_kwh * (c + d))))
    status = f"optimal ({how})" if res.status == 0 else f"{res.message} ({how})"
    return Plan(c, d, gi * dt, ge * dt, energy, realised, status)


def _cheats(x: np.ndarray, C: int, D: int, GI: int, GE: int, tol: float = 1e-7) -> bool:
    both_battery = np.minimum(x[:, C], x[:, D]) > tol
    both_grid = np.minimum(x[:, GI], x[:, GE]) > tol
    return bool(both_battery.any() or both_grid.any())


class RecedingPlanner:
    """The MPC's planner: the same schedule as `solve`, fast enough to re-plan every hour for years of hours.

    Without the binaries the problem is a small LP (c, d, g+, g-, E per step; balance and storage rows) whose
    matrix only depends on the horizon length and the efficiencies, so it is built once per length and kept in
    a HiGHS instance (highspy); each re-plan changes only the costs, the bounds and the right-hand sides, and
    the simplex starts from the previous basis. About 0.5 ms for 36 steps against ~7 ms through
    scipy.optimize.milp. When the relaxation cheats (charges and discharges, or imports and exports, at once:
    negative prices or export dearer than import) the plan comes from `solve`'s MILP, so the result is the
    MILP's optimum either way (a test checks it against `solve`).
    """

    def __init__(self, cfg: BatteryConfig, grid_limit_kw: float = 17.0, dt: float = 1.0):
        self.cfg, self.grid_limit_kw, self.dt = cfg, grid_limit_kw, dt
        self._models: dict[int, object] = {}
        self.milp_fallbacks = 0

    def _model(self, T: int):
        if T in self._models:
            return self._models[T]
        import highspy

        cfg, dt = self.cfg, self.dt
        rows, cols, vals = [], [], []
        for t in range(T):
            b = 5 * t  # c, d, g+, g-, E
            rows += [2 * t] * 4
            cols += [b + 2, b + 3, b, b + 1]
            vals += [1.0, -1.0, -1.0, 1.0]
            rows += [2 * t + 1] * 3
            cols += [b + 4, b, b + 1]
            vals += [1.0, -dt * cfg.eta_charge, dt / cfg.eta_discharge]
            if t > 0:
                rows.append(2 * t + 1)
                cols.append(b - 1)
                vals.append(-1.0)
        A = sparse.csc_array(sparse.csr_array((vals, (rows, cols)), shape=(2 * T, 5 * T)))
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = 5 * T, 2 * T
        lp.col_cost_ = np.zeros(5 * T)
        lp.col_lower_ = np.zeros(5 * T)
        lp.col_upper_ = np.ones(5 * T)
        lp.row_lower_ = np.zeros(2 * T)
        lp.row_upper_ = np.zeros(2 * T)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr
        lp.a_matrix_.index_ = A.indices
        lp.a_matrix_.value_ = A.data
        h.passModel(lp)
        model = (h, np.arange(5 * T, dtype=np.int32), np.arange(2 * T, dtype=np.int32), highspy.HighsModelStatus)
        self._models[T] = model
        return model

    def solve(
        self, buy, sell, load, pv, e0: float, terminal_min: float | None = None, terminal_value: float = 0.0
    ) -> Plan:
        cfg, dt = self.cfg, self.dt
        buy, sell, load, pv = (np.asarray(a, dtype=float) for a in (buy, sell, load, pv))
        T = len(buy)
        net = load - pv
        G = max(self.grid_limit_kw, float(np.max(np.abs(net))) / dt + max(cfg.charge_kw, cfg.discharge_kw)) + 1.0
        e0 = float(min(max(e0, cfg.e_min), cfg.e_max))
        term = e0 if terminal_min is None else float(min(max(terminal_min, cfg.e_min), cfg.e_max))
        h, cidx, ridx, status = self._model(T)
        cost = np.empty(5 * T)
        cost[0::5] = dt * cfg.wear_eur_kwh
        cost[1::5] = dt * cfg.wear_eur_kwh
        cost[2::5] = dt * buy
        cost[3::5] = -dt * sell
        cost[4::5] = 0.0
        cost[-1] -= terminal_value
        lo = np.zeros(5 * T)
        hi = np.empty(5 * T)
        hi[0::5], hi[1::5], hi[2::5], hi[3::5] = cfg.charge_kw, cfg.discharge_kw, G, G
        lo[4::5], hi[4::5] = cfg.e_min, cfg.e_max
        lo[-1] = max(cfg.e_min, term)
        rhs = np.zeros(2 * T)
        rhs[0::2] = net / dt
        rhs[1] = e0
        h.changeColsCost(5 * T, cidx, cost)
        h.changeColsBounds(5 * T, cidx, lo, hi)
        h.changeRowsBounds(2 * T, ridx, rhs, rhs)
        h.run()

        def fallback() -> Plan:
            # the warm-started LP gave no clean answer: the cold solve (LP, then the MILP if needed) decides
            self.milp_fallbacks += 1
            return solve(
                cfg,
                buy,
                sell,
                load,
                pv,
                e0,
                terminal_min=terminal_min,
                terminal_value=terminal_value,
                dt=dt,
                grid_limit_kw=self.grid_limit_kw,
            )

        if h.getModelStatus() != status.kOptimal:
            return fallback()
        x = np.asarray(h.getSolution().col_value).reshape(T, 5)
        c, d = np.clip(x[:, 0], 0, None), np.clip(x[:, 1], 0, None)
        gi, ge = np.clip(x[:, 2], 0, None), np.clip(x[:, 3], 0, None)
        tol = 1e-7
        if (np.minimum(c, d) > tol).any() or (np.minimum(gi, ge) > tol).any():
            return fallback()
        realised = float(np.sum(dt * (buy * gi - sell * ge + cfg.wear_eur_kwh * (c + d))))
        return Plan(c, d, gi * dt, ge * dt, x[:, 4], realised, "optimal (lp, warm)")
