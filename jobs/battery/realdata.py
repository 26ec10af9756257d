"""Real price zones and real households, paired into battery scenarios (the layout of ../shared/data/real).

    <dir>/prices/price_<ZONE>[_<YEAR>].csv.gz      timestamp_utc, price_eur_mwh
    <dir>/households/household_<name>.csv.gz       timestamp_utc, kwh[, pv_kwh]

The households come from other places and years than the prices (Sydney 2011-12, London 2011-14), so each
household is laid onto each zone's calendar: every local day of the zone takes the household's local day
with the same weekday and the nearest day of the year (seasons aligned: a southern-hemisphere home is shifted
by half a year, so its summer PV lands in the zone's summer), hour by local hour. Days with missing hours in
the household are not used as donors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from jobs.common.protocol import DataError, NoInputError

ZONE_TZ = {
    "DK": "Europe/Copenhagen",
    "SE": "Europe/Stockholm",
    "NO": "Europe/Oslo",
    "DE": "Europe/Berlin",
    "BE": "Europe/Brussels",
    "FR": "Europe/Paris",
    "NL": "Europe/Amsterdam",
    "FI": "Europe/Helsinki",
}
# household name prefix -> (local time zone, southern hemisphere)
HOUSEHOLD_PLACES = {"ausgrid": ("Australia/Sydney", True), "london": ("Europe/London", False)}


@dataclass
class Household:
    name: str
    tz: str
    southern: bool
    load: pd.Series  # kWh per hour, UTC
    pv: pd.Series | None


def zone_name(path: Path) -> str:
    return re.sub(r"_\d{4}$", "", path.name.removeprefix("price_").removesuffix(".csv.gz"))


def zone_tz(zone: str) -> str:
    return ZONE_TZ.get(zone[:2].upper(), "Europe/Berlin")


def load_prices(data_dir: Path) -> dict[str, pd.Series]:
    files = sorted((data_dir / "prices").glob("price_*.csv.gz"))
    if not files:
        raise NoInputError(f"no prices/price_*.csv.gz under {data_dir}")
    out = {}
    for f in files:
        s = pd.read_csv(f, parse_dates=["timestamp_utc"], index_col="timestamp_utc")["price_eur_mwh"]
        s.index = pd.DatetimeIndex(s.index).tz_convert("UTC")
        s = s.sort_index().resample("h").mean().interpolate(limit=3)
        if s.isna().any():
            raise DataError(f"{f.name}: {int(s.isna().sum())} hours missing in gaps longer than 3 h")
        out[zone_name(f)] = s
    return out


def load_households(data_dir: Path) -> dict[str, Household]:
    files = sorted((data_dir / "households").glob("household_*.csv.gz"))
    if not files:
        raise NoInputError(f"no households/household_*.csv.gz under {data_dir}")
    out = {}
    for f in files:
        name = f.name.removeprefix("household_").removesuffix(".csv.gz")
        df = pd.read_csv(f, parse_dates=["timestamp_utc"], index_col="timestamp_utc")
        df.index = pd.DatetimeIndex(df.index).tz_convert("UTC")
        if "kwh" not in df.columns:
            raise DataError(f"{f.name}: no kwh column")
        tz, southern = next((v for k, v in HOUSEHOLD_PLACES.items() if name.startswith(k)), ("UTC", False))
        pv = df["pv_kwh"].clip(lower=0) if "pv_kwh" in df.columns else None
        out[name] = Household(name, tz, southern, df["kwh"].astype(float), pv)
    return out


def _daily_matrix(series: pd.Series, tz: str) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Local days x 24 local hours (a repeated autumn hour averaged, a skipped spring hour interpolated)."""
    local = series.tz_convert(tz)
    frame = pd.DataFrame(
        {"day": local.index.tz_localize(None).normalize(), "hour": local.index.hour, "v": local.to_numpy()}
    )
    mat = frame.pivot_table(index="day", columns="hour", values="v", aggfunc="mean", dropna=False)
    mat = mat.reindex(columns=range(24))
    # one missing hour inside a day (DST) is filled from its neighbours; longer holes stay and disqualify
    mat = mat.T.interpolate(limit=1, limit_area="inside").T
    return pd.DatetimeIndex(mat.index), mat.to_numpy(dtype=float)


def pair(house: Household, index: pd.DatetimeIndex, tz: str) -> pd.DataFrame:
    """The household's load and PV laid on `index` (UTC hours of a zone whose local time is `tz`)."""
    days, load_mat = _daily_matrix(house.load, house.tz)
    pv_mat = _daily_matrix(house.pv, house.tz)[1] if house.pv is not None else np.zeros_like(load_mat)
    pv_mat = np.nan_to_num(pv_mat)
    ok = np.isfinite(load_mat).all(axis=1)
    days, load_mat, pv_mat = days[ok], load_mat[ok], pv_mat[ok]
    if len(days) < 7:
        raise DataError(f"household {house.name}: fewer than 7 complete days")
    shift = 182 if house.southern else 0
    donor_doy = (days.dayofyear.to_numpy() - 1 + shift) % 365
    donor_dow = days.dayofweek.to_numpy()
    local = index.tz_convert(tz)
    tdays = local.tz_localize(None).normalize()
    uniq = pd.DatetimeIndex(tdays.unique())
    choice = {}
    for day in uniq:
        cand = np.flatnonzero(donor_dow == day.dayofweek)
        d = np.abs(donor_doy[cand] - (day.dayofyear - 1))
        d = np.minimum(d, 365 - d)
        choice[day] = cand[int(np.argmin(d))]
    rows = np.array([choice[d] for d in tdays])
    hours = local.hour.to_numpy()
    return pd.DataFrame({"load": load_mat[rows, hours], "pv": pv_mat[rows, hours]}, index=index)
