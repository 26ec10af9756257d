"""The battery agent: behaviour cloning on the optimum's actions, then rollout policy iteration (RL).

1. **Behaviour cloning.** For training hours t and states of charge e (drawn at random, so the policy also
   knows what to do from states the expert would never visit), the expert's action is the first hour of the
   perfect-foresight plan from (t, e) over the next 36 hours of actual prices, load and PV (the LP optimum,
   `optimize.RecedingPlanner`), mapped onto the agent's six actions (jobs/battery/env.py ACTIONS): an hour
   without grid exchange is self-consumption, otherwise the nearest power level. The classifier
   (scikit-learn's MLPClassifier, two hidden layers of 64) learns it from the observation the agent sees at t
   (`env.observation`: SoC plus forecast summaries made from what was known at t, never the actuals).
2. **Fine-tuning by rollout policy iteration** (classification-based approximate policy iteration, Lagoudakis
   and Parr 2003; Lazaric et al. 2010): states are collected by running the cloned policy itself on the
   training hours (its own state distribution, not the expert's); from each state every allowed action is
   tried for one hour and the cloned policy followed for the next `ROLLOUT_HOURS`, in the same physics
   (`physics.step_many`); the return (savings against no battery, stored energy valued at the mean import
   price after losses) says which action is best. Where that beats the policy's own choice by more than
   `MIN_GAIN_EUR`, the state is relabelled, and the classifier is refitted on the expert's and the improved
   labels. This is reinforcement learning on the simulated history: the policy improves on its own returns.

The agent has `act(obs, mask) -> action index` (what `controllers.AgentController` and
jobs/rl/run_production_agent.py call), `act_many(obs, masks)`, `margin` (kept for train.py's margin
selection: a positive margin sends hours where the policy is not at least that sure back to
self-consumption) and `meta`.
"""

from __future__ import annotations

import numpy as np

from jobs.battery import physics
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.env import ACTIONS, SELF_ACTION, static_features
from jobs.battery.optimize import RecedingPlanner
from jobs.battery.scenario import Scenario

HORIZON = 36
ROLLOUT_HOURS = 24
MIN_GAIN_EUR = 0.005
ROUNDS = 2
BATCH = 512
MIN_HOURS = 48
MAX_HOURS = 6000  # training hours sampled for the expert's labels (two random SoCs each)
DAGGER_STATES = 0  # states the policy visited, labelled by the expert, per round (DAgger; tried, not better: docs)
LEVELS = np.array([lvl if lvl is not None else np.nan for _, lvl in ACTIONS])


_ONE_THREAD = False


def one_openmp_thread() -> None:
    """Fit and predict on one OpenMP thread, for the rest of the process.

    BLAS and OpenMP use every core by default; on a shared 2-core machine their spinning threads made a tiny
    fit and the hourly single-row predictions many times slower (as for XGBoost: HEA_TRAIN_THREADS).
    threadpoolctl's context manager costs ~2 ms per call, too much per hour of a year-long evaluation, so
    the limit is set once and left in place (jobs are single-purpose processes).
    """
    global _ONE_THREAD
    if not _ONE_THREAD:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
        _ONE_THREAD = True


def _classifier(seed: int):
    """A small neural network on standardised features: fits in seconds, predicts one row in ~0.1 ms.

    Minibatches of BATCH rows rather than scikit-learn's 200: fewer Python-level steps per epoch (the
    per-batch indexing cost about as much as the arithmetic on 12,000-row training sets)."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(64, 64),
            alpha=1e-3,
            max_iter=300,
            batch_size=BATCH,
            early_stopping=True,
            n_iter_no_change=15,
            random_state=seed,
        ),
    )


class ImitationAgent:
    def __init__(self, clf, cfg: BatteryConfig):
        self.clf = clf
        self.cfg = cfg
        self.margin = 0.0
        self.meta: dict = {}
        self._cols = np.asarray(clf.classes_, dtype=int)

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        """The classifier's probabilities per action (0 for actions the expert never took).

        The network's forward pass in numpy: the same numbers as `clf.predict_proba` (a test checks it),
        without scikit-learn's per-call input validation, which cost more than the arithmetic in the
        rollouts and the hourly decisions (thousands of calls of a few rows).
        """
        one_openmp_thread()
        scaler, mlp = self.clf[0], self.clf[-1]
        x = (np.asarray(obs, dtype=np.float64) - scaler.mean_) / scaler.scale_
        for w, b in zip(mlp.coefs_[:-1], mlp.intercepts_[:-1]):
            x = np.maximum(x @ w + b, 0.0)
        z = x @ mlp.coefs_[-1] + mlp.intercepts_[-1]
        if z.shape[1] == 1:  # two classes: one logistic output
            q = 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
            q = np.column_stack([1.0 - q[:, 0], q[:, 0]])
        else:
            z = z - z.max(axis=1, keepdims=True)
            q = np.exp(z)
            q /= q.sum(axis=1, keepdims=True)
        p = np.zeros((len(q), len(ACTIONS)))
        p[:, self._cols] = q
        return p

    def act_many(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        p = np.where(masks, self.probabilities(obs) + 1e-9, -1.0)
        best = p.argmax(axis=1)
        if self.margin > 0:  # unsure: the rule (self-consumption)
            unsure = p[np.arange(len(p)), best] < 0.5 + self.margin
            best = np.where(unsure & masks[:, SELF_ACTION], SELF_ACTION, best)
        return best

    def act(self, obs, mask) -> int:
        return int(self.act_many(np.asarray(obs)[None, :], np.asarray(mask)[None, :])[0])


def _soc_feature(cfg: BatteryConfig, energy: np.ndarray) -> np.ndarray:
    return (energy - cfg.e_min) / max(cfg.e_max - cfg.e_min, 1e-9)


def _obs(static: np.ndarray, t: np.ndarray, energy: np.ndarray, cfg: BatteryConfig) -> np.ndarray:
    return np.column_stack([_soc_feature(cfg, energy), static[t]]).astype(np.float32)


_CHARGES = np.nan_to_num(LEVELS) > 0
_DISCHARGES = np.nan_to_num(LEVELS) < 0


def _masks(cfg: BatteryConfig, energy: np.ndarray) -> np.ndarray:
    """`env.action_mask` for many states at once (a test checks they agree)."""
    tol = 1e-6 * cfg.capacity_kwh
    energy = np.asarray(energy, dtype=float)[:, None]
    return ~((_CHARGES[None, :] & (energy >= cfg.e_max - tol)) | (_DISCHARGES[None, :] & (energy <= cfg.e_min + tol)))


def label_from_plan(cfg: BatteryConfig, plan) -> int:
    """The agent's action closest to the plan's first hour."""
    if plan.grid_import_kwh[0] <= 1e-6 and plan.grid_export_kwh[0] <= 1e-6:
        return SELF_ACTION
    kw = float(plan.battery_kw[0])
    level = kw / (cfg.charge_kw if kw > 0 else cfg.discharge_kw) if kw != 0 else 0.0
    return int(np.nanargmin(np.abs(LEVELS - level)))


def expert_labels(sc: Scenario, cfg: BatteryConfig, tariff: Tariff, t_all: np.ndarray, e_all: np.ndarray) -> np.ndarray:
    """The optimum's first action from each (hour, stored energy), over the next HORIZON actual hours."""
    planner = RecedingPlanner(cfg, grid_limit_kw=tariff.grid_limit_kw)
    labels = np.empty(len(t_all), dtype=int)
    for i, (t, e) in enumerate(zip(t_all, e_all)):
        sl = slice(t, t + HORIZON)
        buy = sc.buy[sl]
        tv = max(0.0, float(np.quantile(buy, 0.25)) * cfg.eta_discharge - cfg.wear_eur_kwh)
        plan = planner.solve(buy, sc.sell[sl], sc.load[sl], sc.pv[sl], e0=e, terminal_min=cfg.e_min, terminal_value=tv)
        labels[i] = label_from_plan(cfg, plan)
    return labels


def expert_dataset(sc: Scenario, cfg: BatteryConfig, tariff: Tariff, hours: np.ndarray, rng, states_per_hour: int = 2):
    """(t, energy, label) for each training hour and random SoC: the optimum's first action from there.

    A bench trains several agents on one scenario (folds): computed once for all hours, the dataset is
    shared, and `train(pool=...)` keeps each fold's hours.
    """
    hours = hours[hours <= len(sc) - HORIZON]
    t_all = np.repeat(hours, states_per_hour)
    e_all = rng.uniform(cfg.e_min, cfg.e_max, size=len(t_all))
    return t_all, e_all, expert_labels(sc, cfg, tariff, t_all, e_all)


def fit_clone(static, t, e, labels, cfg: BatteryConfig, seed: int = 0) -> ImitationAgent:
    clf = _classifier(seed)
    # Large sets in batches of BATCH; small ones keep scikit-learn's 200 (enough gradient steps per epoch).
    clf.set_params(mlpclassifier__batch_size=min(BATCH, max(200, len(labels) // 20), len(labels)))
    clf.fit(_obs(static, t, e, cfg), labels)
    return ImitationAgent(clf, cfg)


def _powers(cfg: BatteryConfig, actions: np.ndarray):
    lv = LEVELS[actions]
    self_c = np.isnan(lv)
    lv = np.nan_to_num(lv)
    return np.where(lv > 0, lv * cfg.charge_kw, lv * cfg.discharge_kw), self_c


def rollout_returns(
    agent: ImitationAgent,
    sc: Scenario,
    static,
    cfg: BatteryConfig,
    t0: np.ndarray,
    e0: np.ndarray,
    first: np.ndarray,
    hours: int,
    p_ref: float,
) -> np.ndarray:
    """Savings over `hours` from (t0, e0): `first` action, then the agent's; stored energy valued at p_ref."""
    t, e = t0.copy(), e0.copy()
    total = np.zeros(len(t0))
    act = first
    for k in range(hours):
        power, self_c = _powers(cfg, act)
        _, _, _, _, e_next, cost, cost_nb = physics.step_many(
            cfg, e, power, self_c, sc.load[t], sc.pv[t], sc.buy[t], sc.sell[t]
        )
        total += cost_nb - cost
        e, t = e_next, t + 1
        if k + 1 < hours:
            act = agent.act_many(_obs(static, t, e, cfg), _masks(cfg, e))
    return total + p_ref * (e - e0)


def on_policy_states(agent, sc, static, cfg, hours: np.ndarray, rng, episodes: int = 48, length: int = 96):
    """States the agent itself visits: short episodes from random training hours and SoC.

    Only states at training hours are returned: an episode that runs into a held-out range must not learn
    there (its rollouts would read that range's actuals).
    """
    starts = rng.choice(hours[hours < len(sc) - length - ROLLOUT_HOURS], size=episodes)
    t = starts.copy()
    e = rng.uniform(cfg.e_min, cfg.e_max, size=episodes)
    ts, es = [], []
    for _ in range(length):
        ts.append(t.copy())
        es.append(e.copy())
        act = agent.act_many(_obs(static, t, e, cfg), _masks(cfg, e))
        power, self_c = _powers(cfg, act)
        e = physics.step_many(cfg, e, power, self_c, sc.load[t], sc.pv[t], sc.buy[t], sc.sell[t])[4]
        t = t + 1
    t_all, e_all = np.concatenate(ts), np.concatenate(es)
    keep = np.isin(t_all, hours)
    return t_all[keep], e_all[keep]


def improve(agent, sc, static, cfg, hours, rng, n_states: int = 1500, t=None, e=None):
    """One round of rollout policy iteration: (t, e, better label) where an action beats the policy's own."""
    if t is None:
        t, e = on_policy_states(agent, sc, static, cfg, hours, rng)
    keep = rng.choice(len(t), size=min(n_states, len(t)), replace=False)
    t, e = t[keep], e[keep]
    masks = _masks(cfg, e)
    own = agent.act_many(_obs(static, t, e, cfg), masks)
    p_ref = float(np.mean(sc.buy[hours])) * cfg.eta_discharge
    returns = np.full((len(t), len(ACTIONS)), -np.inf)
    for a in range(len(ACTIONS)):
        ok = masks[:, a]
        if ok.any():
            returns[ok, a] = rollout_returns(
                agent, sc, static, cfg, t[ok], e[ok], np.full(ok.sum(), a), ROLLOUT_HOURS, p_ref
            )
    best = returns.argmax(axis=1)
    gain = returns[np.arange(len(t)), best] - returns[np.arange(len(t)), own]
    label = np.where(gain > MIN_GAIN_EUR, best, own)
    return t, e, label, float(np.mean(gain > MIN_GAIN_EUR))


def training_hours(sc: Scenario, excluded: list[tuple[int, int]] | None) -> np.ndarray:
    """Hours outside the `excluded` ranges whose expert horizon and rollouts stay inside the scenario."""
    allowed = np.ones(len(sc), dtype=bool)
    for lo, hi in excluded or []:
        allowed[max(0, lo) : max(0, hi)] = False
    allowed[len(sc) - HORIZON - ROLLOUT_HOURS :] = False
    return np.flatnonzero(allowed)


def train(
    sc: Scenario,
    cfg: BatteryConfig,
    tariff: Tariff,
    excluded: list[tuple[int, int]] | None = None,
    seed: int = 0,
    rounds: int = ROUNDS,
    max_hours: int = MAX_HOURS,
    progress_cb=None,
    pool=None,
    dagger_states: int = DAGGER_STATES,
) -> ImitationAgent:
    """Clone the optimum on the scenario's hours outside `excluded` ranges, then `rounds` of improvement.

    `pool`: an `expert_dataset` computed beforehand on more hours (shared by folds); its states at excluded
    hours are dropped. Each round runs the policy, labels `dagger_states` of the states it visited with the
    expert (DAgger: the optimum's action from where the policy actually goes) and relabels others where a
    rollout finds a better action (policy iteration), then refits on everything gathered so far.
    """
    one_openmp_thread()
    rng = np.random.default_rng(seed)
    hours = training_hours(sc, excluded)
    if len(hours) < MIN_HOURS:
        raise ValueError(f"{len(hours)} training hours: the agent needs at least {MIN_HOURS}")
    static = static_features(sc)
    if pool is None:
        sample = np.sort(rng.choice(hours, size=min(max_hours, len(hours)), replace=False))
        t, e, y = expert_dataset(sc, cfg, tariff, sample, rng)
    else:
        keep = np.isin(pool[0], hours)
        t, e, y = (a[keep] for a in pool)
    expert_states = len(t)
    agent = fit_clone(static, t, e, y, cfg, seed)
    if progress_cb:
        progress_cb(1 / (rounds + 1))
    relabelled = []
    for r in range(rounds):
        tv, ev = on_policy_states(agent, sc, static, cfg, hours, rng)
        parts = [(t, e, y)]
        if dagger_states:
            pick = rng.choice(len(tv), size=min(dagger_states, len(tv)), replace=False)
            parts.append((tv[pick], ev[pick], expert_labels(sc, cfg, tariff, tv[pick], ev[pick])))
        t2, e2, y2, frac = improve(agent, sc, static, cfg, hours, rng, t=tv, e=ev)
        relabelled.append(round(frac, 3))
        parts += [(t2, e2, y2)] * 2
        t, e, y = (np.concatenate([p[k] for p in parts]) for k in range(3))
        agent = fit_clone(static, t, e, y, cfg, seed)
        if progress_cb:
            progress_cb((r + 2) / (rounds + 1))
    kind = "imitation+" + ("dagger+" if dagger_states else "") + "rollout-pi"
    agent.meta.update(
        kind=kind,
        expert_states=int(expert_states),
        rounds=rounds,
        dagger_states=dagger_states,
        relabelled_share=relabelled,
        transitions=int(len(y)),
        features=len(static[0]) + 1,
        action_counts=np.bincount(y, minlength=len(ACTIONS)).tolist(),
    )
    return agent
