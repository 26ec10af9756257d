"""The smoke test run before training: fail in seconds, with a clear message, if the environment is broken.

It steps the environment with random allowed actions and checks what every later number relies on:
finite observations and rewards, the energy balance (import - export = load - PV + charge - discharge),
the storage equation, the SoC limits and the power limits. Bad input data is a DataError (exit 65, fix the
data); a broken invariant with good data is a SoftwareError (exit 70, fix the code). Then it clones the
optimum on a few hours of the environment (jobs/battery/imitation.py), so a training that would crash at the
end crashes now.
"""

from __future__ import annotations

import time

import numpy as np

from jobs.battery import imitation
from jobs.battery.config import Tariff
from jobs.battery.env import BatteryEnv, static_features
from jobs.common.protocol import EX_SOFTWARE, DataError, JobError

SMOKE_FIT_HOURS = 48
TOL = 1e-6


class EnvironmentBroken(JobError):
    exit_code = EX_SOFTWARE


def check(env: BatteryEnv, steps: int, seed: int = 0, fit: bool = True, tariff: Tariff | None = None) -> dict:
    t0 = time.perf_counter()
    sc = env.sc
    for name in ("spot", "load", "pv", "buy", "sell", "fc_buy", "fc_sell", "fc_load", "fc_pv"):
        arr = getattr(sc, name)
        bad = int((~np.isfinite(arr)).sum())
        if bad:
            raise DataError(f"sanity check: scenario '{name}' has {bad} non-finite values")
    cfg = env.cfg
    tariff = tariff or Tariff()
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    worst = {"balance": 0.0, "storage": 0.0}
    total_reward = 0.0
    for i in range(steps):
        if not np.all(np.isfinite(obs)):
            raise EnvironmentBroken(f"sanity check: observation at step {i} is not finite: {obs.tolist()}")
        mask = info["action_mask"]
        if not mask.any():
            raise EnvironmentBroken(f"sanity check: no allowed action at step {i} (SoC {env.energy:.3f} kWh)")
        a = int(rng.choice(np.flatnonzero(mask)))
        obs, reward, terminated, truncated, info = env.step(a)
        if not np.isfinite(reward):
            raise EnvironmentBroken(f"sanity check: reward at step {i} is {reward}")
        total_reward += reward
        worst["balance"] = max(worst["balance"], abs(info["balance_error"]))
        worst["storage"] = max(worst["storage"], abs(info["storage_error"]))
        if abs(info["balance_error"]) > TOL:
            raise EnvironmentBroken(
                f"sanity check: energy balance violated at step {i} (error {info['balance_error']:.3g} kWh)"
            )
        if abs(info["storage_error"]) > TOL:
            raise EnvironmentBroken(
                f"sanity check: storage equation violated at step {i} (error {info['storage_error']:.3g} kWh)"
            )
        if not cfg.e_min - TOL <= env.energy <= cfg.e_max + TOL:
            raise EnvironmentBroken(
                f"sanity check: stored energy {env.energy:.4f} kWh left [{cfg.e_min}, {cfg.e_max}] at step {i}"
            )
        if info["charge_kw"] > cfg.charge_kw + TOL or info["discharge_kw"] > cfg.discharge_kw + TOL:
            raise EnvironmentBroken(f"sanity check: power limit exceeded at step {i}")
        if info["charge_kw"] > TOL and info["discharge_kw"] > TOL:
            raise EnvironmentBroken(f"sanity check: charging and discharging at once at step {i}")
        if terminated or truncated:
            obs, info = env.reset()
    out = {
        "steps": steps,
        "max_balance_error": worst["balance"],
        "max_storage_error": worst["storage"],
        "mean_reward": total_reward / max(steps, 1),
    }
    if fit and steps >= 2:
        out.update(_smoke_fit(env, steps, tariff, rng, seed))
    out["seconds"] = time.perf_counter() - t0
    return out


def _smoke_fit(env: BatteryEnv, steps: int, tariff: Tariff, rng, seed: int) -> dict:
    """The expert's labels on a couple of days (two random SoCs each) and a fit on them, whatever the number
    of smoke steps asked for: enough that the classifier sees several actions."""
    sc, cfg = env.sc, env.cfg
    last = min(env.last, len(sc) - imitation.HORIZON + 1)
    hours = np.arange(env.first, min(last, env.first + max(steps, SMOKE_FIT_HOURS)))
    if len(hours) < 2:
        return {"smoke_fit": False}
    t, e, y = imitation.expert_dataset(sc, cfg, tariff, hours, rng)
    if len(np.unique(y)) < 2:  # one action everywhere leaves nothing to classify
        return {"smoke_fit": False, "smoke_fit_states": int(len(t))}
    features = static_features(sc)
    agent = imitation.fit_clone(features, t, e, y, cfg, seed)
    p = agent.probabilities(imitation._obs(features, t[:8], e[:8], cfg))
    if not np.all(np.isfinite(p)):
        raise EnvironmentBroken("sanity check: the smoke training produced non-finite probabilities")
    return {"smoke_fit": True, "smoke_fit_states": int(len(t))}
