"""What a kWh costs the home: import and export prices, and savings in EUR per month.

    import price (EUR/kWh) = (spot + grid fee + energy tax) x (1 + VAT)
    export price (EUR/kWh) = spot - export fee                  (negative when spot is)

Spot prices are EUR/MWh in the store and the price files; every price below is EUR/kWh. Battery wear (EUR per
kWh cycled), round-trip losses and the power and SoC limits are the battery's, in `config.BatteryConfig`; this
module is the money side only, so the plan (jobs/rl/run_production_agent.py), every controller, the optimiser
and the evaluations price an hour the same way.

Swedish defaults (a household on an hourly spot contract in SE3; override per home):
- HEA_ENERGY_TAX_EUR_KWH (0.040): energiskatt på el, 43.9 öre/kWh excl. VAT in 2025 (Skatteverket, "Skattesatser
  på el och bränslen" 2025; 54.875 öre incl. VAT), at about 11 SEK/EUR. The 2026 budget lowers it to
  36 öre/kWh (~0.033 EUR): set the variable for your year.
- HEA_GRID_FEE_EUR_KWH (0.030): the network operator's variable transfer fee (rörlig överföringsavgift), about
  25-40 öre/kWh excl. VAT for a house on a fuse tariff in 2024-2025 (e.g. Vattenfall Eldistribution and
  Ellevio price lists; Energimarknadsinspektionen publishes every operator's). A typical value, not a quote.
- HEA_VAT (0.25): Swedish VAT (moms) on electricity, on spot, fee and tax alike.
- HEA_EXPORT_FEE_EUR_KWH (0.010): what the retailer keeps per kWh sold (typically 2-10 öre/kWh). The 60 öre/kWh
  tax credit for micro-producers (skattereduktion) ended on 2026-01-01, so it is not in the default; the
  network operator's small "nätnytta" credit can be entered as a negative fee.
- HEA_GRID_LIMIT_KW (17): main fuse, 3 x 25 A at 230 V, on import and export.

Functions for the plan writer (h10b's run_production_agent.py) and the benches:
- `Tariff.from_env() -> Tariff`; `tariff.buy(spot_eur_mwh) -> ndarray`, `tariff.sell(spot_eur_mwh) -> ndarray`
  (EUR/kWh, any array-like of EUR/MWh).
- `hour_cost(net_kwh, buy, sell) -> float`: what the grid exchange of one hour costs (import at buy, export
  at sell); `net_kwh` > 0 imports.
- `per_month(eur, hours) -> float`: a figure over `hours` hours scaled to an average month (730.5 h).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from jobs.battery.envvars import env_float as _env_float
from jobs.common.protocol import ConfigError

HOURS_PER_MONTH = 365.25 * 24 / 12  # 730.5

DEFAULT_GRID_FEE = 0.030
DEFAULT_ENERGY_TAX = 0.040
DEFAULT_VAT = 0.25
DEFAULT_EXPORT_FEE = 0.010
DEFAULT_GRID_LIMIT_KW = 17.0


@dataclass(frozen=True)
class Tariff:
    grid_fee_eur_kwh: float = DEFAULT_GRID_FEE
    energy_tax_eur_kwh: float = DEFAULT_ENERGY_TAX
    vat: float = DEFAULT_VAT
    export_fee_eur_kwh: float = DEFAULT_EXPORT_FEE
    grid_limit_kw: float = DEFAULT_GRID_LIMIT_KW

    def __post_init__(self):
        if not 0 <= self.vat <= 1:
            raise ConfigError(f"VAT {self.vat} must be a fraction in [0, 1]")
        if self.grid_limit_kw <= 0:
            raise ConfigError(f"grid limit {self.grid_limit_kw} kW must be positive")

    @classmethod
    def from_env(cls) -> Tariff:
        return cls(
            grid_fee_eur_kwh=_env_float("HEA_GRID_FEE_EUR_KWH", DEFAULT_GRID_FEE),
            energy_tax_eur_kwh=_env_float("HEA_ENERGY_TAX_EUR_KWH", DEFAULT_ENERGY_TAX),
            vat=_env_float("HEA_VAT", DEFAULT_VAT, 0.0, 1.0),
            export_fee_eur_kwh=_env_float("HEA_EXPORT_FEE_EUR_KWH", DEFAULT_EXPORT_FEE),
            grid_limit_kw=_env_float("HEA_GRID_LIMIT_KW", DEFAULT_GRID_LIMIT_KW, 0.0),
        )

    def buy(self, spot_eur_mwh) -> np.ndarray:
        """Import price, EUR/kWh: spot plus grid fee and energy tax, all under VAT."""
        spot = np.asarray(spot_eur_mwh, dtype=float) / 1000.0
        return (spot + self.grid_fee_eur_kwh + self.energy_tax_eur_kwh) * (1.0 + self.vat)

    def sell(self, spot_eur_mwh) -> np.ndarray:
        """Export price, EUR/kWh: spot minus the export fee (negative when spot is)."""
        return np.asarray(spot_eur_mwh, dtype=float) / 1000.0 - self.export_fee_eur_kwh

    def to_dict(self) -> dict:
        return asdict(self)


def hour_cost(net_kwh: float, buy: float, sell: float) -> float:
    """EUR for one hour's grid exchange: imports (net > 0) at the buy price, exports at the sell price."""
    return buy * net_kwh if net_kwh >= 0 else sell * net_kwh


def per_month(eur: float, hours: float) -> float:
    """`eur` earned over `hours` hours, as EUR per average month."""
    if hours <= 0:
        raise ValueError("hours must be positive")
    return eur * HOURS_PER_MONTH / hours
