"""A simulated store for the accuracy and report tests: `days` local days of actuals up to HEA_NOW's day,
one forecast issue per day made the morning before (the price model deliberately bad, demand and solar
close), and a battery plan in the control loop's columns.

    python -m jobs.tests.accuracy_seed [--days 10] [--bad-price-factor 1.6]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from jobs.common import timeutil
from jobs.common.store import Store


def shapes(index: pd.DatetimeIndex, tz: str) -> dict[str, pd.Series]:
    local = index.tz_convert(tz)
    h = local.hour.to_numpy()
    d = np.asarray((index - index[0]) // pd.Timedelta(days=1), dtype=float)
    wiggle = np.sin(np.arange(len(index)) * 0.7)  # day-to-day variation that the naive forecasts miss
    price = 60 + 40 * np.sin((h - 6) / 24 * 2 * np.pi) ** 2 + 3 * d + 8 * wiggle
    demand = 0.8 + 0.6 * (h >= 17) * (h <= 21) + 0.2 * np.cos(h / 24 * 2 * np.pi) + 0.1 * wiggle
    solar = np.clip(np.sin((h - 6) / 12 * np.pi), 0, None) * (2.5 + 0.5 * wiggle)
    return {
        "price.spot": pd.Series(price, index=index),
        "home.consumption": pd.Series(demand, index=index),
        "solar.production": pd.Series(solar, index=index),
    }


def seed(store: Store, days: int = 10, bad_price_factor: float = 1.6) -> dict:
    tz = timeutil.local_tz()
    now = timeutil.now()
    today = timeutil.local_date(now)
    start = timeutil.local_midnight(today - pd.Timedelta(days=days).to_pytimedelta())
    index = pd.date_range(start, now.floor("h"), freq="h", inclusive="left")
    actual = shapes(index, tz)
    for name, s in actual.items():
        store.upsert_series(name, s)
    forecasts = {
        "forecast.price": ("price.spot", "price_trend:v1", bad_price_factor),
        "forecast.demand": ("home.consumption", "demand:v1", 1.02),
        "forecast.solar": ("solar.production", "solar:v1", 0.97),
    }
    issues = 0
    for k in range(1, days + 1):
        day = today - pd.Timedelta(days=days - k).to_pytimedelta()
        d0, d1 = timeutil.local_day_bounds(day)
        issued = d0 - pd.Timedelta(hours=18)  # the morning before
        hours = pd.date_range(d0, d1, freq="h", inclusive="left")
        truth = shapes(pd.date_range(start, d1, freq="h", inclusive="left"), tz)
        for fname, (series, model, factor) in forecasts.items():
            store.write_forecast(fname, issued, truth[series].reindex(hours) * factor, model=model)
            issues += 1
    plan_index = pd.date_range(now.ceil("h"), now.ceil("h") + pd.Timedelta(hours=24), freq="h", inclusive="left")
    h = plan_index.tz_convert(tz).hour.to_numpy()
    power = np.where(h < 5, 2.0, np.where((h >= 17) & (h <= 20), -2.5, 0.0))
    soc = np.clip(5 + np.cumsum(power), 0.5, 10)
    buy = 0.05 + 0.1 * ((h >= 17) & (h <= 20))
    load = 0.8 + 0.6 * ((h >= 17) & (h <= 21))
    plan = pd.DataFrame(
        {
            "action": np.where(power > 0, "charge", np.where(power < 0, "discharge", "idle")),
            "power_kw": power,
            "energy_kwh": power,
            "soc_kwh": soc,
            "soc_pct": soc * 10,
            "price_buy_eur_kwh": buy,
            "price_sell_eur_kwh": buy * 0.8,
            "cost_eur": (load + power).clip(min=0) * buy,
            "cost_no_battery_eur": load * buy,
            "why": np.where(power > 0, "cheap night hours", np.where(power < 0, "evening peak", "")),
            "soc_source": "measured",
        },
        index=plan_index,
    )
    store.write_plan(now, plan, controller="mpc")
    return {"hours": len(index), "forecast_issues": issues, "plan_hours": len(plan)}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--days", type=int, default=10)
    p.add_argument("--bad-price-factor", type=float, default=1.6)
    a = p.parse_args()
    with Store.open() as s:
        print(seed(s, a.days, a.bad_price_factor))
