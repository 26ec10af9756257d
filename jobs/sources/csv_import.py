"""Import measured data (consumption, heat pump, solar actuals, meters) from a CSV file or an HTTP URL.

Format (CSV, or JSON: an array of objects with the same keys):

    timestamp,consumption,heat_pump,indoor_temperature
    2025-01-15T00:00:00+01:00,1.42,0.61,21.2
    2025-01-15T01:00:00+01:00,1.35,0.58,21.1

- `timestamp` (or `ts`, `time`, `start`): the interval START, ISO 8601. With an offset or Z it is exact;
  without one it is read in HEA_CSV_TIMEZONE (default UTC; e.g. Europe/Stockholm for a local export, the
  repeated hour on the autumn daylight-saving night resolved by order). Epoch seconds work too.
- one column per quantity, named for it: energy columns are kWh per interval and are summed to hours
  (15-minute exports are fine); prices and temperatures are averaged (what a series is, and so how it
  aggregates, is `jobs.common.store.SERIES_KINDS`; an unknown series is refused rather than guessed).
  A column `value` stands for the job's main quantity. Intervals longer than an hour are refused.
- units: a column name may end in its unit (`price_eur_mwh`, `price_eur_kwh`, `kwh`, `pv_kwh`, `energy_wh`,
  `energy_mwh`), or the unit is stated (`--unit`, HEA_<KIND>_UNIT); values are converted to the series'
  unit (EUR/kWh x 1000 = EUR/MWh, Wh / 1000 = kWh) and a unit that cannot be converted is refused. Without
  a stated unit, a price series 1000x off the prices already stored is refused too.
- `.csv.gz` files are read as gzip.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from jobs.common import settings
from jobs.common.protocol import ConfigError, DataError, NoInputError
from jobs.common.store import series_kind
from jobs.common.timeutil import to_utc
from jobs.sources import http

TIME_COLUMNS = ("timestamp", "timestamp_utc", "ts", "time", "start", "datetime")

# A column name's ending -> its unit; the EUR ones first ("price_eur_mwh" also ends in "_mwh").
UNIT_SUFFIXES = (("eur_mwh", "EUR/MWh"), ("eur_kwh", "EUR/kWh"), ("mwh", "MWh"), ("kwh", "kWh"), ("wh", "Wh"))
# (from, to) -> factor
CONVERSIONS = {
    ("EUR/MWh", "EUR/MWh"): 1.0,
    ("EUR/kWh", "EUR/MWh"): 1000.0,
    ("EUR/Wh", "EUR/MWh"): 1e6,
    ("kWh", "kWh"): 1.0,
    ("Wh", "kWh"): 1e-3,
    ("MWh", "kWh"): 1000.0,
}
UNIT_ALIASES = {
    u.lower().replace(" ", ""): u
    for u in ["EUR/MWh", "EUR/kWh", "EUR/Wh", "kWh", "Wh", "MWh", "degC", "m3", "%", "W/m2", "m/s", "EUR/t", "USD/t"]
}


def normalise_unit(unit: str | None) -> str | None:
    if unit is None or not str(unit).strip():
        return None
    key = str(unit).strip().lower().replace(" ", "").replace("€", "eur")
    if key not in UNIT_ALIASES:
        raise ConfigError(f"unit {unit!r} is not one of {', '.join(UNIT_ALIASES.values())}")
    return UNIT_ALIASES[key]


def column_unit(column: str) -> str | None:
    """The unit a column's name states (`price_eur_mwh` -> EUR/MWh, `pv_kwh` -> kWh), or None."""
    key = str(column).strip().lower()
    for suffix, unit in UNIT_SUFFIXES:
        if key == suffix or key.endswith("_" + suffix):
            return unit
    return None


def convert(values: pd.Series, unit: str | None, series: str) -> pd.Series:
    """`values` in `unit` converted to the unit of `series`; refuses a unit that does not convert."""
    spec = series_kind(series)
    if unit is None or spec is None:
        return values
    target = spec[1]
    factor = CONVERSIONS.get((unit, target))
    if factor is None:
        if unit == target:
            return values
        raise DataError(f"import: {series} is stored in {target}; the data is in {unit}, which does not convert")
    return values * factor


def aggregation(series: str, how: str | None) -> str:
    """How `series` aggregates to hours: the stated `how`, else by what the series is; never a guess."""
    spec = series_kind(series)
    if how is None:
        if spec is None:
            raise DataError(
                f"import: {series} is not a known kind of series, so whether its values add up "
                f"(energy) or average (prices, temperatures) is unknown: pass --how sum or --how mean"
            )
        return spec[2]
    if spec is not None and how != spec[2]:
        raise DataError(f"import: {series} is a {spec[0]} series ({spec[1]}), which aggregates by {spec[2]}, not {how}")
    return how


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
        raw = path.read_bytes()
        if path.suffix.lower() == ".gz":
            try:
                raw = gzip.decompress(raw)
            except OSError as err:
                raise DataError(f"import {location}: not a gzip file ({err})") from err
        text = raw.decode("utf-8-sig")
        is_json = path.name.lower().removesuffix(".gz").endswith(".json")
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


def to_hourly(
    frame: pd.DataFrame, columns: dict[str, tuple[str, str | None]], main: str | None = None, unit: str | None = None
) -> dict[str, pd.Series]:
    """{column: (series name, "sum", "mean" or None = by the series' kind)} -> {series name: hourly Series on
    UTC hour starts}. `unit` states the unit of columns whose name does not; values are converted to the
    series' unit. Several columns may name the same series (aliases): the first present one is used."""
    tcol = next((c for c in frame.columns if str(c).strip().lower() in TIME_COLUMNS), None)
    if tcol is None:
        raise DataError(f"import: no timestamp column (one of {', '.join(TIME_COLUMNS)}) in {list(frame.columns)}")
    cols = dict(columns)
    if main and "value" in frame.columns and main not in frame.columns:
        cols["value"] = cols[main]
    present, taken = [], set()
    for c in cols:
        if c in frame.columns and cols[c][0] not in taken:
            present.append(c)
            taken.add(cols[c][0])
    if not present:
        raise DataError(f"import: none of the columns {', '.join(cols)} is in {list(frame.columns)}")
    naive_tz = settings.env_str("HEA_CSV_TIMEZONE", "UTC")
    index = parse_times(frame[tcol], naive_tz)
    ok = np.asarray(~index.isna())
    out = {}
    for col in present:
        name, how = cols[col]
        how = aggregation(name, how)
        stated = column_unit(col)
        if stated and unit and stated != unit:
            raise DataError(f"import: column {col} says {stated} but the unit given is {unit}")
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
        hourly = convert(hourly, stated or unit, name).rename(name).astype(float)
        hourly.attrs.update(column=col, unit=stated or unit, how=how)
        out[name] = hourly
    return out


def check_scale(values: pd.Series, stored: pd.Series, name: str) -> None:
    """Refuse an import whose typical magnitude is 1000x off what the series already holds (EUR/kWh data
    without a stated unit into an EUR/MWh series, Wh into kWh)."""
    a = float(np.nanmedian(np.abs(values.to_numpy()))) if len(values) >= 24 else np.nan
    b = float(np.nanmedian(np.abs(stored.to_numpy()))) if len(stored) >= 24 else np.nan
    if not (np.isfinite(a) and np.isfinite(b)) or min(a, b) <= 0:
        return
    ratio = max(a, b) / min(a, b)
    if ratio >= 100:
        raise DataError(
            f"import: the new {name} values are typically {a:.4g}, the stored ones {b:.4g} "
            f"({ratio:.0f}x apart): a unit mix-up? State the unit (--unit, HEA_<KIND>_UNIT, or a "
            f"column name like price_eur_mwh)"
        )


def import_series(
    location: str | None,
    env_name: str,
    columns: dict[str, tuple[str, str | None]],
    main: str,
    start=None,
    end=None,
    unit: str | None = None,
) -> dict[str, pd.Series]:
    if not location:
        raise ConfigError(f"{env_name} is not set: the path or URL of the CSV/JSON to import")
    data = to_hourly(read_table(location), columns, main, unit)
    if start is not None:
        data = {k: v[v.index >= to_utc(start)] for k, v in data.items()}
    if end is not None:
        data = {k: v[v.index < to_utc(end)] for k, v in data.items()}
    for v in data.values():
        v.attrs["origin"] = location
    return data
