"""The tariff arithmetic: import and export prices, one hour's cost, savings per month."""

import numpy as np
import pytest

from jobs.battery import physics
from jobs.battery.config import BatteryConfig
from jobs.battery.tariff import HOURS_PER_MONTH, Tariff, hour_cost, per_month
from jobs.common.protocol import ConfigError


def test_import_price_is_spot_fee_and_tax_under_vat():
    t = Tariff(grid_fee_eur_kwh=0.03, energy_tax_eur_kwh=0.04, vat=0.25)
    # 80 EUR/MWh = 0.08 EUR/kWh; (0.08 + 0.03 + 0.04) x 1.25 = 0.1875
    assert t.buy([80.0])[0] == pytest.approx(0.1875)
    # a negative spot still pays fee and tax: (-0.05 + 0.07) x 1.25
    assert t.buy(-50.0) == pytest.approx(0.025)
    # VAT multiplies the spread, fees and tax shift it: the spread between two hours is spot spread x 1.25
    b = t.buy([20.0, 120.0])
    assert b[1] - b[0] == pytest.approx(0.1 * 1.25)


def test_export_price_is_spot_minus_fee_and_can_go_negative():
    t = Tariff(export_fee_eur_kwh=0.01)
    assert np.allclose(t.sell([80.0, 0.0, -40.0]), [0.07, -0.01, -0.05])


def test_swedish_defaults_make_import_dearer_than_export():
    t = Tariff()
    spot = np.linspace(-100, 500, 13)
    assert (t.buy(spot) > t.sell(spot)).all()
    assert t.vat == 0.25


def test_hour_cost_imports_at_buy_and_exports_at_sell():
    assert hour_cost(2.0, 0.30, 0.05) == pytest.approx(0.60)
    assert hour_cost(-2.0, 0.30, 0.05) == pytest.approx(-0.10)  # paid for exporting
    assert hour_cost(-2.0, 0.30, -0.02) == pytest.approx(0.04)  # exporting at a negative price costs


def test_wear_and_losses_are_priced_by_the_physics():
    cfg = BatteryConfig(
        capacity_kwh=10,
        charge_kw=5,
        discharge_kw=5,
        efficiency=0.81,
        soc_min=0.0,
        soc_max=1.0,
        soc_initial=0.0,
        wear_eur_kwh=0.05,
    )
    # charge 4 kWh from the grid with no load: 4 x 0.9 stored, cost 4 x buy + 4 x wear
    r = physics.step(cfg, 0.0, 4.0, load_kwh=0.0, pv_kwh=0.0, buy=0.2, sell=0.05)
    assert r.energy_kwh == pytest.approx(3.6)
    assert r.cost_eur == pytest.approx(4 * 0.2 + 4 * 0.05)
    assert r.wear_eur == pytest.approx(0.2)


def test_per_month_scales_to_an_average_month():
    assert HOURS_PER_MONTH == pytest.approx(730.5)
    assert per_month(10.0, 672) == pytest.approx(10.0 * 730.5 / 672)
    with pytest.raises(ValueError):
        per_month(1.0, 0)


def test_tariff_from_env_reads_and_checks(monkeypatch):
    monkeypatch.setenv("HEA_ENERGY_TAX_EUR_KWH", "0.033")
    monkeypatch.setenv("HEA_EXPORT_FEE_EUR_KWH", "-0.005")  # a network credit larger than the retailer's fee
    t = Tariff.from_env()
    assert t.energy_tax_eur_kwh == 0.033 and t.sell([0.0])[0] == pytest.approx(0.005)
    monkeypatch.setenv("HEA_VAT", "25")  # a percentage, not a fraction
    with pytest.raises(ConfigError, match="HEA_VAT"):
        Tariff.from_env()
