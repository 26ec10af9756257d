"""Time helpers shared by every job: UTC inside, local time only at the edges.

Storage and computation use tz-aware UTC timestamps. Local time (HEA_TIMEZONE, default Europe/Stockholm)
appears only where a human or a source thinks in it: "tomorrow's prices", "the day's peak hours",
local-wall-clock API keys. Daylight-saving days have 23 or 25 hours; the helpers below build them from
UTC instants, never by adding 24 hours to a local midnight.

Environment:
- HEA_NOW: ISO 8601 instant that replaces the wall clock in every job (tests, replays). A value without an
  offset is read as UTC.
- HEA_TIMEZONE: IANA zone for the home's local time (default Europe/Stockholm).
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from jobs.common.protocol import ConfigError

DEFAULT_TIMEZONE = "Europe/Stockholm"
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def local_tz() -> str:
    name = os.environ.get("HEA_TIMEZONE", "").strip() or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        # A setting, not a passing fault: exit 78, not retried.
        raise ConfigError(f"HEA_TIMEZONE is not an IANA time zone: {name!r}") from err
    return name


def to_utc(value) -> pd.Timestamp:
    """Any timestamp-like value as a tz-aware UTC Timestamp; a naive value is taken as UTC."""
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        raise ValueError(f"not a timestamp: {value!r}")
    if ts.tzinfo is None:
        return ts.tz_localize("UTC")
    return ts.tz_convert("UTC")


def now() -> pd.Timestamp:
    """The current instant in UTC, or HEA_NOW when set (so runs and tests are reproducible)."""
    fixed = os.environ.get("HEA_NOW", "").strip()
    if fixed:
        try:
            return to_utc(fixed)
        except (ValueError, TypeError) as err:
            raise ConfigError(f"HEA_NOW is not an ISO 8601 timestamp: {fixed!r}") from err
    return pd.Timestamp.now(tz="UTC")


def floor(ts, freq: str = "h") -> pd.Timestamp:
    return to_utc(ts).floor(freq)


def to_epoch_seconds(index) -> np.ndarray:
    """A tz-aware DatetimeIndex (or anything pandas can turn into one) as int64 epoch seconds.

    Naive input is rejected: guessing whether it is UTC or local is how a one-hour shift gets in.
    """
    idx = pd.DatetimeIndex(index)
    if idx.tz is None:
        raise ValueError("timestamps must be tz-aware (UTC); got a naive DatetimeIndex")
    return np.asarray((idx.tz_convert("UTC") - EPOCH) // pd.Timedelta(seconds=1), dtype=np.int64)


def from_epoch_seconds(values) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(values, dtype=np.int64), unit="s", utc=True))


def local_date(ts=None, tz: str | None = None) -> date:
    """The local calendar date of an instant (default: now)."""
    return to_utc(now() if ts is None else ts).tz_convert(tz or local_tz()).date()


def as_date(day) -> date:
    """A date from a date, a datetime/Timestamp (its own calendar date) or 'YYYY-MM-DD'."""
    if isinstance(day, datetime):
        return day.date()
    if isinstance(day, date):
        return day
    return parse_date(day)


def local_midnight(day, tz: str | None = None) -> pd.Timestamp:
    """The UTC instant of local midnight starting `day` (a date or 'YYYY-MM-DD')."""
    d = as_date(day)
    # Zones that switch at midnight have no 00:00 on that day: the day then starts at 01:00.
    return (
        pd.Timestamp(datetime(d.year, d.month, d.day))
        .tz_localize(tz or local_tz(), nonexistent="shift_forward", ambiguous=True)
        .tz_convert("UTC")
    )


def local_day_bounds(day, tz: str | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) in UTC of a local calendar day: 23, 24 or 25 hours long."""
    d = as_date(day)
    nxt = d + pd.Timedelta(days=1).to_pytimedelta()
    return local_midnight(d, tz), local_midnight(nxt, tz)


def local_day_index(day, freq: str = "h", tz: str | None = None) -> pd.DatetimeIndex:
    """The UTC interval starts of one local day: 23/24/25 hours or 92/96/100 quarter-hours."""
    start, end = local_day_bounds(day, tz)
    return pd.date_range(start, end, freq=freq, inclusive="left")


def utc_range(start, end, freq: str = "h") -> pd.DatetimeIndex:
    """Interval starts in [start, end), aligned to `freq`, tz-aware UTC."""
    s = to_utc(start).ceil(freq)
    e = to_utc(end)
    if e <= s:
        return pd.DatetimeIndex([], dtype="datetime64[us, UTC]")
    return pd.date_range(s, e, freq=freq, inclusive="left")


def parse_date(text: str) -> date:
    """'YYYY-MM-DD' (or any ISO timestamp) as a date; raises ValueError with the bad text."""
    try:
        return pd.Timestamp(text).date()
    except (ValueError, TypeError) as err:
        raise ValueError(f"not a date: {text!r}") from err


def iso(ts) -> str | None:
    """An instant as ISO 8601 UTC with a Z suffix (None stays None)."""
    if ts is None or ts is pd.NaT:
        return None
    return to_utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")
