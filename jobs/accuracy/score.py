"""Score yesterday's forecasts against what happened (job accuracy_score).

    python -m jobs.accuracy.score [--day YYYY-MM-DD] [--window-days 7]

For one local day (default: yesterday, from HEA_NOW or the clock) and each kind (price, demand, solar), the
realised error of the serving forecast and of the naive forecasters, each computed from what was known at
decision time (the day's local midnight):

- the serving model: the latest issue of its forecast made at or before that midnight (forecaster = the
  model's registry name, e.g. `price_trend`; version in the result);
- `naive_yesterday`: the same hour the day before; `naive_7day`: the mean of the same hour over the 7 days
  before; `naive_blend`: the mean of those two.

Rows go to the store's `forecast_scores` table (kind, forecaster, day, mae, rmse, n, serving, scored_at),
replacing that day's scores. The result lists the day's scores and, per kind, the rolling window's MAE of
the serving forecaster next to the best naive one's, on the same days (the caller decides what "degraded"
means: config `accuracy`).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from jobs.common import metrics, timeutil
from jobs.common.protocol import UsageError, parser, progress, run_main
from jobs.common.store import Store

# kind -> (actual series, serving forecast, how an hour is made of finer values)
KINDS = {
    "price": ("price.spot", "forecast.price", "mean"),
    "demand": ("home.consumption", "forecast.demand", "sum"),
    "solar": ("solar.production", "forecast.solar", "sum"),
}
NAIVE = ("naive_yesterday", "naive_7day", "naive_blend")

SCHEMA = """
CREATE TABLE IF NOT EXISTS forecast_scores (
  kind TEXT NOT NULL,
  forecaster TEXT NOT NULL,
  day TEXT NOT NULL,
  mae REAL,
  rmse REAL,
  n INTEGER NOT NULL,
  serving INTEGER NOT NULL DEFAULT 0,
  scored_at INTEGER NOT NULL,
  PRIMARY KEY (kind, forecaster, day)
)
"""


def hourly(values: pd.Series, how: str) -> pd.Series:
    if values.empty:
        return values
    grouped = values.resample("h")
    return grouped.mean() if how == "mean" else grouped.sum(min_count=1)


def score(actual: pd.Series, predicted: pd.Series) -> dict:
    a = actual.to_numpy(dtype=float)
    p = predicted.reindex(actual.index).to_numpy(dtype=float)
    ok = np.isfinite(a) & np.isfinite(p)
    if not ok.any():
        return {"mae": None, "rmse": None, "n": 0}
    return {"mae": metrics.mae(a[ok], p[ok]), "rmse": metrics.rmse(a[ok], p[ok]), "n": int(ok.sum())}


def score_kind(store: Store, kind: str, day) -> tuple[list[dict], dict]:
    actual_name, forecast_name, how = KINDS[kind]
    start, end = timeutil.local_day_bounds(day)
    actual = hourly(store.read_series(actual_name, start, end), how)
    info: dict = {"actual": actual_name, "hours": int(actual.notna().sum())}
    if actual.dropna().empty:
        info["skipped"] = f"no {actual_name} for the day"
        return [], info
    index = pd.DatetimeIndex(actual.index)
    history = hourly(store.read_series(actual_name, start - pd.Timedelta(days=8), start), how)
    yesterday = metrics.same_time_yesterday(history, index)
    week = metrics.seven_day_same_slot(history, index)
    candidates = {"naive_yesterday": yesterday, "naive_7day": week, "naive_blend": (yesterday + week) / 2}
    rows = [{"forecaster": name, "serving": 0, **score(actual, pred)} for name, pred in candidates.items()]
    issue = store.read_forecast(forecast_name, issued_at=start)
    if issue.empty:
        info["serving"] = None
        info["note"] = f"no {forecast_name} issue made before the day"
    else:
        model = str(issue.attrs.get("model") or forecast_name)
        name, _, version = model.partition(":")
        info.update(
            {"serving": name, "version": version or None, "issued_at": timeutil.iso(issue.attrs.get("issued_at"))}
        )
        rows.insert(0, {"forecaster": name, "serving": 1, **score(actual, hourly(issue, how))})
    return [r for r in rows if r["n"] > 0], info


def rolling(store: Store, kind: str, day, window_days: int) -> dict | None:
    """The serving forecaster's MAE over the window's days next to each naive one's, on the same days."""
    first = (pd.Timestamp(timeutil.as_date(day)) - pd.Timedelta(days=window_days - 1)).date().isoformat()
    rows = store.conn.execute(
        "SELECT forecaster, day, mae, n, serving FROM forecast_scores WHERE kind = ? AND day BETWEEN ? AND ?",
        (kind, first, timeutil.as_date(day).isoformat()),
    ).fetchall()
    frame = pd.DataFrame(rows, columns=["forecaster", "day", "mae", "n", "serving"])
    served = frame[frame.serving == 1]
    if served.empty:
        return None
    latest = served.sort_values("day").iloc[-1]["forecaster"]
    mine = served[served.forecaster == latest].set_index("day")
    compared = {}
    for name in NAIVE:
        other = frame[frame.forecaster == name].set_index("day")
        days = mine.index.intersection(other.index)
        if len(days) == 0:
            continue
        w = mine.loc[days, "n"].to_numpy(dtype=float)
        compared[name] = {
            "days": int(len(days)),
            "serving_mae": float(np.average(mine.loc[days, "mae"].to_numpy(dtype=float), weights=w)),
            "naive_mae": float(np.average(other.loc[days, "mae"].to_numpy(dtype=float), weights=w)),
        }
    if not compared:
        return None
    best = min(compared, key=lambda k: compared[k]["naive_mae"])
    c = compared[best]
    return {
        "kind": kind,
        "serving": latest,
        "window_days": window_days,
        "days": c["days"],
        "serving_mae": c["serving_mae"],
        "best_naive": best,
        "best_naive_mae": c["naive_mae"],
        "ratio": c["serving_mae"] / c["naive_mae"] if c["naive_mae"] > 0 else None,
        "naive_mae": {k: v["naive_mae"] for k, v in compared.items()},
    }


def build_parser():
    p = parser("Score each forecaster's realised error for one local day (default: yesterday).")
    p.add_argument("--day", help="local date YYYY-MM-DD (default: yesterday)")
    p.add_argument("--window-days", type=int, default=7, help="rolling window for the serving/naive comparison")
    return p


def main(args) -> dict:
    t0 = time.perf_counter()
    try:
        day = (
            timeutil.parse_date(args.day) if args.day else timeutil.local_date() - pd.Timedelta(days=1).to_pytimedelta()
        )
    except ValueError as err:
        raise UsageError(f"--day: {err}") from None
    if args.window_days < 1:
        raise UsageError("--window-days must be at least 1")
    scored_at = int(timeutil.now().timestamp())
    out: dict = {"day": day.isoformat(), "kinds": {}, "scores": [], "rolling": []}
    with Store.open() as store:
        store.conn.executescript(SCHEMA)
        for i, kind in enumerate(KINDS):
            progress(10 + 25 * i, "scoring", kind)
            rows, info = score_kind(store, kind, day)
            with store.transaction() as conn:
                conn.execute("DELETE FROM forecast_scores WHERE kind = ? AND day = ?", (kind, day.isoformat()))
                conn.executemany(
                    "INSERT INTO forecast_scores (kind, forecaster, day, mae, rmse, n, serving, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (kind, r["forecaster"], day.isoformat(), r["mae"], r["rmse"], r["n"], r["serving"], scored_at)
                        for r in rows
                    ],
                )
            out["kinds"][kind] = info
            out["scores"] += [{"kind": kind, **r} for r in rows]
            roll = rolling(store, kind, day, args.window_days)
            if roll:
                # the version serving on the scored day: an early retraining is started once per version
                roll["version"] = info.get("version") if info.get("serving") == roll["serving"] else None
                out["rolling"].append(roll)
    out["rows_written"] = len(out["scores"])
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


if __name__ == "__main__":
    run_main(main, build_parser())
