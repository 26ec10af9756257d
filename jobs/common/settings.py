"""Settings from the environment, shared by every job (the TS config passes them per job).

Paths:
- HEA_DATA_DIR    data directory (default <repo>/data)
- HEA_MODELS_DIR  models directory (default <repo>/models)
- HEA_STORE_URL   data store (default sqlite:///<HEA_DATA_DIR>/energy.db)
Home and market:
- HEA_TIMEZONE    local time zone (default Europe/Stockholm)
- HEA_LATITUDE, HEA_LONGITUDE  location (default 59.3, 18.1)
- HEA_PRICE_ZONE  bidding zone (default SE3)
- HEA_PV_KWP      installed PV peak power (default 6.0), HEA_PV_TILT (35), HEA_PV_AZIMUTH (0 = south)
- HEA_SIM_SEED    simulator seed (default 42)
- HEA_BACKFILL_DAYS  history fetched on an empty store (default 365)
Sources (see docs/data-store.md): HEA_PRICE_SOURCE, HEA_WEATHER_SOURCE, HEA_SOLAR_SOURCE,
HEA_CONSUMPTION_SOURCE, HEA_HEAT_PUMP_SOURCE, HEA_CO2_SOURCE, HEA_COMMODITY_SOURCE; all default to simulator.
"""

from __future__ import annotations

import os
from pathlib import Path

from jobs.common.protocol import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value if value else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return float(default)
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return int(default)
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def data_dir() -> Path:
    return Path(env_str("HEA_DATA_DIR", str(REPO_ROOT / "data"))).resolve()


def models_dir() -> Path:
    return Path(env_str("HEA_MODELS_DIR", str(REPO_ROOT / "models"))).resolve()


def store_url() -> str:
    return env_str("HEA_STORE_URL", f"sqlite:///{data_dir() / 'energy.db'}")


def latitude() -> float:
    return env_float("HEA_LATITUDE", 59.3)


def longitude() -> float:
    return env_float("HEA_LONGITUDE", 18.1)


def price_zone() -> str:
    return env_str("HEA_PRICE_ZONE", "SE3").upper()


def sim_seed() -> int:
    return env_int("HEA_SIM_SEED", 42)


def backfill_days() -> int:
    days = env_int("HEA_BACKFILL_DAYS", 365)
    if days < 1:
        raise ConfigError(f"HEA_BACKFILL_DAYS must be at least 1, got {days}")
    return days


def pv_kwp() -> float:
    return env_float("HEA_PV_KWP", 6.0)


def pv_tilt() -> float:
    return env_float("HEA_PV_TILT", 35.0)


def pv_azimuth() -> float:
    return env_float("HEA_PV_AZIMUTH", 0.0)


def http_timeout() -> float:
    return env_float("HEA_HTTP_TIMEOUT", 20.0)
