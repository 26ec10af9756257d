"""Import measured data (consumption, heat pump, solar actuals, meters) from a CSV file or an HTTP URL.

Format (CSV, or JSON: an array of objects with the same keys):

    timestamp,consumption,heat_pump,indoor_temperature
    2025-01-15T00:00:00+01:00,1.42,0.61,21.2
    2025-01-15T01:00:00+01:00,1.35,0.58,21.1

- `timestamp` (or `ts`, `time`, `start`): the interval START, ISO 8601. With an offset or Z it is exact;
  without one it is read in HEA_CSV_TIMEZONE (default UTC; e.g. Europe/Stockholm for a local export, the
  repeated hour on the autumn daylight-saving night resolved by order). Epoch seconds work too.
- one column per quantity, named for it: energy columns are kWh per interval and are summed to hours
  (15-minute exports are fine); temperatures are averaged. A column `value` stands for the job's main
  quantity. Intervals longer than an hour are refused (the store holds hourly energy).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from jobs.common import settings
from jobs.common.protocol import ConfigError, DataError, NoInputError
from jobs.common.timeutil import to_utc
from jobs.sources import http

TIME_COLUMNS = ("timestamp", "ts", "time", "start", "datetime")


def read_table(location: str) -> pd.DataFrame:
    """A CSV/JSON table from a path or an http(s) URL."""
    if location.startswith(("http://", "https://")):
        resp = http.get(location, what=f"import {location}")
        text = resp.text
        is_json = "json" in resp.headers.get("Content-Type", "") or text.lstrip().startswith("[")
    else:
        path = Path(location)
        if not path.exists():
            raise NoInputError(f"import file {path} does not exist")
        text = path.read_text(encoding="utf-8-sig")
        is_json = path.suffix.lower() == ".json"
    try:
        if is_json:
            rows = json.loads(text)
            if not isinstance(rows, list):
                raise DataError(f"import {location}: expected a JSON array of objects")
            return pd.DataFrame.from_records(rows)
        return pd.read_csv(io.StringIO(text))
    except (ValueError, TypeError) as err:
        raise DataError(f"import {location}: not a CSV/JSON table ({err})") from err


def parse_times(raw: pd.Series, naive_tz: str) -> pd.DatetimeIndex:
    if pd.api.types.is_numeric_dtype(raw):
        return pd.DatetimeIndex(pd.to_datetime(raw.astype("int64"), unit="s", utc=True))
    text = raw.astype(str).str.strip()
    has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    if has_offset.all():
        return pd.DatetimeIndex(pd.to_datetime(text, utc=True, format="ISO8601"))
    if has_offset.any():
        raise DataError("import: some timestamps have a UTC offset and some do not")
    naive = pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601"))
    try:
        return naive.tz_localize(naive_tz, ambiguous="infer", nonexistent="NaT").tz_convert("UTC")
    except Exception as err:  # pytz/zoneinfo raise several types for an ambiguity they cannot infer
        raise DataError(f"import: cannot place local times in {naive_tz} ({err}); export with UTC offsets") from err


def to_hourly(frame: pd.DataFrame, columns: dict[str, tuple[str, str]], main: str | None = None) -> dict[str, pd.Series]:
    """{column: (series name, "sum" or "mean")} -> {series name: hourly Series on UTC hour starts}."""
    tcol = next((c for c in frame.columns if str(c).strip().lower() in TIME_COLUMNS), None)
    if tcol is None:
        raise DataError(f"import: no timestamp column (one of {', '.join(TIME_COLUMNS)}) in {list(frame.columns)}")
    cols = dict(columns)
    if main and "value" in frame.columns and main not in frame.columns:
        cols["value"] = cols[main]
    present = [c for c in cols if c in frame.columns]
    if not present:
        raise DataError(f"import: none of the columns {', '.join(cols)} is in {list(frame.columns)}")
    naive_tz = settings.env_str("HEA_CSV_TIMEZONE", "UTC")
    index = parse_times(frame[tcol], naive_tz)
    ok = np.asarray(~index.isna())
    out = {}
    for col in present:
        name, how = cols[col]
        vals = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        s = pd.Series(vals, index=index)[ok].dropna()
        s = s[~s.index.duplicated(keep="last")].sort_index()
        if len(s) > 2:
            step = pd.Series(s.index).diff().median()
            if step > pd.Timedelta(hours=1):
                raise DataError(f"import: {col} has {step} steps; hourly or finer is needed")
        hours = s.index.floor("h")
        hourly = s.groupby(hours).sum() if how == "sum" else s.groupby(hours).mean()
        hourly.index.name = "ts"
        out[name] = hourly.rename(name).astype(float)
    return out


def import_series(location: str | None, env_name: str, columns: dict[str, tuple[str, str]], main: str, start=None, end=None) -> dict[str, pd.Series]:
    if not location:
        raise ConfigError(f"{env_name} is not set: the path or URL of the CSV/JSON to import")
    data = to_hourly(read_table(location), columns, main)
    if start is not None:
        data = {k: v[v.index >= to_utc(start)] for k, v in data.items()}
    if end is not None:
        data = {k: v[v.index < to_utc(end)] for k, v in data.items()}
    return data
