"""The training report's pictures (job training_report, the weekly training's last step).

    python -m jobs.reports.training --report-name NAME --model price_trend [--model demand ...]

For each model of the registry named: its metric history (every trained version: the holdout metric next
to the seasonal-naive baselines, promoted versions marked) as a table and history-<model>.svg, and for the
forecasting models (price_trend, demand) holdout-<model>.svg: over the serving version's holdout window,
the actual values against the forecasts as they were issued then (each hour from the newest issue made at
least 12 h before it, the day-ahead view) and against "same time yesterday". models.json holds every
registry record whole. Files go to HEA_REPORTS_DIR/NAME/.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jobs.common import metrics as m
from jobs.common import timeutil
from jobs.common.protocol import parser, progress, run_main
from jobs.common.store import Store
from jobs.reports.common import ReportFolder, figure, local_axis

# registry name -> (actual series, forecast, unit, scale)
FORECASTERS = {
    "price_trend": ("price.spot", "forecast.price", "EUR/MWh", 1.0),
    "demand": ("home.consumption", "forecast.demand", "kWh/h", 1.0),
}
LEAD_HOURS = 12


def headline(record: dict) -> tuple[str, float | None, dict[str, float]]:
    """The model's holdout metric and its baselines (MAE for regressors, precision for classifiers)."""
    met = record.get("metrics") or {}
    key = "mae" if "mae" in met else "precision" if "precision" in met else None
    if key is None:
        return "", None, {}
    base = {
        k: float(v)
        for k, v in met.items()
        if k.startswith("baseline_") and k.endswith(key) and isinstance(v, (int, float))
    }
    value = met.get(key)
    return key, float(value) if isinstance(value, (int, float)) else None, base


def history_chart(name: str, records: list[dict], tz: str):
    key, _, _ = headline(records[-1])
    fig, (ax,) = figure(1, f"{name}: holdout {key or 'metric'} of every trained version", height=3.2)
    x = pd.to_datetime([r["created_at"] for r in records], utc=True)
    values = [headline(r)[1] for r in records]
    ax.plot(x, values, marker="o", color="tab:blue", label=f"model {key}")
    promoted = [i for i, r in enumerate(records) if r.get("promoted")]
    ax.scatter(
        x[promoted], [values[i] for i in promoted], s=120, facecolors="none", edgecolors="tab:green", label="promoted"
    )
    names = sorted({b for r in records for b in headline(r)[2]})
    for b in names:
        ax.plot(x, [headline(r)[2].get(b) for r in records], linestyle="--", label=b.replace("_", " "))
    ax.set_ylabel(key)
    ax.legend(loc="best", fontsize="small")
    local_axis(ax, tz)
    ax.set_xlabel(f"trained at (local time, {tz})")
    return fig


def holdout_chart(store: Store, name: str, record: dict, tz: str):
    actual_name, forecast_name, unit, scale = FORECASTERS[name]
    hold = record.get("holdout") or {}
    start, end = hold.get("start"), hold.get("end")
    if not start or not end:
        return None, {}
    start, end = timeutil.to_utc(start), timeutil.to_utc(end) + pd.Timedelta(hours=1)
    actual = store.read_series(actual_name, start, end).resample("h").mean() * scale
    history = store.read_series(actual_name, start - pd.Timedelta(days=1), end).resample("h").mean() * scale
    issued = store.read_forecast_asof(forecast_name, start, end, min_lead_hours=LEAD_HOURS) * scale
    yesterday = m.same_time_yesterday(history, pd.DatetimeIndex(actual.index))
    figures = {
        "hours": int(actual.notna().sum()),
        "forecast_hours": int(issued.reindex(actual.index).notna().sum()),
        "forecast_mae": m.mae(actual, issued.reindex(actual.index)),
        "naive_yesterday_mae": m.mae(actual, yesterday),
    }
    fig, (ax,) = figure(
        1, f"{name} {record['version']}: holdout window, actual against the day-ahead forecasts issued then", height=3.6
    )
    ax.plot(actual.index, actual.to_numpy(), color="black", label=f"actual ({actual_name})")
    if not issued.empty:
        ax.plot(
            issued.index,
            issued.to_numpy(),
            color="tab:blue",
            label=f"forecast as issued, >= {LEAD_HOURS} h ahead (MAE {figures['forecast_mae']:.3g})",
        )
    else:
        ax.text(0.5, 0.92, f"no {forecast_name} issues in this window", transform=ax.transAxes, ha="center")
    ax.plot(
        yesterday.index,
        yesterday.to_numpy(),
        color="grey",
        alpha=0.6,
        linestyle=":",
        label=f"same time yesterday (MAE {figures['naive_yesterday_mae']:.3g})",
    )
    ax.set_ylabel(unit)
    ax.legend(loc="upper left", fontsize="small")
    local_axis(ax, tz)
    return fig, figures


def build_parser():
    p = parser("Metric history and holdout charts for the training report.")
    p.add_argument("--report-name", required=True)
    p.add_argument("--model", action="append", default=[], help="a registry name (repeatable)")
    return p


def main(args) -> dict:
    folder = ReportFolder(args.report_name)
    tz = timeutil.local_tz()
    out: dict = {"models": {}}
    everything = {}
    with Store.open() as store:
        for i, name in enumerate(args.model):
            progress(10 + 80 * i / max(1, len(args.model)), "charting", name)
            records = store.models(name)
            everything[name] = records
            if not records:
                out["models"][name] = {"versions": 0}
                continue
            serving = store.champion(name)
            key, _, _ = headline(records[-1])
            base_names = sorted({b for r in records for b in headline(r)[2]})
            rows = []
            for r in records:
                _, value, base = headline(r)
                rows.append(
                    [
                        r["version"],
                        r["created_at"],
                        "yes" if r.get("promoted") else "no",
                        "serving" if serving and r["version"] == serving["version"] else "",
                        None if value is None else round(value, 4),
                        *[None if base.get(b) is None else round(base[b], 4) for b in base_names],
                    ]
                )
            folder.table(
                f"{name}: metric history (holdout {key})",
                ["version", "trained at (UTC)", "promoted", "", key, *base_names],
                rows,
            )
            folder.save_chart(history_chart(name, records, tz), f"history-{name}.svg", f"{name}: metric history")
            info = {"versions": len(records), "serving": serving["version"] if serving else None}
            if name in FORECASTERS and serving:
                fig, figs = holdout_chart(store, name, serving, tz)
                if fig is not None:
                    folder.save_chart(fig, f"holdout-{name}.svg", f"{name}: holdout window, forecast against actual")
                    info["holdout"] = {
                        k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in figs.items()
                    }
            out["models"][name] = info
    folder.save_json(everything, "models.json", "Every registry record of these models, whole (JSON)")
    out["report"] = folder.section()
    return out


if __name__ == "__main__":
    run_main(main, build_parser())
