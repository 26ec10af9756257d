"""Small helpers shared by the source adapters."""

from __future__ import annotations

import pandas as pd


def empty_series(name: str) -> pd.Series:
    return pd.Series([], index=pd.DatetimeIndex([], tz="UTC", name="ts"), dtype=float, name=name)


def trim(s: pd.Series, start, end) -> pd.Series:
    from jobs.common.timeutil import to_utc

    return s[(s.index >= to_utc(start)) & (s.index < to_utc(end))]
