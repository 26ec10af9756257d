"""Weather from Open-Meteo, keyless: actuals, today's forecast, and archived forecasts for training.

- forecast:  https://api.open-meteo.com/v1/forecast (past_days for the last days' actuals, forecast_days)
- archive:   https://archive-api.open-meteo.com/v1/archive (reanalysis, 2-5 days late)
- archived forecasts: https://historical-forecast-api.open-meteo.com/v1/forecast (what a model would have
  been given; train on these rather than on reanalysis)
All requests ask for timeformat=unixtime (UTC epoch seconds, so daylight-saving days need no guessing) and
wind_speed_unit=ms. Response: {hourly_units: {...}, hourly: {time: [...], temperature_2m: [...], ...}}.
Radiation is the mean over the preceding hour, so it moves back one hour to our "interval starting at ts"
convention; temperature, cloud cover and wind are instants, kept at their hour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jobs.common.protocol import DataError
from jobs.common.timeutil import from_epoch_seconds, now, to_utc
from jobs.sources import http

FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
ARCHIVE_URL = "https://archive-api.open-meteo.com/v1/archive"
HISTORICAL_FORECAST_URL = "https://historical-forecast-api.open-meteo.com/v1/forecast"
VARIABLES = {
    "temperature_2m": "temperature",
    "cloud_cover": "cloud_cover",
    "shortwave_radiation": "irradiance",
    "wind_speed_10m": "wind_speed",
}
ARCHIVE_DELAY_DAYS = 5
MAX_PAST_DAYS = 92


def _params(lat: float, lon: float, **extra) -> dict:
    return {
        "latitude": f"{lat:.4f}",
        "longitude": f"{lon:.4f}",
        "hourly": ",".join(VARIABLES),
        "timeformat": "unixtime",
        "timezone": "GMT",
        "wind_speed_unit": "ms",
        **extra,
    }


def parse(payload) -> pd.DataFrame:
    """Open-Meteo hourly JSON -> DataFrame (temperature, cloud_cover, irradiance, wind_speed) on UTC ts."""
    if not isinstance(payload, dict) or not isinstance(payload.get("hourly"), dict):
        reason = payload.get("reason") if isinstance(payload, dict) else None
        raise DataError(f"open-meteo: no hourly block in the response{': ' + str(reason) if reason else ''}")
    hourly = payload["hourly"]
    times = hourly.get("time")
    if not isinstance(times, list):
        raise DataError("open-meteo: hourly.time is missing")
    if times and isinstance(times[0], str):
        raise DataError("open-meteo: times are strings; request timeformat=unixtime")
    units = payload.get("hourly_units", {}) or {}
    try:
        index = from_epoch_seconds(np.array(times, dtype=np.int64))
        cols = {}
        for api_name, name in VARIABLES.items():
            raw = hourly.get(api_name)
            if raw is None:
                raise DataError(f"open-meteo: variable {api_name} is missing")
            if len(raw) != len(times):
                raise DataError(f"open-meteo: {api_name} has {len(raw)} values for {len(times)} times")
            cols[name] = np.array([np.nan if v is None else float(v) for v in raw], dtype=float)
    except (TypeError, ValueError) as err:
        raise DataError(f"open-meteo: non-numeric value ({err})") from err
    if str(units.get("wind_speed_10m", "m/s")).replace(" ", "") == "km/h":
        cols["wind_speed"] = cols["wind_speed"] / 3.6
    frame = pd.DataFrame(cols, index=index)
    rad = frame["irradiance"].copy()
    rad.index = rad.index - pd.Timedelta(hours=1)  # mean over the preceding hour -> interval start
    frame["irradiance"] = rad.reindex(frame.index)
    frame.index.name = "ts"
    return frame


def fetch_weather(start, end, lat: float, lon: float) -> pd.DataFrame:
    """Hourly actuals in [start, end): reanalysis for old days, the forecast API's past days for recent ones."""
    s, e = to_utc(start), min(to_utc(end), now().floor("h"))
    cutoff = (now() - pd.Timedelta(days=ARCHIVE_DELAY_DAYS)).floor("D")
    parts = []
    if s < cutoff:
        a_end = min(e, cutoff)
        payload = http.get_json(
            ARCHIVE_URL,
            _params(
                lat,
                lon,
                start_date=s.strftime("%Y-%m-%d"),
                end_date=(a_end + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
            ),
            what="open-meteo archive",
        )
        parts.append(parse(payload).loc[s : a_end - pd.Timedelta(seconds=1)])
    if e > max(s, cutoff):
        r_start = max(s, cutoff)
        past = min(MAX_PAST_DAYS, int((now() - r_start) / pd.Timedelta(days=1)) + 1)
        payload = http.get_json(
            FORECAST_URL, _params(lat, lon, past_days=past, forecast_days=1), what="open-meteo forecast"
        )
        parts.append(parse(payload).loc[r_start : e - pd.Timedelta(seconds=1)])
    if not parts:
        return pd.DataFrame(columns=list(VARIABLES.values()), index=pd.DatetimeIndex([], tz="UTC", name="ts"))
    frame = pd.concat(parts)
    return frame[~frame.index.duplicated(keep="last")].sort_index()


def fetch_forecast(lat: float, lon: float, days: int = 7) -> tuple[pd.Timestamp, pd.DataFrame]:
    """Today's forecast: (issued_at = now floored to the hour, hourly frame from then on)."""
    issued = now().floor("h")
    payload = http.get_json(
        FORECAST_URL, _params(lat, lon, forecast_days=min(16, days + 1)), what="open-meteo forecast"
    )
    frame = parse(payload)
    return issued, frame[(frame.index >= issued) & (frame.index < issued + pd.Timedelta(days=days))]


def fetch_historical_forecasts(start, end, lat: float, lon: float, issue_hour_utc: int = 6) -> pd.DataFrame:
    """Archived forecasts in [start, end) cut into daily issues at `issue_hour_utc`, long form
    (var, issued_at, ts, value). The archive stitches the first hours of successive runs, so the lead is
    shorter than a real day-ahead forecast: good for training, slightly optimistic."""
    s, e = to_utc(start), to_utc(end)
    payload = http.get_json(
        HISTORICAL_FORECAST_URL,
        _params(lat, lon, start_date=s.strftime("%Y-%m-%d"), end_date=e.strftime("%Y-%m-%d")),
        what="open-meteo historical forecast",
    )
    frame = parse(payload)
    frame = frame[(frame.index >= s) & (frame.index < e)]
    issued = (frame.index - pd.Timedelta(hours=issue_hour_utc)).floor("D") + pd.Timedelta(hours=issue_hour_utc)
    parts = [
        pd.DataFrame({"var": col, "issued_at": issued, "ts": frame.index, "value": frame[col].to_numpy()})
        for col in frame.columns
    ]
    out = pd.concat(parts, ignore_index=True)
    return out.dropna(subset=["value"])
