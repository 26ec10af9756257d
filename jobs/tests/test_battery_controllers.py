"""Controllers scored against the optimum: the optimum bounds everyone, MPC with perfect forecasts reaches it."""

import numpy as np
import pytest

from jobs.battery import imitation
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.controllers import MPC, AgentController, NoBattery, RuleBased
from jobs.battery.evaluate import evaluate
from jobs.battery.scenario import build_scenario
from jobs.battery.synthetic import make_frame
from jobs.rl.train import choose_best

CFG, TARIFF = BatteryConfig(), Tariff()


@pytest.fixture(scope="module")
def frame():
    return make_frame(10, seed=11)


def test_optimum_bounds_every_controller_and_perfect_mpc_nearly_reaches_it(frame):
    sc = build_scenario(frame, TARIFF, forecasts="perfect")
    start = 7 * 24
    ev = evaluate(sc, CFG, TARIFF, [NoBattery(), RuleBased(), MPC(CFG, TARIFF)], start=start)
    c = ev["controllers"]
    assert ev["optimum_savings_eur"] > 0.5
    assert c["optimum"]["share_of_optimum"] == pytest.approx(1.0)
    assert c["no_battery"]["share_of_optimum"] == pytest.approx(0.0, abs=1e-9)
    for name in ("rule_based", "mpc"):
        # The optimum must end at least where it started; a controller may not (evaluate.py): a hair of slack.
        assert c[name]["cost_eur"] >= c["optimum"]["cost_eur"] - 0.01 * ev["optimum_savings_eur"], name
    assert c["mpc"]["share_of_optimum"] > 0.93
    assert c["rule_based"]["share_of_optimum"] < c["mpc"]["share_of_optimum"]
    # The trajectory's costs add up to the reported cost (before the terminal-energy credit).
    traj = ev["trajectories"]["mpc"]
    assert traj["cost_eur"].sum() == pytest.approx(c["mpc"]["raw_cost_eur"])
    assert c["mpc"]["wear_eur"] == pytest.approx(CFG.wear_eur_kwh * c["mpc"]["throughput_kwh"])


def test_naive_forecasts_cost_mpc_something_but_it_still_beats_no_battery(frame):
    sc = build_scenario(frame, TARIFF, forecasts="naive")
    ev = evaluate(sc, CFG, TARIFF, [MPC(CFG, TARIFF)], start=7 * 24)
    share = ev["controllers"]["mpc"]["share_of_optimum"]
    assert 0.3 < share < 1.0


def test_agent_trains_and_acts_within_masks(frame):
    sc = build_scenario(frame, TARIFF)
    agent = imitation.train(sc.slice(0, 7 * 24), CFG, TARIFF, rounds=1, max_hours=100)
    assert agent.meta["expert_states"] == 2 * 100
    assert sum(agent.meta["action_counts"]) == agent.meta["transitions"] > 200  # the expert's and the round's
    ctrl = AgentController(agent, CFG).bind(sc)
    assert ctrl.decide(0, CFG.e_max) is None or ctrl.decide(0, CFG.e_max) <= 0  # never charges when full
    ev = evaluate(sc, CFG, TARIFF, [ctrl], start=7 * 24)
    assert np.isfinite(ev["controllers"]["rl_agent"]["cost_eur"])
    assert ev["controllers"]["rl_agent"]["cost_eur"] >= ev["controllers"]["optimum"]["cost_eur"] - 0.05


def test_choose_best_gives_the_agent_the_battery_only_if_it_earned_it():
    assert choose_best({"rule_based": 0.7, "mpc": 0.8, "rl_agent": 0.805}, 0.01)[0] == "mpc"
    assert choose_best({"rule_based": 0.7, "mpc": 0.8, "rl_agent": 0.85}, 0.01)[0] == "rl_agent"
    assert choose_best({"rule_based": 0.7, "mpc": 0.6, "rl_agent": 0.65}, 0.01)[0] == "rule_based"
    assert choose_best({"rule_based": 0.0, "mpc": 0.0, "rl_agent": 0.0}, 0.01)[0] == "mpc"
    assert choose_best({"rule_based": None, "mpc": None, "rl_agent": None}, 0.01)[0] == "rule_based"
