"""A deterministic simulated home and market: weather, spot prices, commodities, consumption, heat pump, PV.

Every value is a pure function of (seed, location, time): re-simulating any window gives the same numbers,
so a fetch from the simulator is idempotent and a backfill in chunks equals one in a single go. All inputs
and outputs are tz-aware UTC; hourly values belong to the interval starting at the timestamp. Local time
(HEA_TIMEZONE) drives only human behaviour: sleep, work, cooking, weekends.

    from jobs.simulator import Simulator
    sim = Simulator.from_env()                 # HEA_SIM_SEED, HEA_LATITUDE/LONGITUDE, HEA_PRICE_ZONE, HEA_PV_*
    w = sim.weather(start, end)                # temperature, cloud_cover, irradiance, wind_speed
    f = sim.weather_forecasts(first_issue, last_issue)   # var, issued_at, ts, value (lead 0..168 h)
    p = sim.prices(start, end)                 # EUR/MWh, hourly
    c = sim.commodities(start, end)            # gas, coal, co2: weekdays at 00:00 UTC
    h = sim.home(start, end)                   # consumption, heat_pump, indoor_temperature, occupancy, cop
    s = sim.solar(start, end)                  # PV kWh per hour

What there is to learn (and what the seasonal-naive baselines miss):
- prices follow residual demand (heating load from temperature, wind, sun, weekday/hour shape) through a
  convex merit order priced at gas and CO2; hydro level drifts over weeks; rare spikes, negative hours
  when wind and sun meet low demand;
- consumption follows a hidden occupancy process (0 away, 1 home awake, 2 asleep: sleep and work times
  vary per day, weekends differ, weekend outings, vacations) plus a heat pump whose electric load follows
  a smoothed outdoor temperature through a COP that falls with cold, with an auxiliary heater below its
  capacity;
- weather forecasts are issued daily at 06:00 UTC for 168 hours, errors growing with lead time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from jobs.common import settings
from jobs.common.timeutil import local_tz, to_utc, utc_range
from jobs.simulator import noise
from jobs.simulator.solar import clear_sky_ghi, cloud_attenuation, pv_power_kw, sun_position

HOUR = pd.Timedelta(hours=1)
FORECAST_ISSUE_HOUR_UTC = 6
FORECAST_HORIZON_HOURS = 168
WEATHER_VARS = ("temperature", "cloud_cover", "irradiance", "wind_speed")
ZONE_LEVEL = {"SE1": 0.55, "SE2": 0.6, "SE3": 1.0, "SE4": 1.2, "NO1": 0.95, "DK1": 1.15, "DK2": 1.2, "FI": 1.0}
# Fixed-date Swedish public holidays (month, day): they look like Sundays to the grid and the household.
HOLIDAYS = {(1, 1), (1, 6), (5, 1), (6, 6), (12, 24), (12, 25), (12, 26), (12, 31)}
THERMAL_TAU_HOURS = 10.0  # the house's thermal inertia: heat demand follows a smoothed outdoor temperature
THERMAL_PAD_HOURS = 48


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Simulator:
    seed: int = 42
    lat: float = 59.3
    lon: float = 18.1
    zone: str = "SE3"
    kwp: float = 6.0
    tilt: float = 35.0
    azimuth: float = 0.0
    tz: str = "Europe/Stockholm"

    @classmethod
    def from_env(cls) -> Simulator:
        return cls(
            seed=settings.sim_seed(),
            lat=settings.latitude(),
            lon=settings.longitude(),
            zone=settings.price_zone(),
            kwp=settings.pv_kwp(),
            tilt=settings.pv_tilt(),
            azimuth=settings.pv_azimuth(),
            tz=local_tz(),
        )

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def hourly_index(start, end) -> pd.DatetimeIndex:
        """Hour starts in [start, end) (start rounded up to the hour), UTC."""
        return utc_range(start, end, "h")

    def _season(self, t_hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cos of the annual phase, winter factor 0..1): coldest around 20 January."""
        doy = np.mod(t_hours / 24.0, 365.2425)
        c = np.cos(2 * np.pi * (doy - 20.0) / 365.2425)
        return c, (c + 1.0) / 2.0

    # ------------------------------------------------------------------ weather
    def _weather_latent(self, t: np.ndarray) -> dict[str, np.ndarray]:
        s = self.seed
        season, winter = self._season(t)
        cloud_z = (
            0.9 * noise.smooth_noise(s, "cloud.slow", t, 30.0)
            + 0.45 * noise.smooth_noise(s, "cloud.fast", t, 6.0)
            + 0.35 * winter
        )
        temp_anom = (1.0 + 0.7 * winter) * (
            2.6 * noise.smooth_noise(s, "temp.synoptic", t, 72.0)
            + 1.6 * noise.smooth_noise(s, "temp.monthly", t, 24.0 * 20)
            + 0.5 * noise.smooth_noise(s, "temp.fast", t, 8.0)
        )
        wind_z = 0.45 * noise.smooth_noise(s, "wind.slow", t, 36.0) + 0.2 * noise.smooth_noise(s, "wind.fast", t, 5.0)
        return {"cloud_z": cloud_z, "temp_anom": temp_anom, "wind_z": wind_z, "season": season, "winter": winter}

    def _weather_from_latent(self, index: pd.DatetimeIndex, lat: dict[str, np.ndarray]) -> pd.DataFrame:
        t = noise.hours_since_epoch(index) + 0.5  # hourly means: evaluate mid-interval
        winter = lat["winter"]
        cloud = 100.0 * _sigmoid(2.2 * lat["cloud_z"] + 0.35)
        el, _ = sun_position(index + pd.Timedelta(minutes=30), self.lat, self.lon)
        ghi = clear_sky_ghi(el) * cloud_attenuation(cloud)
        solar_hour = np.mod(t + self.lon / 15.0, 24.0)
        summer = 1.0 - winter
        daily_amp = (1.8 + 3.2 * summer) * (1.0 - 0.6 * cloud / 100.0)
        temp = (
            7.3
            - 9.8 * lat["season"]
            + daily_amp * np.cos(2 * np.pi * (solar_hour - 14.5) / 24.0)
            + lat["temp_anom"]
            - 2.5 * winter * (1.0 - cloud / 100.0)  # clear winter skies radiate heat away
        )
        wind = np.minimum(24.0, np.exp(np.log(3.4) + lat["wind_z"] + 0.25 * winter)) * (
            1.0 + 0.15 * np.cos(2 * np.pi * (solar_hour - 14.0) / 24.0)
        )
        return pd.DataFrame(
            {
                "temperature": np.round(temp, 2),
                "cloud_cover": np.round(cloud, 1),
                "irradiance": np.round(ghi, 1),
                "wind_speed": np.round(wind, 2),
            },
            index=index,
        )

    def weather(self, start, end) -> pd.DataFrame:
        """Hourly actual weather in [start, end): degC, %, W/m2 (GHI mean), m/s."""
        index = self.hourly_index(start, end)
        t = noise.hours_since_epoch(index) + 0.5
        frame = self._weather_from_latent(index, self._weather_latent(t))
        frame.index.name = "ts"
        return frame

    @staticmethod
    def forecast_issues(start, end) -> pd.DatetimeIndex:
        """Issue times (daily at 06:00 UTC) in [start, end)."""
        s, e = to_utc(start), to_utc(end)
        first = s.floor("D") + pd.Timedelta(hours=FORECAST_ISSUE_HOUR_UTC)
        if first < s:
            first += pd.Timedelta(days=1)
        if first >= e:
            return pd.DatetimeIndex([], dtype="datetime64[us, UTC]")
        return pd.date_range(first, e, freq="D", inclusive="left")

    def weather_forecast(self, issued_at, horizon_hours: int = FORECAST_HORIZON_HOURS) -> pd.DataFrame:
        """One issue: hourly forecasts for the `horizon_hours` after `issued_at` (one column per variable)."""
        issued = to_utc(issued_at).floor("h")
        index = pd.date_range(issued, periods=horizon_hours, freq="h")
        t = noise.hours_since_epoch(index) + 0.5
        lead = t - noise.hours_since_epoch(pd.DatetimeIndex([issued]))[0]
        lat = self._weather_latent(t)
        key = int(noise.hours_since_epoch(pd.DatetimeIndex([issued]))[0])
        s = self.seed

        def err(name: str, period: float) -> np.ndarray:
            return noise.smooth_noise(s, noise.stream_id(name) * 1_000_003 + key, t, period)

        # Errors grow with lead time and saturate near climatology; each issue has its own error path.
        lat = dict(lat)
        lat["temp_anom"] = lat["temp_anom"] + np.minimum(0.6 + 0.03 * lead, 4.0) * err("fc.temp", 18.0)
        lat["cloud_z"] = lat["cloud_z"] + np.minimum(0.25 + 0.012 * lead, 1.2) * err("fc.cloud", 12.0)
        lat["wind_z"] = lat["wind_z"] + np.minimum(0.1 + 0.005 * lead, 0.45) * err("fc.wind", 18.0)
        frame = self._weather_from_latent(index, lat)
        frame.index.name = "ts"
        return frame

    def weather_forecasts(self, first_issue, last_issue, horizon_hours: int = FORECAST_HORIZON_HOURS) -> pd.DataFrame:
        """All issues in [first_issue, last_issue) in long form: columns var, issued_at, ts, value."""
        parts = []
        for issued in self.forecast_issues(first_issue, last_issue):
            f = self.weather_forecast(issued, horizon_hours)
            for var in WEATHER_VARS:
                parts.append(pd.DataFrame({"var": var, "issued_at": issued, "ts": f.index, "value": f[var].to_numpy()}))
        if not parts:
            return pd.DataFrame(columns=["var", "issued_at", "ts", "value"])
        return pd.concat(parts, ignore_index=True)

    # ------------------------------------------------------------------ market
    def _commodities_at(self, day_hours: np.ndarray) -> dict[str, np.ndarray]:
        s = self.seed
        d = day_hours
        _, winter = self._season(d)
        gas_slow = noise.smooth_noise(s, "gas.slow", d, 24.0 * 90)
        gas = np.exp(
            np.log(36.0)
            + 0.25 * gas_slow
            + 0.09 * noise.smooth_noise(s, "gas.mid", d, 24.0 * 12)
            + 0.025 * noise.normal(s, "gas.day", (d // 24).astype(np.int64))
        ) * (1.0 + 0.12 * winter)
        co2 = np.exp(
            np.log(72.0)
            + 0.15 * noise.smooth_noise(s, "co2.slow", d, 24.0 * 120)
            + 0.05 * noise.smooth_noise(s, "co2.mid", d, 24.0 * 10)
            + 0.015 * noise.normal(s, "co2.day", (d // 24).astype(np.int64))
        )
        coal = np.exp(
            np.log(110.0)
            + 0.12 * gas_slow
            + 0.15 * noise.smooth_noise(s, "coal.slow", d, 24.0 * 100)
            + 0.02 * noise.normal(s, "coal.day", (d // 24).astype(np.int64))
        )
        return {"gas": gas, "co2": co2, "coal": coal}

    def commodities(self, start, end) -> pd.DataFrame:
        """Daily closing prices on weekdays in [start, end), stamped 00:00 UTC of the trading day:
        gas EUR/MWh (TTF-like), coal USD/t (API2-like), co2 EUR/t (EUA-like)."""
        s, e = to_utc(start).ceil("D"), to_utc(end)
        days = pd.date_range(s, e, freq="D", inclusive="left") if e > s else pd.DatetimeIndex([], tz="UTC")
        days = days[days.day_of_week < 5]
        vals = self._commodities_at(noise.hours_since_epoch(days))
        frame = pd.DataFrame({k: np.round(v, 2) for k, v in vals.items()}, index=days)
        frame.index.name = "ts"
        return frame

    def _calendar(self, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
        loc = index.tz_convert(self.tz)
        lh = loc.hour.to_numpy() + loc.minute.to_numpy() / 60.0
        wd = loc.day_of_week.to_numpy()
        md = list(zip(loc.month.to_numpy(), loc.day.to_numpy()))
        holiday = np.array([x in HOLIDAYS for x in md], dtype=bool)
        naive = loc.tz_localize(None).normalize()
        day = np.asarray((naive - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1), dtype=np.int64)
        doy = loc.day_of_year.to_numpy()
        year = loc.year.to_numpy()
        return {"lh": lh, "wd": wd, "off": (wd >= 5) | holiday, "day": day, "doy": doy, "year": year, "sat": wd == 5}

    def prices(self, start, end) -> pd.Series:
        """Hourly day-ahead spot price in EUR/MWh for the configured zone, [start, end)."""
        index = self.hourly_index(start, end)
        return self._prices(index, self.weather(index[0], index[-1] + HOUR) if len(index) else None)

    def _prices(self, index: pd.DatetimeIndex, w: pd.DataFrame | None) -> pd.Series:
        if len(index) == 0:
            return pd.Series([], index=index, dtype=float, name="price.spot")
        s = self.seed
        t = noise.hours_since_epoch(index) + 0.5
        cal = self._calendar(index)
        lh, off = cal["lh"], cal["off"]
        temp = w["temperature"].to_numpy()
        ghi = w["irradiance"].to_numpy()
        _, winter = self._season(t)
        # System load, normalised: heating, the day's shape, weekends and holidays lower.
        load = (
            1.0
            + 0.022 * np.maximum(0.0, 15.0 - temp)
            + np.where(off, 0.05, 0.11) * np.exp(-(((lh - np.where(off, 10.0, 8.0)) / 1.8) ** 2))
            + 0.12 * np.exp(-(((lh - 18.5) / 2.2) ** 2))
            - 0.15 * ((lh < 5.5) | (lh >= 23))
            - 0.08 * off
        )
        # Wind over the whole zone: partly the local wind, partly its own weather systems.
        local_wind = noise.smooth_noise(s, "wind.slow", t, 36.0)
        sys_wind = 0.55 * local_wind + 0.85 * noise.smooth_noise(s, "syswind", t, 30.0)
        wind_share = 0.48 * _sigmoid(1.6 * sys_wind - 0.4 + 0.3 * winter)
        solar_share = 0.09 * ghi / 800.0
        hydro = 0.12 * noise.smooth_noise(s, "hydro", t, 24.0 * 45)  # dry weeks raise prices, wet lower
        resid = load - wind_share - solar_share - 0.64 + hydro
        days = np.floor(t / 24.0) * 24.0
        com = self._commodities_at(days)
        mc = 2.0 * com["gas"] + 0.37 * com["co2"]  # a gas plant at 50% efficiency sets the margin
        price = mc * (0.06 + 1.1 * _sigmoid((resid - 0.25) * 7.0))
        price += mc * 3.0 * np.maximum(0.0, resid - 0.55) ** 1.5  # scarcity
        price -= 150.0 * np.maximum(0.0, -resid - 0.06)  # subsidised wind and sun keep producing
        price *= np.exp(
            0.06 * noise.smooth_noise(s, "price.noise", t, 5.0)
            + 0.035 * noise.normal(s, "price.iid", t.astype(np.int64))
        )
        hour_key = np.floor(t).astype(np.int64)
        spike = (noise.uniform(s, "spike", hour_key) < 0.004) & (lh >= 7) & (lh <= 20)
        price = np.where(spike, price * (1.8 + 2.5 * noise.uniform(s, "spike.size", hour_key)), price)
        price *= ZONE_LEVEL.get(self.zone.upper(), 1.0)
        out = pd.Series(np.round(price, 2), index=index, name="price.spot", dtype=float)
        out.index.name = "ts"
        return out

    # ------------------------------------------------------------------ home
    def occupancy(self, index: pd.DatetimeIndex) -> np.ndarray:
        """The hidden household state per interval: 0 away, 1 home and awake, 2 asleep."""
        s = self.seed
        cal = self._calendar(index)
        lh, off, day = cal["lh"], cal["off"], cal["day"]
        n = lambda name: noise.normal(s, name, day)  # noqa: E731 - one draw per local day
        u = lambda name: noise.uniform(s, name, day)  # noqa: E731
        tomorrow_off = (cal["wd"] + 1) % 7 >= 5
        wake = np.where(off, 8.3 + 0.8 * n("wake"), 6.6 + 0.35 * n("wake"))
        bed = np.clip(np.where(tomorrow_off, 23.4 + 0.6 * n("bed"), 22.7 + 0.4 * n("bed")), 21.0, 23.95)
        state = np.where((lh < wake) | (lh >= bed), 2, 1)
        works = (~off) & (u("work") < 0.8)
        leave = wake + 0.8 + 0.3 * np.abs(n("leave"))
        back = 16.6 + 0.8 * n("back")
        state = np.where(works & (lh >= leave) & (lh < back), 0, state)
        outing = off & (u("outing") < 0.55)
        o_start = 10.5 + 2.5 * u("outing.start")
        o_end = o_start + 2.0 + 4.0 * u("outing.len")
        state = np.where(outing & (lh >= o_start) & (lh < o_end) & (state == 1), 0, state)
        week = (day + 3) // 7  # ISO weeks start on Monday; 1970-01-01 was a Thursday
        vac_week = noise.uniform(s, "vacation.week", week) < 0.035
        summer_start = 186 + (14 * noise.uniform(s, "vacation.summer", cal["year"])).astype(int)
        summer = (cal["doy"] >= summer_start) & (cal["doy"] < summer_start + 14)
        return np.where(vac_week | summer, 0, state).astype(np.int8)

    def home(self, start, end) -> pd.DataFrame:
        """Hourly home data in [start, end): consumption (kWh, whole house incl. heat pump), heat_pump (kWh),
        indoor_temperature (degC), occupancy (hidden state 0/1/2), cop (the heat pump's)."""
        index = self.hourly_index(start, end)
        if len(index) == 0:
            return pd.DataFrame(
                columns=["consumption", "heat_pump", "indoor_temperature", "occupancy", "cop"], index=index
            )
        s = self.seed
        padded = self.hourly_index(index[0] - THERMAL_PAD_HOURS * HOUR, index[-1] + HOUR)
        wp = self.weather(padded[0], padded[-1] + HOUR)
        # Building inertia: an exponential average of the last THERMAL_PAD_HOURS hours (a fixed-length
        # kernel, so the value at an hour does not depend on where the window started).
        k = np.exp(-np.arange(THERMAL_PAD_HOURS + 1) / THERMAL_TAU_HOURS)
        k /= k.sum()
        t_eff = np.convolve(wp["temperature"].to_numpy(), k, mode="full")[: len(padded)][THERMAL_PAD_HOURS:]
        w = wp.iloc[THERMAL_PAD_HOURS:]
        t_out = w["temperature"].to_numpy()
        ghi = w["irradiance"].to_numpy()
        t = noise.hours_since_epoch(index) + 0.5
        hk = np.floor(t).astype(np.int64)
        cal = self._calendar(index)
        lh = cal["lh"]
        occ = self.occupancy(index)
        home, asleep = occ == 1, occ == 2
        # Household electricity (lights, cooking, appliances, sauna); always-on base load.
        base = 0.22 + 0.03 * noise.smooth_noise(s, "base", t, 12.0)
        dark = ghi < 40.0
        cooking = 0.9 * np.exp(-(((lh - 18.0) / 0.9) ** 2)) + 0.45 * np.exp(-(((lh - 7.3) / 0.6) ** 2)) * ~cal["off"]
        cooking += 0.6 * np.exp(-(((lh - 12.5) / 0.8) ** 2)) * cal["off"]
        appliance = (noise.uniform(s, "appliance", hk) < 0.11) * (0.7 + 1.2 * noise.uniform(s, "appliance.kwh", hk))
        sauna = cal["sat"] & (noise.uniform(s, "sauna", cal["day"]) < 0.4) & (lh >= 18) & (lh < 20)
        household = base + np.where(
            home,
            0.42 + 0.35 * dark + cooking + appliance + 5.0 * sauna,
            np.where(asleep, 0.08, 0.03),
        )
        household *= np.exp(0.08 * noise.normal(s, "household.iid", hk))
        # Heat pump: space heating at a setback when asleep or away, hot water after waking and in the evening.
        setpoint = np.where(home, 21.0, np.where(asleep, 20.0, 18.5))
        ua = 0.16  # kW per K of indoor-outdoor difference
        gains = 0.0025 * ghi + 0.3 * household
        space = np.maximum(0.0, ua * (setpoint - t_eff) - gains)
        wake_hour = home & (np.roll(asleep, 1) | (lh < 9.5)) & (lh >= 5) & (lh < 10)
        hot_water = 0.15 + 1.6 * wake_hour * home + 1.2 * home * (np.abs(lh - 21.0) < 1.0)
        cop = np.clip(3.2 + 0.07 * t_out, 1.6, 4.5)
        capacity = 7.0  # kW of heat from the compressor; below it, the electric auxiliary heater steps in
        heat = space + hot_water
        from_pump = np.minimum(heat, capacity)
        aux = heat - from_pump
        heat_pump = from_pump / cop + aux + 0.03
        heat_pump *= np.exp(0.1 * noise.normal(s, "hp.iid", hk))
        indoor = setpoint + 0.3 * noise.smooth_noise(s, "indoor", t, 10.0) + 0.25 * np.maximum(0.0, t_eff - 18.0)
        frame = pd.DataFrame(
            {
                "consumption": np.round(household + heat_pump, 3),
                "heat_pump": np.round(heat_pump, 3),
                "indoor_temperature": np.round(indoor, 2),
                "occupancy": occ,
                "cop": np.round(cop, 2),
            },
            index=index,
        )
        frame.index.name = "ts"
        return frame

    def solar(self, start, end) -> pd.Series:
        """Hourly PV production in kWh for the configured array (HEA_PV_KWP/TILT/AZIMUTH), [start, end)."""
        index = self.hourly_index(start, end)
        if len(index) == 0:
            return pd.Series([], index=index, dtype=float, name="solar.production")
        w = self.weather(index[0], index[-1] + HOUR)
        p = pv_power_kw(
            index,
            w["irradiance"].to_numpy(),
            w["temperature"].to_numpy(),
            self.lat,
            self.lon,
            self.kwp,
            self.tilt,
            self.azimuth,
        )
        t = noise.hours_since_epoch(index)
        p = p * np.exp(0.03 * noise.normal(self.seed, "pv.iid", t.astype(np.int64)))
        out = pd.Series(np.round(np.clip(p, 0.0, self.kwp), 3), index=index, name="solar.production")
        out.index.name = "ts"
        return out
