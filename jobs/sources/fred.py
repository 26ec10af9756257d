"""Monthly gas and coal benchmarks from FRED (St. Louis Fed) CSV downloads, keyless.

There is no clean keyless *daily* TTF or coal series, so these are MONTHLY averages, stamped at 00:00 UTC
of the month's first day (the fetch job says so in its result):
- PNGASEUUSDM: natural gas, EU (TTF), USD per MMBtu -> EUR/MWh with EXUSEU (USD per EUR, monthly);
- PCOALAUUSDM: coal, Australia (Newcastle), USD per metric ton.
GET https://fred.stlouisfed.org/graph/fredgraph.csv?id=<ID>; the date column was once DATE and is now
observation_date; "." marks a missing month.
"""

from __future__ import annotations

import io

import pandas as pd

from jobs.common.protocol import DataError
from jobs.common.timeutil import to_utc
from jobs.sources import http

URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
MWH_PER_MMBTU = 0.29307107


def parse_csv(text_or_frame, series_id: str) -> pd.Series:
    frame = text_or_frame if isinstance(text_or_frame, pd.DataFrame) else pd.read_csv(io.StringIO(text_or_frame))
    date_col = next((c for c in frame.columns if c.strip().lower() in ("observation_date", "date")), None)
    if date_col is None or series_id not in frame.columns:
        raise DataError(
            f"FRED {series_id}: expected columns observation_date (or DATE) and {series_id}, got {list(frame.columns)}"
        )
    try:
        idx = pd.to_datetime(frame[date_col], utc=True, format="%Y-%m-%d")
    except (ValueError, TypeError) as err:
        raise DataError(f"FRED {series_id}: bad date ({err})") from err
    vals = pd.to_numeric(frame[series_id].replace(".", None), errors="coerce")
    s = pd.Series(vals.to_numpy(dtype=float), index=pd.DatetimeIndex(idx), name=series_id).dropna()
    s.index.name = "ts"
    return s.sort_index()


def fetch_series(series_id: str) -> pd.Series:
    return parse_csv(http.get_csv(URL, {"id": series_id}, what=f"FRED {series_id}"), series_id)


def gas_eur_per_mwh(gas_usd_mmbtu: pd.Series, usd_per_eur: pd.Series) -> pd.Series:
    fx = usd_per_eur.reindex(gas_usd_mmbtu.index).ffill().bfill()
    return (gas_usd_mmbtu / MWH_PER_MMBTU / fx).dropna().rename("commodity.gas")


def fetch_gas_coal(start, end) -> dict[str, pd.Series]:
    s, e = to_utc(start), to_utc(end)
    # a month stamped before `start` still covers it: keep the month that contains start
    month0 = s.tz_localize(None).to_period("M").to_timestamp().tz_localize("UTC")
    gas = gas_eur_per_mwh(fetch_series("PNGASEUUSDM"), fetch_series("EXUSEU"))
    coal = fetch_series("PCOALAUUSDM").rename("commodity.coal")
    return {
        k: v[(v.index >= month0) & (v.index < e)] for k, v in {"commodity.gas": gas, "commodity.coal": coal}.items()
    }
