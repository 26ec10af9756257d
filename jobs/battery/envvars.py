"""Numbers from environment variables, checked against a range (a bad value names the variable)."""

from __future__ import annotations

import math
import os

from jobs.common.protocol import ConfigError


def env_float(name: str, default: float, lo: float | None = None, hi: float | None = None) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as err:
        raise ConfigError(f"{name}={raw!r} is not a number") from err
    if not math.isfinite(value) or (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"{name}={raw!r} is out of range [{lo}, {hi}]")
    return value
