"""A home battery as a gymnasium environment (hourly steps, discrete actions with masks).

Observation (float32): the state of charge and the hour, then multi-horizon summaries of the forecasts
issued at that hour (price now and its rank in the next 24 h, mean/min/max prices over 1-6, 7-12, 13-24 and
25-36 h, expected load, PV and surplus). Multi-horizon forecasts are what lets an agent time arbitrage; a
bare "price now" does not.

Actions: discharge at full or half power, self-consumption (follow the actual net load), idle, charge at half
or full power. `action_masks()` forbids charging when full and discharging when empty, so a learned policy
cannot sit at a limit "acting" without effect; the physics projects any request onto the limits anyway.

Reward: the hour's saving against no battery (cost without battery minus cost with it, wear included). It
differs from minus the cost by a term no action can change, so the optimal policy is the same, but the
household's uncontrollable bill no longer drowns the signal.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from jobs.battery import physics
from jobs.battery.config import BatteryConfig
from jobs.battery.scenario import Scenario

ACTIONS: tuple[tuple[str, float | None], ...] = (
    ("discharge_full", -1.0),
    ("discharge_half", -0.5),
    ("self_consumption", None),
    ("idle", 0.0),
    ("charge_half", 0.5),
    ("charge_full", 1.0),
)
SELF_ACTION = 2
IDLE_ACTION = 3

FEATURE_NAMES = (
    "soc",
    "hour_sin",
    "hour_cos",
    "buy_now",
    "sell_now",
    "net_now",
    "buy_rank_24",
    "buy_minus_mean_24",
    "buy_mean_1_6",
    "buy_mean_7_12",
    "buy_mean_13_24",
    "buy_mean_25_36",
    "buy_min_1_24",
    "buy_max_1_24",
    "sell_max_1_24",
    "load_sum_0_6",
    "load_sum_6_24",
    "pv_sum_0_6",
    "pv_sum_6_24",
    "surplus_sum_0_24",
)


def action_power(action: int, cfg: BatteryConfig) -> float | None:
    level = ACTIONS[int(action)][1]
    if level is None:
        return None
    return level * (cfg.charge_kw if level > 0 else cfg.discharge_kw)


def action_mask(cfg: BatteryConfig, energy_kwh: float) -> np.ndarray:
    tol = 1e-6 * cfg.capacity_kwh
    mask = np.ones(len(ACTIONS), dtype=bool)
    for i, (_, level) in enumerate(ACTIONS):
        if level is not None and level > 0 and energy_kwh >= cfg.e_max - tol:
            mask[i] = False
        if level is not None and level < 0 and energy_kwh <= cfg.e_min + tol:
            mask[i] = False
    return mask


def _window(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    hi = min(hi, a.shape[1])
    lo = min(lo, hi - 1)
    return a[:, lo:hi]


def static_features(sc: Scenario) -> np.ndarray:
    """The part of the observation that does not depend on the battery (T, n_features - 1)."""
    b, s, ld, pv = sc.fc_buy, sc.fc_sell, sc.fc_load, sc.fc_pv
    ang = 2 * np.pi * sc.local_hour / 24.0
    b24 = _window(b, 0, 24)
    cols = [
        np.sin(ang),
        np.cos(ang),
        sc.buy,
        sc.sell,
        ld[:, 0] - pv[:, 0],
        (b24 < sc.buy[:, None]).mean(axis=1),
        sc.buy - b24.mean(axis=1),
        _window(b, 1, 7).mean(axis=1),
        _window(b, 7, 13).mean(axis=1),
        _window(b, 13, 25).mean(axis=1),
        _window(b, 25, 37).mean(axis=1),
        _window(b, 1, 25).min(axis=1),
        _window(b, 1, 25).max(axis=1),
        _window(s, 1, 25).max(axis=1),
        _window(ld, 0, 6).sum(axis=1),
        _window(ld, 6, 24).sum(axis=1),
        _window(pv, 0, 6).sum(axis=1),
        _window(pv, 6, 24).sum(axis=1),
        np.clip(_window(pv, 0, 24) - _window(ld, 0, 24), 0, None).sum(axis=1),
    ]
    return np.column_stack(cols).astype(np.float32)


def observation(static: np.ndarray, t: int, energy_kwh: float, cfg: BatteryConfig) -> np.ndarray:
    soc = (energy_kwh - cfg.e_min) / max(cfg.e_max - cfg.e_min, 1e-9)
    return np.concatenate([[np.float32(soc)], static[t]]).astype(np.float32)


class BatteryEnv(gym.Env):
    """Episodes of `episode_hours` within [first, last) of a scenario's hours."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        scenario: Scenario,
        cfg: BatteryConfig,
        episode_hours: int = 168,
        first: int = 0,
        last: int | None = None,
        random_start: bool = True,
        random_soc: bool = True,
    ):
        super().__init__()
        self.sc = scenario
        self.cfg = cfg
        self.first = first
        self.last = len(scenario) if last is None else min(last, len(scenario))
        if self.last - self.first < 1:
            raise ValueError("empty environment range")
        self.episode_hours = min(episode_hours, self.last - self.first)
        self.random_start = random_start
        self.random_soc = random_soc
        self.static = static_features(scenario)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(len(FEATURE_NAMES),), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(len(ACTIONS))
        self.t = self.first
        self.end = self.first
        self.energy = cfg.e_initial

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        options = options or {}
        span = self.last - self.first - self.episode_hours
        if "start" in options:
            self.t = int(options["start"])
        elif self.random_start and span > 0:
            self.t = self.first + int(self.np_random.integers(0, span + 1))
        else:
            self.t = self.first
        self.end = min(self.t + self.episode_hours, self.last)
        if "energy_kwh" in options:
            self.energy = float(options["energy_kwh"])
        elif self.random_soc:
            self.energy = float(self.np_random.uniform(self.cfg.e_min, self.cfg.e_max))
        else:
            self.energy = self.cfg.e_initial
        return self._obs(), {"t": self.t, "action_mask": self.action_masks()}

    def _obs(self) -> np.ndarray:
        return observation(self.static, min(self.t, len(self.sc) - 1), self.energy, self.cfg)

    def action_masks(self) -> np.ndarray:
        return action_mask(self.cfg, self.energy)

    def step(self, action):
        if not self.action_space.contains(int(action)):
            raise ValueError(f"invalid action {action!r}")
        t, sc = self.t, self.sc
        before = self.energy
        res = physics.step(
            self.cfg, before, action_power(action, self.cfg), sc.load[t], sc.pv[t], sc.buy[t], sc.sell[t]
        )
        self.energy = res.energy_kwh
        self.t += 1
        reward = res.cost_no_battery_eur - res.cost_eur
        info = {
            "t": t,
            "cost": res.cost_eur,
            "cost_no_battery": res.cost_no_battery_eur,
            "charge_kw": res.charge_kw,
            "discharge_kw": res.discharge_kw,
            "grid_import_kwh": res.grid_import_kwh,
            "grid_export_kwh": res.grid_export_kwh,
            # Both must be ~0 in a healthy environment; the sanity check asserts it.
            "balance_error": (res.grid_import_kwh - res.grid_export_kwh)
            - (sc.load[t] - sc.pv[t] + res.charge_kw - res.discharge_kw),
            "storage_error": (res.energy_kwh - before)
            - (self.cfg.eta_charge * res.charge_kw - res.discharge_kw / self.cfg.eta_discharge),
            "action_mask": self.action_masks(),
        }
        truncated = self.t >= self.end
        return self._obs(), float(reward), False, truncated, info
