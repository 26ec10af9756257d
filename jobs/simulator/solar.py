"""Solar geometry and PV physics (vectorised), used by the simulator and reusable by models.

Public functions:
- sun_position(index, lat, lon) -> (elevation_deg, azimuth_deg): NOAA approximation, azimuth 0 = south,
  negative = east (the forecast.solar convention).
- clear_sky_ghi(elevation_deg) -> W/m2 (Haurwitz).
- interval_mid(index, minutes=60): the midpoint of each interval, where hourly means are best evaluated.
- pv_power_kw(index, ghi, temperature, lat, lon, kwp, tilt, azimuth) -> mean kW over each interval
  (= kWh per hour for hourly data): Erbs decomposition, isotropic-sky transposition, temperature
  derating, system losses, inverter clipping.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jobs.common.timeutil import to_epoch_seconds


def interval_mid(index: pd.DatetimeIndex, minutes: float = 60.0) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(index) + pd.Timedelta(minutes=minutes / 2.0)


def sun_position(index: pd.DatetimeIndex, lat: float, lon: float) -> tuple[np.ndarray, np.ndarray]:
    """Solar elevation and azimuth in degrees for each instant (UTC)."""
    secs = to_epoch_seconds(index).astype(np.float64)
    jd = secs / 86400.0 + 2440587.5
    n = jd - 2451545.0
    # mean longitude and anomaly (degrees), ecliptic longitude, obliquity: the Astronomical Almanac's short form
    L = np.mod(280.460 + 0.9856474 * n, 360.0)
    g = np.radians(np.mod(357.528 + 0.9856003 * n, 360.0))
    lam = np.radians(L + 1.915 * np.sin(g) + 0.020 * np.sin(2 * g))
    eps = np.radians(23.439 - 0.0000004 * n)
    ra = np.arctan2(np.cos(eps) * np.sin(lam), np.cos(lam))
    dec = np.arcsin(np.sin(eps) * np.sin(lam))
    gmst_hours = np.mod(18.697374558 + 24.06570982441908 * n, 24.0)
    lst = np.radians(gmst_hours * 15.0 + lon)
    ha = lst - ra
    phi = np.radians(lat)
    sin_el = np.sin(phi) * np.sin(dec) + np.cos(phi) * np.cos(dec) * np.cos(ha)
    el = np.arcsin(np.clip(sin_el, -1.0, 1.0))
    # azimuth from south, positive towards west
    az = np.arctan2(np.sin(ha), np.cos(ha) * np.sin(phi) - np.tan(dec) * np.cos(phi))
    return np.degrees(el), np.degrees(az)


def clear_sky_ghi(elevation_deg: np.ndarray) -> np.ndarray:
    cz = np.sin(np.radians(np.asarray(elevation_deg, dtype=float)))
    out = np.where(cz > 0.01, 1098.0 * cz * np.exp(-0.057 / np.maximum(cz, 0.01)), 0.0)
    return out


def cloud_attenuation(cloud_cover_pct: np.ndarray) -> np.ndarray:
    """Kasten-Czeplak: the share of clear-sky GHI that gets through a given cloud cover."""
    c = np.clip(np.asarray(cloud_cover_pct, dtype=float), 0.0, 100.0) / 100.0
    return 1.0 - 0.75 * c**3.4


def pv_power_kw(
    index: pd.DatetimeIndex,
    ghi: np.ndarray,
    temperature: np.ndarray,
    lat: float,
    lon: float,
    kwp: float = 6.0,
    tilt: float = 35.0,
    azimuth: float = 0.0,
    minutes: float = 60.0,
    system_efficiency: float = 0.86,
) -> np.ndarray:
    """Mean AC power (kW) of a PV array over each interval from GHI (W/m2) and air temperature (degC)."""
    ghi = np.clip(np.asarray(ghi, dtype=float), 0.0, None)
    temp = np.asarray(temperature, dtype=float)
    el, az = sun_position(interval_mid(index, minutes), lat, lon)
    cz = np.sin(np.radians(el))
    up = cz > 0.02
    # Erbs: diffuse fraction from the clearness index
    extra = 1361.0 * np.maximum(cz, 1e-6)
    kt = np.where(up, np.clip(ghi / extra, 0.0, 1.0), 0.0)
    kd = np.where(
        kt <= 0.22,
        1.0 - 0.09 * kt,
        np.where(kt <= 0.8, 0.9511 - 0.1604 * kt + 4.388 * kt**2 - 16.638 * kt**3 + 12.336 * kt**4, 0.165),
    )
    dhi = ghi * kd
    dni = np.where(up, (ghi - dhi) / np.maximum(cz, 0.05), 0.0)
    t, a = np.radians(tilt), np.radians(azimuth)
    zen = np.radians(90.0 - el)
    cos_aoi = np.cos(zen) * np.cos(t) + np.sin(zen) * np.sin(t) * np.cos(np.radians(az) - a)
    poa = dni * np.clip(cos_aoi, 0.0, None) + dhi * (1 + np.cos(t)) / 2 + ghi * 0.2 * (1 - np.cos(t)) / 2
    poa = np.where(up, poa, 0.0)
    t_cell = temp + poa / 800.0 * 25.0
    derate = 1.0 - 0.004 * (t_cell - 25.0)
    p = kwp * poa / 1000.0 * derate * system_efficiency
    return np.clip(p, 0.0, kwp * 0.95)
