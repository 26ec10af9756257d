"""What the predict jobs (prices, demand, solar) share: checking their input, and summing what they wrote."""

from __future__ import annotations

import pandas as pd

from jobs.common import settings, timeutil
from jobs.common.protocol import DataError, UsageError


def check_horizon(horizon_days: float) -> None:
    if not horizon_days > 0:
        raise UsageError("--horizon-days must be positive", field="horizon_days")


def newest_hour(series: pd.Series, now: pd.Timestamp, what: str, stale_setting: str) -> pd.Timestamp:
    """The newest hour of `series` (non-empty); DataError (exit 65) when it is older than the setting's days
    (default 7): a forecast from stale history would pass for a fresh one."""
    last = series.index.max()
    stale = settings.env_float(stale_setting, 7.0)
    if now - last > pd.Timedelta(days=stale):
        raise DataError(f"the newest {what} is from {timeutil.iso(last)}, more than {stale:g} days ago")
    return last


def per_local_day(values: pd.Series, tz: str | None = None) -> dict[str, float]:
    """Sums per local day (kWh per day of an hourly energy forecast), rounded to 0.01."""
    tz = tz or timeutil.local_tz()
    per_day = values.groupby(values.index.tz_convert(tz).date).sum()
    return {str(d): round(float(v), 2) for d, v in per_day.items()}
