"""The agent's imitation step: it learns the optimum's actions from what it sees at decision time."""

import numpy as np
import pytest

from jobs.battery import imitation
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.controllers import AgentController, RuleBased
from jobs.battery.env import SELF_ACTION, static_features
from jobs.battery.evaluate import evaluate
from jobs.battery.optimize import RecedingPlanner
from jobs.battery.scenario import build_scenario
from jobs.battery.synthetic import make_frame

CFG, TARIFF = BatteryConfig(), Tariff()


@pytest.fixture(scope="module")
def sc():
    return build_scenario(make_frame(21, seed=3), TARIFF, forecasts="naive")


def test_labels_map_the_plans_first_hour_onto_the_agents_actions():
    planner = RecedingPlanner(CFG)
    T = 24
    flat = np.full(T, 0.2)
    # nothing to gain and PV covering the load: the plan exchanges nothing with the grid -> self-consumption
    plan = planner.solve(flat, flat - 0.1, np.full(T, 0.5), np.full(T, 0.5), e0=5.0, terminal_min=5.0)
    assert imitation.label_from_plan(CFG, plan) == SELF_ACTION
    # cheap now, dear later: charge at full power from the grid
    buy = np.r_[np.full(2, 0.05), np.full(T - 2, 0.6)]
    plan = planner.solve(buy, buy / 1.25 - 0.02, np.full(T, 0.5), np.zeros(T), e0=CFG.e_min, terminal_min=CFG.e_min)
    assert imitation.ACTIONS[imitation.label_from_plan(CFG, plan)][0] == "charge_full"


def test_behaviour_cloning_reproduces_the_experts_labels_on_its_training_states(sc):
    rng = np.random.default_rng(0)
    static = static_features(sc)
    t, e, y = imitation.expert_dataset(sc, CFG, TARIFF, np.arange(0, 14 * 24), rng)
    assert len(t) == len(e) == len(y) == 2 * (14 * 24)
    assert len(np.unique(y)) >= 3  # the expert does more than one thing
    agent = imitation.fit_clone(static, t, e, y, CFG)
    pred = agent.act_many(imitation._obs(static, t, e, CFG), imitation._masks(CFG, e))
    # better than always answering the expert's most frequent action
    assert np.mean(pred == y) > np.bincount(y).max() / len(y) + 0.05
    # never an action the mask forbids: full battery, no charging
    full = agent.act_many(
        imitation._obs(static, t[:50], np.full(50, CFG.e_max), CFG), imitation._masks(CFG, np.full(50, CFG.e_max))
    )
    assert not np.isin(full, [4, 5]).any()


def test_trained_agent_beats_the_rule_on_held_out_days(sc):
    agent = imitation.train(sc, CFG, TARIFF, excluded=[(14 * 24, len(sc))], rounds=1, max_hours=300)
    assert agent.meta["rounds"] == 1 and len(agent.meta["relabelled_share"]) == 1
    ev = evaluate(sc, CFG, TARIFF, [RuleBased(), AgentController(agent, CFG)], start=14 * 24, end=len(sc) - 24)
    c = ev["controllers"]
    assert c["rl_agent"]["savings_eur"] > c["rule_based"]["savings_eur"]


def test_masks_for_many_states_agree_with_the_environments():
    from jobs.battery.env import action_mask

    energy = np.r_[CFG.e_min, CFG.e_min + 1e-9, 3.0, CFG.e_max - 1e-9, CFG.e_max, np.linspace(0, 10, 11)]
    assert (imitation._masks(CFG, energy) == np.array([action_mask(CFG, e) for e in energy])).all()


def test_the_numpy_forward_pass_matches_scikit_learns_probabilities(sc):
    rng = np.random.default_rng(0)
    static = static_features(sc)
    t, e, y = imitation.expert_dataset(sc, CFG, TARIFF, np.arange(0, 5 * 24), rng)
    agent = imitation.fit_clone(static, t, e, y, CFG)
    obs = imitation._obs(static, t, e, CFG)
    ref = np.zeros((len(obs), len(imitation.ACTIONS)))
    ref[:, agent.clf.classes_] = agent.clf.predict_proba(obs)
    np.testing.assert_allclose(agent.probabilities(obs), ref, atol=1e-5)
