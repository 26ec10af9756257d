"""The RL agent: Fitted Q Iteration (batch RL) with tree ensembles over masked discrete actions.

Why this and not PPO: the seed used RecurrentPPO (sb3-contrib), which needs torch (~2.5 GB of CUDA wheels
from PyPI; hundreds of MB even CPU-only). FQI needs only scikit-learn, already installed for the forecasters; it
learns from a fixed batch of transitions (no simulator in the loop while fitting), is deterministic for a
seed, and trains in well under a minute on one core. See docs/battery.md.

Algorithm (Ernst, Geurts & Wehenkel 2005): Q_0 = 0; Q_k(s, a) = regress r + gamma * max_{a' allowed in s'}
Q_{k-1}(s', a') on all transitions, one Extra-Trees regressor per action (averaging trees keep FQI from
diverging, which boosting does not guarantee; "hgb" is kept as an option). Data come from episodes of the
battery environment on the training range with a behaviour policy mixing random allowed actions and a
price-rank heuristic (charge in the day's cheap hours, discharge in its dear ones, self-consume otherwise);
a second round adds episodes from the first round's greedy policy with some exploration, then refits on all
data starting from the first round's Q.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from jobs.battery import physics
from jobs.battery.config import BatteryConfig
from jobs.battery.env import ACTIONS, FEATURE_NAMES, IDLE_ACTION, SELF_ACTION, BatteryEnv, action_mask
from jobs.common.forecast_settings import train_threads

RANK_INDEX = FEATURE_NAMES.index("buy_rank_24")


@dataclass
class FQIAgent:
    models: list  # one regressor per action (None: never seen, Q = 0)
    gamma: float
    feature_names: tuple = FEATURE_NAMES
    actions: tuple = tuple(a for a, _ in ACTIONS)
    meta: dict = field(default_factory=dict)
    models_b: list | None = None  # the twin ensemble of clipped double FQI, fitted on the other half
    # Safe policy improvement: leave self-consumption only when the learned advantage exceeds this (EUR);
    # chosen on validation days by jobs.rl.train (inf = the agent always self-consumes).
    margin: float = 0.0

    @staticmethod
    def _predict(models: list, obs: np.ndarray) -> np.ndarray:
        q = np.zeros((obs.shape[0], len(models)))
        for a, m in enumerate(models):
            if m is not None:
                q[:, a] = m.predict(obs)
        return q

    def q_pair(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        obs = np.atleast_2d(np.asarray(obs, dtype=np.float32))
        qa = self._predict(self.models, obs)
        return qa, (self._predict(self.models_b, obs) if self.models_b is not None else qa)

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        qa, qb = self.q_pair(obs)
        return 0.5 * (qa + qb)

    def act(self, obs: np.ndarray, mask: np.ndarray) -> int:
        if self.margin == float("inf"):
            return SELF_ACTION
        q = self.q_values(obs)[0]
        q = np.where(mask, q, -np.inf)
        a = int(np.argmax(q))
        if a != SELF_ACTION and q[a] - q[SELF_ACTION] < self.margin:
            return SELF_ACTION
        return a


def heuristic_action(obs: np.ndarray, mask: np.ndarray) -> int:
    rank = obs[RANK_INDEX]
    if rank < 0.25 and mask[-1]:
        return len(ACTIONS) - 1
    if rank > 0.75 and mask[0]:
        return 0
    return SELF_ACTION


@dataclass
class Batch:
    s: list = field(default_factory=list)
    a: list = field(default_factory=list)
    r: list = field(default_factory=list)
    s2: list = field(default_factory=list)
    m2: list = field(default_factory=list)

    def arrays(self):
        return (np.asarray(self.s, dtype=np.float32), np.asarray(self.a, dtype=np.int64),
                np.asarray(self.r, dtype=np.float64), np.asarray(self.s2, dtype=np.float32),
                np.asarray(self.m2, dtype=bool))

    def __len__(self):
        return len(self.a)


def _masks(cfg: BatteryConfig, energy: np.ndarray) -> np.ndarray:
    return np.stack([action_mask(cfg, e) for e in energy]) if len(energy) else np.zeros((0, len(ACTIONS)), bool)


def collect(env: BatteryEnv, steps: int, rng: np.random.Generator, agent: FQIAgent | None = None,
            epsilon: float = 0.2, batch: Batch | None = None, parallel: int = 64) -> Batch:
    """Transitions from episodes on `env`'s range: heuristic+random behaviour, or the agent with epsilon.

    Runs `parallel` episodes side by side through `physics.step_many` (the same rules as `env.step`, which
    the tests check) so the agent's Q-values are computed for a whole batch at once.
    """
    batch = batch or Batch()
    cfg, sc, static = env.cfg, env.sc, env.static
    levels = np.array([0.0 if lvl is None else lvl for _, lvl in ACTIONS])
    self_mask = np.array([lvl is None for _, lvl in ACTIONS])
    power = np.where(levels > 0, levels * cfg.charge_kw, levels * cfg.discharge_kw)
    target = len(batch) + steps
    L = env.episode_hours
    span = max(0, env.last - env.first - L)
    while len(batch) < target:
        n = int(min(parallel, max(1, np.ceil((target - len(batch)) / L))))
        t = env.first + rng.integers(0, span + 1, size=n)
        energy = rng.uniform(cfg.e_min, cfg.e_max, size=n)
        eps = rng.uniform(0.3, 1.0, size=n) if agent is None else np.full(n, epsilon)
        for _ in range(L):
            if len(batch) >= target:
                break
            obs = np.column_stack([(energy - cfg.e_min) / (cfg.e_max - cfg.e_min), static[t]]).astype(np.float32)
            mask = _masks(cfg, energy)
            if agent is None:
                greedy = np.array([heuristic_action(o, m) for o, m in zip(obs, mask)])
            else:
                greedy = np.where(mask, agent.q_values(obs), -np.inf).argmax(axis=1)
            rand = np.array([rng.choice(np.flatnonzero(m)) for m in mask])
            a = np.where(rng.uniform(size=n) < eps, rand, greedy)
            c, d, imp, exp, e2, cost, cost_nb = physics.step_many(
                cfg, energy, power[a], self_mask[a], sc.load[t], sc.pv[t], sc.buy[t], sc.sell[t])
            t2 = np.minimum(t + 1, len(sc) - 1)
            obs2 = np.column_stack([(e2 - cfg.e_min) / (cfg.e_max - cfg.e_min), static[t2]]).astype(np.float32)
            batch.s.extend(obs)
            batch.a.extend(a.tolist())
            batch.r.extend((cost_nb - cost).tolist())
            batch.s2.extend(obs2)
            batch.m2.extend(_masks(cfg, e2))
            energy, t = e2, t + 1
            # An episode that reaches the end of the range stops there.
            keep = t < env.last
            if not keep.all():
                energy, t, eps = energy[keep], t[keep], eps[keep]
                n = len(t)
                if n == 0:
                    break
    if len(batch) > target:
        for lst in (batch.s, batch.a, batch.r, batch.s2, batch.m2):
            del lst[target:]
    return batch


def _regressor(seed: int, max_iter: int, kind: str = "extra_trees"):
    if kind == "extra_trees":
        return ExtraTreesRegressor(n_estimators=max_iter, min_samples_leaf=10, max_features=0.7, n_jobs=1,
                                   random_state=seed)
    return HistGradientBoostingRegressor(max_iter=max_iter, learning_rate=0.15, max_leaf_nodes=31,
                                         min_samples_leaf=20, l2_regularization=1e-3, early_stopping=False,
                                         random_state=seed)


def _fit_set(s, a, y, n_actions, seed, max_iter, kind) -> list:
    models = []
    for act in range(n_actions):
        sel = a == act
        if sel.sum() < 20:
            models.append(None)
            continue
        models.append(_regressor(seed + act, max_iter, kind).fit(s[sel], y[sel]))
    return models


def fit_q(batch: Batch, gamma: float, iterations: int, seed: int = 0, max_iter: int = 25,
          init: FQIAgent | None = None, progress_cb=None, kind: str = "extra_trees") -> FQIAgent:
    """Clipped double FQI: two ensembles on two halves of the data; the target's next-state value is the
    smaller of their estimates for the action their mean prefers. Plain FQI's max over noisy estimates
    overvalues actions that keep options open (idling with a full battery), and the bias compounds over
    iterations; the minimum of two independent fits cancels most of it."""
    s, a, r, s2, m2 = batch.arrays()
    n_actions = len(ACTIONS)
    half = np.random.default_rng(seed).uniform(size=len(a)) < 0.5
    agent = init or FQIAgent([None] * n_actions, gamma)
    for k in range(iterations):
        if any(m is not None for m in agent.models):
            qa, qb = agent.q_pair(s2)
            best = np.where(m2, qa + qb, -np.inf).argmax(axis=1)
            rows = np.arange(len(best))
            q_next = np.minimum(qa[rows, best], qb[rows, best])
        else:
            q_next = np.zeros(len(s2))
        y = r + gamma * q_next
        models_a = _fit_set(s[half], a[half], y[half], n_actions, seed, max_iter, kind)
        models_b = _fit_set(s[~half], a[~half], y[~half], n_actions, seed + 100, max_iter, kind)
        agent = FQIAgent(models_a, gamma, models_b=models_b)
        if progress_cb is not None:
            progress_cb(k + 1, iterations)
    return agent


def train(
    env: BatteryEnv,
    total_timesteps: int,
    iterations: int = 24,
    gamma: float = 0.97,
    seed: int = 0,
    max_iter: int = 25,
    progress_cb=None,
    kind: str = "extra_trees",
) -> FQIAgent:
    """Collect `total_timesteps` transitions in two rounds and fit Q on them.

    OpenMP threads are capped (HEA_TRAIN_THREADS, default 1): on a shared 2-core machine, tree fitting with
    one thread per core next to other jobs spins instead of working and runs many times slower.
    """
    with threadpool_limits(limits=train_threads()):
        return _train(env, total_timesteps, iterations, gamma, seed, max_iter, progress_cb, kind)


def _train(env, total_timesteps, iterations, gamma, seed, max_iter, progress_cb, kind) -> FQIAgent:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    first = max(1, int(total_timesteps * 0.6))
    batch = collect(env, first, rng)

    def cb(stage_lo, stage_hi):
        if progress_cb is None:
            return None
        return lambda k, n: progress_cb(stage_lo + (stage_hi - stage_lo) * k / n)

    agent = fit_q(batch, gamma, iterations, seed, max_iter, progress_cb=cb(0.0, 0.5), kind=kind)
    rest = total_timesteps - first
    if rest > 0:
        collect(env, rest, rng, agent=agent, epsilon=0.2, batch=batch)
        # A few iterations on top of the first round's Q are enough: it is already a good starting point.
        agent = fit_q(batch, gamma, max(1, iterations // 3), seed, max_iter, init=agent, progress_cb=cb(0.5, 1.0),
                      kind=kind)
    s, a, r, _, _ = batch.arrays()
    agent.meta = {
        "transitions": len(batch),
        "iterations": iterations,
        "gamma": gamma,
        "seconds": time.perf_counter() - t0,
        "action_counts": {ACTIONS[i][0]: int((a == i).sum()) for i in range(len(ACTIONS))},
        "mean_reward": float(r.mean()) if len(r) else 0.0,
    }
    return agent


__all__ = ["FQIAgent", "train", "collect", "fit_q", "heuristic_action", "IDLE_ACTION"]
