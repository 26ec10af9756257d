"""Battery and tariff settings, from environment variables (the TS config passes them per job).

Battery:
- HEA_BATTERY_CAPACITY_KWH (10): usable nameplate energy.
- HEA_BATTERY_POWER_KW (5): charge and discharge power limit; HEA_BATTERY_CHARGE_KW /
  HEA_BATTERY_DISCHARGE_KW override one side.
- HEA_BATTERY_EFFICIENCY (0.9): round-trip efficiency, split evenly (sqrt) between charging and discharging.
- HEA_BATTERY_SOC_MIN (0.1), HEA_BATTERY_SOC_MAX (0.95): state-of-charge limits, fractions of capacity.
- HEA_BATTERY_SOC_INITIAL (0.5): state of charge assumed when nothing better is known.
- HEA_BATTERY_WEAR_EUR_KWH (0.03): wear cost per kWh of throughput (charged plus discharged), so a full
  cycle of 1 kWh costs about twice that; it stops the optimiser from cycling for a spread thinner than wear.

Tariff (import and export prices, the fuse): jobs/battery/tariff.py, with its Swedish defaults and sources.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from jobs.battery.envvars import env_float as _env_float
from jobs.battery.tariff import Tariff  # noqa: F401  (re-exported: callers import it from here)
from jobs.common.protocol import ConfigError


@dataclass(frozen=True)
class BatteryConfig:
    capacity_kwh: float = 10.0
    charge_kw: float = 5.0
    discharge_kw: float = 5.0
    efficiency: float = 0.9
    soc_min: float = 0.1
    soc_max: float = 0.95
    soc_initial: float = 0.5
    wear_eur_kwh: float = 0.03

    def __post_init__(self):
        if self.capacity_kwh <= 0 or self.charge_kw < 0 or self.discharge_kw < 0:
            raise ConfigError("battery capacity must be positive and power limits non-negative")
        if not 0 < self.efficiency <= 1:
            raise ConfigError(f"round-trip efficiency {self.efficiency} must be in (0, 1]")
        if not 0 <= self.soc_min < self.soc_max <= 1:
            raise ConfigError(f"SoC limits {self.soc_min}..{self.soc_max} must satisfy 0 <= min < max <= 1")
        if not self.soc_min <= self.soc_initial <= self.soc_max:
            raise ConfigError(f"initial SoC {self.soc_initial} is outside {self.soc_min}..{self.soc_max}")

    @property
    def eta_charge(self) -> float:
        return math.sqrt(self.efficiency)

    @property
    def eta_discharge(self) -> float:
        return math.sqrt(self.efficiency)

    @property
    def e_min(self) -> float:
        return self.soc_min * self.capacity_kwh

    @property
    def e_max(self) -> float:
        return self.soc_max * self.capacity_kwh

    @property
    def e_initial(self) -> float:
        return self.soc_initial * self.capacity_kwh

    @classmethod
    def from_env(cls) -> BatteryConfig:
        power = _env_float("HEA_BATTERY_POWER_KW", 5.0, 0.0)
        return cls(
            capacity_kwh=_env_float("HEA_BATTERY_CAPACITY_KWH", 10.0, 0.0),
            charge_kw=_env_float("HEA_BATTERY_CHARGE_KW", power, 0.0),
            discharge_kw=_env_float("HEA_BATTERY_DISCHARGE_KW", power, 0.0),
            efficiency=_env_float("HEA_BATTERY_EFFICIENCY", 0.9, 0.0, 1.0),
            soc_min=_env_float("HEA_BATTERY_SOC_MIN", 0.1, 0.0, 1.0),
            soc_max=_env_float("HEA_BATTERY_SOC_MAX", 0.95, 0.0, 1.0),
            soc_initial=_env_float("HEA_BATTERY_SOC_INITIAL", 0.5, 0.0, 1.0),
            wear_eur_kwh=_env_float("HEA_BATTERY_WEAR_EUR_KWH", 0.03, 0.0),
        )

    def to_dict(self) -> dict:
        return asdict(self)
