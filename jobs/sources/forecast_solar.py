"""PV estimates from forecast.solar (free tier: today and tomorrow, 12 calls per hour), keyless.

GET https://api.forecast.solar/estimate/{lat}/{lon}/{dec}/{az}/{kwp} (dec 0 flat .. 90 vertical; az
-180..180, 0 south, -90 east) -> {result: {watts, watt_hours_period, watt_hours, watt_hours_day},
message: {code, type, info: {timezone, ...}, ratelimit}}. Keys are local wall times "YYYY-MM-DD HH:MM:SS";
watt_hours_period is the energy of the period ending at its key. This is a forecast, not production: the
solar predict job may use it (HEA_SOLAR_FORECAST_SOURCE=forecast-solar); solar actuals come from elsewhere.
"""

from __future__ import annotations

import pandas as pd

from jobs.common.protocol import DataError
from jobs.sources import http
from jobs.sources.base import empty_series

URL = "https://api.forecast.solar/estimate"


def parse(payload) -> pd.Series:
    """-> kWh per hour on UTC hour starts (the periods ending inside an hour are summed into it)."""
    try:
        periods = payload["result"]["watt_hours_period"]
        tz = (payload.get("message", {}).get("info", {}) or {}).get("timezone") or "UTC"
    except (KeyError, TypeError, AttributeError) as err:
        raise DataError("forecast.solar: expected result.watt_hours_period") from err
    if not isinstance(periods, dict):
        raise DataError("forecast.solar: watt_hours_period is not an object")
    if not periods:
        return empty_series("forecast.solar")
    try:
        ends = pd.DatetimeIndex(pd.to_datetime(list(periods.keys()), format="%Y-%m-%d %H:%M:%S"))
        wh = pd.Series([float(v) for v in periods.values()], index=ends)
    except (TypeError, ValueError) as err:
        raise DataError(f"forecast.solar: bad key or value ({err})") from err
    # Night-time hours are the ambiguous/nonexistent ones on daylight-saving days: no sun to misplace.
    ends_utc = wh.index.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").tz_convert("UTC")
    wh.index = ends_utc
    wh = wh[wh.index.notna()]
    hour = (wh.index - pd.Timedelta(seconds=1)).floor("h")
    out = (wh.groupby(hour).sum() / 1000.0).rename("forecast.solar")
    out.index.name = "ts"
    return out


def fetch_estimate(lat: float, lon: float, tilt: float, azimuth: float, kwp: float) -> pd.Series:
    url = f"{URL}/{lat:.4f}/{lon:.4f}/{tilt:g}/{azimuth:g}/{kwp:g}"
    return parse(http.get_json(url, what="forecast.solar"))
