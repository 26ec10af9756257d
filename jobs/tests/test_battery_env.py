"""The battery environment, its physics, the scenarios' forecasts and the pre-training sanity check."""

import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env

from jobs.battery import physics, sanity
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.env import ACTIONS, BatteryEnv, action_mask
from jobs.battery.scenario import build_scenario, hourly_frame
from jobs.battery.synthetic import make_frame
from jobs.common.protocol import ConfigError, DataError

CFG = BatteryConfig()
TARIFF = Tariff()


@pytest.fixture(scope="module")
def scenario():
    return build_scenario(make_frame(10, seed=4), TARIFF)


@pytest.mark.filterwarnings("ignore:.*Box observation space:UserWarning")  # prices are unbounded on purpose
def test_gymnasium_api(scenario):
    env = BatteryEnv(scenario, CFG, episode_hours=48)
    check_env(env, skip_render_check=True)


def test_energy_balance_soc_limits_and_masks(scenario):
    env = BatteryEnv(scenario, CFG, episode_hours=72)
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=1)
    saw_full = saw_empty = False
    for _ in range(300):
        mask = info["action_mask"]
        a = int(rng.choice(np.flatnonzero(mask)))
        obs, reward, term, trunc, info = env.step(a)
        assert np.all(np.isfinite(obs)) and np.isfinite(reward)
        assert abs(info["balance_error"]) < 1e-9 and abs(info["storage_error"]) < 1e-9
        assert CFG.e_min - 1e-9 <= env.energy <= CFG.e_max + 1e-9
        assert not (info["charge_kw"] > 0 and info["discharge_kw"] > 0)
        assert reward == pytest.approx(info["cost_no_battery"] - info["cost"])
        saw_full |= env.energy >= CFG.e_max - 1e-6
        saw_empty |= env.energy <= CFG.e_min + 1e-6
        if trunc:
            obs, info = env.reset()
    assert saw_full and saw_empty, "random play should reach both limits in 300 hours"


def test_masks_forbid_acting_against_a_limit():
    full, empty = action_mask(CFG, CFG.e_max), action_mask(CFG, CFG.e_min)
    names = [n for n, _ in ACTIONS]
    assert not full[names.index("charge_full")] and not full[names.index("charge_half")]
    assert full[names.index("discharge_full")] and full[names.index("self_consumption")]
    assert not empty[names.index("discharge_full")] and empty[names.index("charge_full")]
    assert action_mask(CFG, 5.0).all()


def test_vector_physics_matches_scalar():
    rng = np.random.default_rng(7)
    n = 500
    e = rng.uniform(CFG.e_min, CFG.e_max, n)
    p = rng.uniform(-7, 7, n)
    selfc = rng.uniform(size=n) < 0.3
    load, pv = rng.uniform(0, 3, n), rng.uniform(0, 4, n)
    buy, sell = rng.uniform(-0.1, 0.5, n), rng.uniform(-0.2, 0.4, n)
    vec = physics.step_many(CFG, e, p, selfc, load, pv, buy, sell)
    for i in range(n):
        s = physics.step(CFG, e[i], None if selfc[i] else p[i], load[i], pv[i], buy[i], sell[i])
        expect = (
            s.charge_kw,
            s.discharge_kw,
            s.grid_import_kwh,
            s.grid_export_kwh,
            s.energy_kwh,
            s.cost_eur,
            s.cost_no_battery_eur,
        )
        assert tuple(v[i] for v in vec) == pytest.approx(expect, abs=1e-12)


def test_self_consumption_stores_surplus_and_covers_load():
    s = physics.step(CFG, 5.0, None, load_kwh=0.5, pv_kwh=2.5, buy=0.3, sell=0.05)
    assert s.charge_kw == pytest.approx(2.0) and s.grid_export_kwh == pytest.approx(0.0)
    s = physics.step(CFG, 5.0, None, load_kwh=1.5, pv_kwh=0.0, buy=0.3, sell=0.05)
    assert s.discharge_kw == pytest.approx(1.5) and s.grid_import_kwh == pytest.approx(0.0)


def test_quarter_hour_prices_become_hourly_means_on_a_dst_day():
    # 2025-10-26: Stockholm leaves summer time, a 25-hour local day; 15-minute prices average per hour.
    idx = pd.date_range("2025-10-25T22:00Z", "2025-10-26T23:00Z", freq="15min", inclusive="left")
    spot = pd.Series(np.arange(len(idx), dtype=float), index=idx)
    hours = pd.date_range(idx[0], idx[-1], freq="h")
    load = pd.Series(1.0, index=hours)
    frame = hourly_frame(spot, load, None)
    assert len(frame) == 25
    assert frame["spot"].iloc[0] == pytest.approx(1.5)  # mean of 0, 1, 2, 3
    assert (frame["pv"] == 0).all()


def test_hourly_frame_rejects_long_gaps_and_fills_short_ones():
    idx = pd.date_range("2025-01-01", periods=48, freq="h", tz="UTC")
    spot = pd.Series(50.0, index=idx).drop(idx[10:12])
    frame = hourly_frame(spot, pd.Series(1.0, index=idx), None)
    assert frame["spot"].notna().all()
    with pytest.raises(DataError, match="missing"):
        hourly_frame(pd.Series(50.0, index=idx).drop(idx[10:20]), pd.Series(1.0, index=idx), None)


def test_naive_price_forecast_knows_published_prices_only():
    frame = make_frame(5, seed=2, start="2025-03-03")
    sc = build_scenario(frame, TARIFF, forecasts="naive")
    # 10:00 UTC = 11:00 Stockholm (CET): before publication, prices are known to local midnight (23:00 UTC).
    t = int(np.flatnonzero(sc.index == pd.Timestamp("2025-03-04T10:00Z"))[0])
    known = 13  # 10:00 .. 22:00 UTC
    np.testing.assert_allclose(sc.fc_buy[t, :known], sc.buy[t : t + known])
    # The next hours repeat the last known day.
    np.testing.assert_allclose(sc.fc_buy[t, known : known + 5], sc.buy[t + known - 24 : t + known - 19])
    assert not np.allclose(sc.fc_buy[t, known : known + 5], sc.buy[t + known : t + known + 5])
    # At 13:00 UTC (14:00 local) tomorrow's prices are published: 34 hours known.
    t2 = t + 3
    np.testing.assert_allclose(sc.fc_buy[t2, :34], sc.buy[t2 : t2 + 34])
    # Load forecasts average the same hour of the days before the issue time, never the hour itself.
    for h in (0, 5, 30):
        k0 = int(np.ceil((h + 1) / 24))
        past = [sc.load[t + h - 24 * k] for k in range(k0, k0 + 7) if t + h - 24 * k >= 0]
        assert sc.fc_load[t, h] == pytest.approx(np.mean(past))


def test_tariff_and_config_from_env(monkeypatch):
    monkeypatch.setenv("HEA_BATTERY_CAPACITY_KWH", "13.5")
    monkeypatch.setenv("HEA_BATTERY_EFFICIENCY", "0.81")
    monkeypatch.setenv("HEA_VAT", "0")
    cfg, tariff = BatteryConfig.from_env(), Tariff.from_env()
    assert cfg.capacity_kwh == 13.5 and cfg.eta_charge == pytest.approx(0.9)
    assert tariff.buy([100.0])[0] == pytest.approx(0.1 + 0.03 + 0.040)
    assert tariff.sell([-20.0])[0] == pytest.approx(-0.03)
    monkeypatch.setenv("HEA_BATTERY_SOC_MIN", "0.99")
    with pytest.raises(ConfigError):
        BatteryConfig.from_env()
    monkeypatch.setenv("HEA_BATTERY_SOC_MIN", "lots")
    with pytest.raises(ConfigError):
        BatteryConfig.from_env()


def test_sanity_check_passes_on_a_healthy_environment(scenario):
    out = sanity.check(BatteryEnv(scenario, CFG, episode_hours=48), steps=100)
    assert out["max_balance_error"] < 1e-9 and out["smoke_fit"]
    assert out["smoke_fit_states"] >= 96  # two SoCs on each of 48 hours: a fit on nothing would prove nothing


def test_sanity_check_catches_leaking_physics(scenario, monkeypatch):
    real = physics.step

    def leaky(*args, **kwargs):
        r = real(*args, **kwargs)
        return r._replace(energy_kwh=r.energy_kwh + 0.01 * r.charge_kw)  # energy from nowhere

    monkeypatch.setattr(physics, "step", leaky)
    with pytest.raises(sanity.EnvironmentBroken, match="storage equation") as err:
        sanity.check(BatteryEnv(scenario, CFG, episode_hours=48), steps=200)
    assert err.value.exit_code == 70


def test_sanity_check_rejects_nan_data(scenario):
    broken = build_scenario(make_frame(10, seed=4), TARIFF)
    broken.fc_load[5, 3] = np.nan
    with pytest.raises(DataError, match="fc_load"):
        sanity.check(BatteryEnv(broken, CFG), steps=10)
