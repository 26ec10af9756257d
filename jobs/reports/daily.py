"""The daily report's pictures and plan table (job daily_report, the daily pipeline's last step).

    python -m jobs.reports.daily --report-name NAME

Writes into HEA_REPORTS_DIR/NAME/: plan.svg (price, battery power, state of charge per hour), forecasts.svg
(price, demand and solar: the latest forecast issue against what was measured, from 24 h before now to the
end of the plan), plan.json (every column of every planned hour) and forecasts.json (the charted values).
The result's `report` holds the hourly plan table (local time, price with its unit, action, kWh, SoC, cost
in EUR) for the run's Markdown report. "Now" is HEA_NOW when set (a scheduled or backfilled run's time).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jobs.common import timeutil
from jobs.common.protocol import parser, progress, run_main
from jobs.common.store import Store
from jobs.reports.common import ReportFolder, figure, local_axis, local_hour

FORECASTS = {
    # kind: (actual series, forecast, unit, scale to the unit)
    "price": ("price.spot", "forecast.price", "EUR/kWh", 1 / 1000),  # stored in EUR/MWh
    "demand": ("home.consumption", "forecast.demand", "kWh/h", 1.0),
    "solar": ("solar.production", "forecast.solar", "kWh/h", 1.0),
}
IDLE_KW = 0.05


def first(frame: pd.DataFrame, *names: str) -> pd.Series | None:
    for n in names:
        if n in frame.columns:
            return pd.to_numeric(frame[n], errors="coerce")
    return None


def plan_columns(plan: pd.DataFrame, capacity_hint: float | None = None) -> pd.DataFrame:
    """The plan in one vocabulary, whichever writer made it (h10b's columns, or the older ones)."""
    out = pd.DataFrame(index=plan.index)
    power = first(plan, "power_kw", "battery_kw")
    out["power_kw"] = power if power is not None else np.nan
    if "soc_kwh" in plan.columns or "soc_pct" in plan.columns:
        # energy_kwh is the hour's charged (+) / discharged (-) energy; soc_* the state after it
        energy = first(plan, "energy_kwh")
        out["energy_kwh"] = energy if energy is not None else out["power_kw"]
        pct = first(plan, "soc_pct")
        out["soc_pct"] = pct if pct is not None else np.nan
        soc_kwh = first(plan, "soc_kwh")
        out["soc_kwh"] = soc_kwh if soc_kwh is not None else np.nan
    else:
        # older plans: energy_kwh is the stored energy after the hour, soc its fraction
        out["energy_kwh"] = out["power_kw"]  # one hour at that power
        soc = first(plan, "soc")
        out["soc_pct"] = soc * 100 if soc is not None else np.nan
        stored = first(plan, "energy_kwh")
        out["soc_kwh"] = stored if stored is not None else np.nan
    out["price_buy"] = first(plan, "price_buy_eur_kwh", "price_buy")
    out["price_sell"] = first(plan, "price_sell_eur_kwh", "price_sell")
    cost = first(plan, "cost_eur")
    out["cost_eur"] = cost if cost is not None else np.nan
    no_batt = first(plan, "cost_no_battery_eur")
    out["cost_no_battery_eur"] = no_batt if no_batt is not None else np.nan
    if "action" in plan.columns:
        out["action"] = plan["action"].astype(str)
    else:
        p = out["power_kw"].fillna(0.0)
        out["action"] = np.where(p > IDLE_KW, "charge", np.where(p < -IDLE_KW, "discharge", "idle"))
    out["why"] = plan["why"].astype(str) if "why" in plan.columns else ""
    return out


def fmt(x, digits: int = 2):
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def plan_table(cols: pd.DataFrame, tz: str) -> tuple[list[str], list[list]]:
    columns = [
        "time (local)",
        "price (EUR/kWh)",
        "action",
        "kWh",
        "SoC (%)",
        "SoC (kWh)",
        "cost (EUR)",
        "cost without battery (EUR)",
    ]
    has_why = cols["why"].str.len().gt(0).any()
    if has_why:
        columns.append("why")
    rows = []
    for ts, r in cols.iterrows():
        row = [
            local_hour(ts, tz),
            fmt(r.price_buy, 4),
            r.action,
            fmt(r.energy_kwh),
            fmt(r.soc_pct, 1),
            fmt(r.soc_kwh),
            fmt(r.cost_eur, 3),
            fmt(r.cost_no_battery_eur, 3),
        ]
        if has_why:
            row.append(r.why)
        rows.append(row)
    return columns, rows


def plan_chart(cols: pd.DataFrame, tz: str, title: str):
    fig, (ax_price, ax_power, ax_soc) = figure(3, title)
    x = cols.index
    ax_price.step(x, cols["price_buy"], where="post", color="tab:red", label="buy")
    if cols["price_sell"].notna().any():
        ax_price.step(x, cols["price_sell"], where="post", color="tab:orange", label="sell", alpha=0.7)
    ax_price.set_ylabel("price (EUR/kWh)")
    ax_price.legend(loc="upper right")
    colors = np.where(cols["power_kw"].fillna(0) >= 0, "tab:green", "tab:blue")
    ax_power.bar(x, cols["power_kw"].fillna(0), width=1 / 24 * 0.9, align="edge", color=colors)
    ax_power.axhline(0, color="black", linewidth=0.6)
    ax_power.set_ylabel("battery (kW)\n+ charge / - discharge")
    ax_soc.plot(x, cols["soc_pct"], color="tab:purple", marker=".")
    ax_soc.set_ylabel("SoC (%)")
    ax_soc.set_ylim(0, 100)
    for ax in (ax_price, ax_power, ax_soc):
        local_axis(ax, tz)
    ax_soc.set_xlabel(f"local time ({tz})")
    return fig


def forecast_chart(series: dict, tz: str, now: pd.Timestamp, title: str):
    fig, axes = figure(len(series), title)
    for ax, (kind, s) in zip(axes, series.items()):
        if not s["actual"].empty:
            ax.plot(
                s["actual"].index,
                s["actual"].to_numpy(),
                color="black",
                label="measured" if kind != "price" else "published spot",
            )
        if not s["forecast"].empty:
            ax.plot(
                s["forecast"].index,
                s["forecast"].to_numpy(),
                color="tab:blue",
                linestyle="--",
                label=f"forecast ({s['model'] or 'unknown model'}, issued {local_hour(s['issued_at'], tz)})",
            )
        if s["actual"].empty and s["forecast"].empty:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center")
        ax.axvline(now, color="grey", linestyle=":", linewidth=1)
        ax.set_ylabel(f"{kind} ({s['unit']})")
        ax.legend(loc="upper left", fontsize="small")
        local_axis(ax, tz)
    axes[-1].set_xlabel(f"local time ({tz}); dotted line: now")
    return fig


def build_parser():
    p = parser("Charts and the hourly plan table for the daily report.")
    p.add_argument("--report-name", required=True, help="the run report's file name without .md")
    return p


def main(args) -> dict:
    folder = ReportFolder(args.report_name)
    tz = timeutil.local_tz()
    now = timeutil.now()
    today = timeutil.local_date(now)
    out: dict = {"now": timeutil.iso(now), "today": today.isoformat(), "timezone": tz}
    progress(10, "reading", "plan and forecasts")
    with Store.open() as store:
        plan = store.read_plan()
        window_end = now + pd.Timedelta(days=2)
        if not plan.empty:
            window_end = max(window_end, plan.index.max() + pd.Timedelta(hours=1))
        window_start = now.floor("h") - pd.Timedelta(hours=24)
        series = {}
        for kind, (actual_name, forecast_name, unit, scale) in FORECASTS.items():
            actual = store.read_series(actual_name, window_start, window_end) * scale
            issue = store.read_forecast(forecast_name)
            forecast = issue[(issue.index >= window_start) & (issue.index < window_end)] * scale
            series[kind] = {
                "actual": actual,
                "forecast": forecast,
                "unit": unit,
                "model": issue.attrs.get("model"),
                "issued_at": issue.attrs.get("issued_at"),
            }

    if plan.empty:
        out["plan"] = None
        folder.table(
            "Battery plan", ["note"], [["no battery plan in the store yet (the battery plan step has not run)"]]
        )
    else:
        issued = plan.attrs.get("issued_at")
        days = sorted({d.isoformat() for d in pd.DatetimeIndex(plan.index).tz_convert(tz).date})
        cols = plan_columns(plan)
        title = f"Battery plan for {' and '.join(days)} ({tz}), issued {local_hour(issued, tz)} by {plan.attrs.get('controller')}"
        columns, rows = plan_table(cols, tz)
        folder.table(title, columns, rows)
        progress(40, "charting", "plan")
        folder.save_chart(plan_chart(cols, tz, title), "plan.svg", "Plan: price, battery power and state of charge")
        folder.save_json(
            {
                "issued_at": timeutil.iso(issued),
                "controller": plan.attrs.get("controller"),
                "timezone": tz,
                "hours": [{"ts": timeutil.iso(ts), **{k: v for k, v in r.items()}} for ts, r in plan.iterrows()],
            },
            "plan.json",
            "The plan, every column of every hour (JSON)",
        )
        totals = {
            "cost_eur": cols["cost_eur"].sum(min_count=1),
            "cost_no_battery_eur": cols["cost_no_battery_eur"].sum(min_count=1),
        }
        out["plan"] = {
            "issued_at": timeutil.iso(issued),
            "controller": plan.attrs.get("controller"),
            "for_days": days,
            "hours": len(plan),
            "cost_eur": fmt(totals["cost_eur"]),
            "cost_no_battery_eur": fmt(totals["cost_no_battery_eur"]),
            "charge_hours": int((cols["action"] == "charge").sum()),
            "discharge_hours": int((cols["action"] == "discharge").sum()),
        }
    progress(70, "charting", "forecasts")
    title = f"Forecasts against measurements, {local_hour(window_start, tz)} to {local_hour(window_end, tz)} ({tz})"
    folder.save_chart(forecast_chart(series, tz, now, title), "forecasts.svg", "Forecasts: price, demand and solar")
    folder.save_json(
        {
            kind: {
                "unit": s["unit"],
                "model": s["model"],
                "issued_at": timeutil.iso(s["issued_at"]),
                "actual": {timeutil.iso(t): v for t, v in s["actual"].items()},
                "forecast": {timeutil.iso(t): v for t, v in s["forecast"].items()},
            }
            for kind, s in series.items()
        },
        "forecasts.json",
        "The charted forecasts and measurements (JSON)",
    )
    out["report"] = folder.section()
    out["files_dir"] = str(folder.dir)
    return out


if __name__ == "__main__":
    run_main(main, build_parser())
