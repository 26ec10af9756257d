"""Train the battery agent and score every controller against the perfect-foresight optimum (job rl_train).

    python -m jobs.rl.train [--sanity-check-steps N] [--start-date D] [--end-date D] [--total-timesteps N]

Stages: load the hourly history (price.spot, home.consumption, solar.production) for [start, end); a smoke
test of the environment (`--sanity-check-steps`, fails fast with exit 65 on bad data or 70 on a broken
environment); the agent (jobs/battery/imitation.py: behaviour cloning on the optimum's actions, then rounds of
rollout policy iteration) trained on the days before a 14-day validation slice, on which its safe-improvement
margin is chosen (select_margin); evaluation on the last held-out days of no battery, rule-based
self-consumption, MPC and the agent, each as a share of the optimum's savings (wear included). The agent goes
to HEA_MODELS_DIR/rl/<version>.pkl and the evaluation to the model registry under
`battery_controller` (always promoted: the latest evaluation decides which controller runs the battery).

Flags: --sanity-check-steps (10; 0 skips), --start-date (a year before the end, clipped to the data),
--end-date (today, local), --total-timesteps (HEA_RL_TIMESTEPS, 6000: training hours sampled for the expert's
labels, two states of charge each), --holdout-days (HEA_RL_HOLDOUT_DAYS, 28), --iterations
(HEA_RL_ITERATIONS, 2: rounds of improvement after the cloning), --seed (0).
Environment: the battery and tariff settings of jobs/battery/config.py; HEA_RL_EPISODE_HOURS (168: the
sanity check's episodes); HEA_RL_AGENT_MARGIN (0.01): the agent runs the battery only if its share beats
MPC's and the rule's by this.
"""

from __future__ import annotations

import time

from jobs.battery import data as bdata
from jobs.battery import imitation, sanity
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.controllers import MPC, AgentController, NoBattery, RuleBased
from jobs.battery.env import BatteryEnv
from jobs.battery.evaluate import evaluate
from jobs.battery.scenario import build_scenario
from jobs.common import registry, settings, timeutil
from jobs.common.protocol import DataError, UsageError, parser, progress, run_main
from jobs.common.store import Store

REGISTRY_NAME = "battery_controller"
AGENT_DIR = "rl"
MIN_TRAIN_DAYS = 7
VALIDATION_DAYS = 14


def build_parser():
    p = parser("Train the battery agent (imitation of the optimum, then RL) and evaluate all controllers.")
    p.add_argument("--sanity-check-steps", type=int, default=10, help="smoke-test steps before training (0 skips)")
    p.add_argument("--start-date", default=None, help="first day of history used (YYYY-MM-DD, local)")
    p.add_argument("--end-date", default=None, help="last day of history used (YYYY-MM-DD, local; default today)")
    p.add_argument("--total-timesteps", type=int, default=None, help="training hours labelled by the optimum")
    p.add_argument("--holdout-days", type=int, default=None, help="last days held out for evaluation")
    p.add_argument("--iterations", type=int, default=None, help="rounds of improvement after the cloning")
    p.add_argument("--seed", type=int, default=0)
    return p


class Throttled:
    """Progress at most once per whole percent: the evaluation reports every simulated hour."""

    def __init__(self):
        self.last = -1

    def __call__(self, pct: float, stage: str, message: str | None = None) -> None:
        if int(pct) != self.last:
            self.last = int(pct)
            progress(pct, stage, message)


# The agent leaves self-consumption only where its policy's probability for the action exceeds 0.5 + margin.
MARGINS = (0.0, 0.1, 0.2, float("inf"))


def select_margin(agent, sc, cfg, tariff, start: int, end: int, progress_cb=None) -> dict:
    """Pick the agent's advantage margin on validation days it was not trained on.

    A batch-RL agent is least reliable where its data are thin; requiring a learned advantage before it
    leaves self-consumption (the baseline policy) is the usual safe-policy-improvement guard. An infinite
    margin is the rule itself, so on validation the agent is at worst as good as the rule.
    """
    savings = {}
    for i, m in enumerate(MARGINS):
        agent.margin = m
        ctrl = AgentController(agent, cfg)
        ctrl.name = f"margin_{m}"
        ev = evaluate(sc, cfg, tariff, [ctrl], start=start, end=end)
        savings[m] = ev["controllers"][ctrl.name]["savings_eur"]
        if progress_cb is not None:
            progress_cb((i + 1) / len(MARGINS))
    best = max(MARGINS, key=lambda m: (savings[m], -m if m != float("inf") else -1e9))
    agent.margin = best

    def label(m):  # JSON has no infinity
        return "never" if m == float("inf") else m

    return {"margin": label(best), "validation_savings_eur": {str(label(k)): round(v, 3) for k, v in savings.items()}}


def choose_best(shares: dict, margin: float) -> tuple[str, str]:
    """The controller to run: the agent only if it beats MPC and the rule by `margin`; else the better of those."""
    rule, mpc, agent = (shares.get(k) for k in ("rule_based", "mpc", "rl_agent"))
    if rule is None and mpc is None:
        return "rule_based", "the optimum saves nothing on the holdout: no controller can earn its keep"

    def val(x):
        return -float("inf") if x is None else x

    rival_name = "mpc" if val(mpc) >= val(rule) else "rule_based"
    rival = shares[rival_name]
    if agent is not None and agent > rival + margin:
        return "rl_agent", f"agent share {agent:.3f} beats {rival_name} {rival:.3f} by more than {margin}"
    why = (
        f"agent share {agent:.3f} does not beat {rival_name} {rival:.3f} by {margin}"
        if agent is not None
        else "no agent"
    )
    return rival_name, why


def main(args) -> dict:
    t_start = time.perf_counter()

    def flag_or_env(value, name, default):
        return value if value is not None else settings.env_int(name, default)

    timesteps = flag_or_env(args.total_timesteps, "HEA_RL_TIMESTEPS", imitation.MAX_HOURS)
    holdout_days = flag_or_env(args.holdout_days, "HEA_RL_HOLDOUT_DAYS", 28)
    iterations = flag_or_env(args.iterations, "HEA_RL_ITERATIONS", imitation.ROUNDS)
    episode_hours = settings.env_int("HEA_RL_EPISODE_HOURS", 168)
    margin = settings.env_float("HEA_RL_AGENT_MARGIN", 0.01)
    if timesteps < 1 or holdout_days < 1 or iterations < 0 or args.sanity_check_steps < 0:
        raise UsageError(
            "--total-timesteps and --holdout-days must be positive, --iterations and --sanity-check-steps not negative"
        )
    for flag in ("start_date", "end_date"):
        value = getattr(args, flag)
        if value:
            try:
                timeutil.parse_date(value)
            except ValueError as err:
                raise UsageError(f"--{flag.replace('_', '-')}: {err}") from None
    cfg, tariff = BatteryConfig.from_env(), Tariff.from_env()

    progress(2, "loading", "reading price, consumption and PV history")
    seconds: dict = {}
    t0 = time.perf_counter()
    with Store.open() as store:
        start, end = bdata.history_range(store, args.start_date, args.end_date)
        frame = bdata.load_history(store, start, end)
        hours = len(frame)
        holdout_h = holdout_days * 24
        if hours < holdout_h + MIN_TRAIN_DAYS * 24:
            raise DataError(
                f"{hours} hours of history between {timeutil.iso(frame.index[0])} and "
                f"{timeutil.iso(frame.index[-1])}; need {holdout_days} holdout days plus at least "
                f"{MIN_TRAIN_DAYS} training days (backfill more history or lower --holdout-days)"
            )
        sc = build_scenario(frame, tariff, forecasts="naive")
        split = hours - holdout_h
        seconds["load"] = time.perf_counter() - t0
        progress(
            8,
            "loading",
            f"{hours} h from {timeutil.iso(frame.index[0])}; holdout from {timeutil.iso(frame.index[split])}",
        )

        # The agent trains on the days before a validation slice (margin selection), which precedes the holdout.
        val_h = min(VALIDATION_DAYS * 24, max(0, split - MIN_TRAIN_DAYS * 24))
        train_end = split - val_h
        env = BatteryEnv(sc, cfg, episode_hours=episode_hours, first=0, last=train_end)
        check = None
        if args.sanity_check_steps:
            progress(10, "sanity_check", f"{args.sanity_check_steps} random steps and a smoke fit")
            check = sanity.check(env, args.sanity_check_steps, seed=args.seed, tariff=tariff)
            progress(12, "sanity_check", f"ok: balance error {check['max_balance_error']:.2g} kWh")

        progress(
            15,
            "training",
            f"cloning the optimum on up to {timesteps} hours, then {iterations} rounds of rollout policy iteration",
        )
        t0 = time.perf_counter()
        # Trained on the hours before the validation slice only: the expert's labels and the rollouts read
        # actuals up to 60 hours ahead, so the scenario is cut there rather than merely sampled before it.
        agent = imitation.train(
            sc.slice(0, train_end),
            cfg,
            tariff,
            seed=args.seed,
            rounds=iterations,
            max_hours=timesteps,
            progress_cb=lambda f: progress(15 + 40 * f, "training", f"{100 * f:.0f}% of training"),
        )
        selection = None
        if val_h >= 24:
            progress(55, "validation", f"agent margin on {val_h // 24} validation days")
            selection = select_margin(
                agent, sc, cfg, tariff, train_end, split, progress_cb=lambda f: progress(55 + 5 * f, "validation")
            )
        seconds["training"] = time.perf_counter() - t0

        progress(60, "evaluation", f"{holdout_days} held-out days: optimum, rule, MPC, agent")
        t0 = time.perf_counter()
        controllers = [NoBattery(), RuleBased(), MPC(cfg, tariff), AgentController(agent, cfg)]
        report = Throttled()
        ev = evaluate(
            sc,
            cfg,
            tariff,
            controllers,
            start=split,
            end=hours,
            progress_cb=lambda name, f: report(60 + 35 * f, "evaluation", name),
        )
        seconds["evaluation"] = time.perf_counter() - t0

        ctrl = ev["controllers"]
        shares = {k: v["share_of_optimum"] for k, v in ctrl.items()}
        best, why = choose_best(shares, margin)
        progress(96, "saving", f"best controller: {best}")
        version = registry.new_version(AGENT_DIR)
        holdout = {
            "start": timeutil.iso(ev["start"]),
            "end": timeutil.iso(ev["end"]),
            "hours": ev["hours"],
            "trained_until": timeutil.iso(sc.index[split - 1]),
            "forecasts": sc.forecast_kind,
        }
        agent.meta.update(
            trained_from=timeutil.iso(sc.index[0]),
            trained_until=timeutil.iso(sc.index[train_end - 1]),
            margin_selection=selection,
            battery=cfg.to_dict(),
            tariff=tariff.to_dict(),
        )
        path = registry.save_model(AGENT_DIR, version, agent, {"holdout": holdout, "train": agent.meta})
        metrics = {
            "best_controller": best,
            "reason": why,
            "shares": shares,
            "costs_eur": {k: v["cost_eur"] for k, v in ctrl.items()},
            "savings_eur": {k: v["savings_eur"] for k, v in ctrl.items()},
            "throughput_kwh": {k: v["throughput_kwh"] for k, v in ctrl.items()},
            "wear_eur": {k: v["wear_eur"] for k, v in ctrl.items()},
            "cost_no_battery_eur": ev["cost_no_battery_eur"],
            "optimum_savings_eur": ev["optimum_savings_eur"],
            "agent_path": str(path),
            "battery": cfg.to_dict(),
            "tariff": tariff.to_dict(),
        }
        store.register_model(REGISTRY_NAME, version, str(path), metrics, holdout, promoted=True)

    seconds["total"] = time.perf_counter() - t_start
    return {
        "best_controller": best,
        "reason": why,
        "shares": {k: round(v, 4) if v is not None else None for k, v in shares.items()},
        "costs_eur": {k: round(v, 2) for k, v in metrics["costs_eur"].items()},
        "cost_no_battery_eur": round(ev["cost_no_battery_eur"], 2),
        "optimum_savings_eur": round(ev["optimum_savings_eur"], 2),
        "holdout": holdout,
        "history": {"start": timeutil.iso(sc.index[0]), "hours": hours},
        "train": {
            **{
                k: agent.meta[k]
                for k in (
                    "kind",
                    "expert_states",
                    "rounds",
                    "dagger_states",
                    "relabelled_share",
                    "transitions",
                    "features",
                    "action_counts",
                )
            },
            "until": timeutil.iso(sc.index[train_end]),
            "margin_selection": selection,
        },
        "sanity_check": check,
        "version": version,
        "model_path": str(path),
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }


if __name__ == "__main__":
    run_main(main, build_parser())
