"""Walk-forward evaluation of the demand forecaster on a real household, the way it would have served.

    .venv/bin/python -m jobs.demand.evaluate --csv ../shared/data/real/households/household_london_MAC000060.csv.gz \
        --tz Europe/London [--windows 8] [--hmm 3]

Four-week windows, the newest last; before each window the model is trained on the past only (everything
measured before the window's first decision), then every day of the window is forecast at 06:00 local the
day before, from consumption measured before 06:00. The yardsticks are known at the same time:
"yesterday" is the newest measured value at the same clock hour, "7-day" the mean of the last seven, "blend"
their average. Pooled rMAE = summed absolute error of the model / summed absolute error of the yardstick,
over the hours every forecast covers.

`walk_forward(series, tz, ...)` is what `npm run bench:real` calls; the CLI prints the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from jobs.common import timeutil
from jobs.demand import model as dm

WINDOW_DAYS = 28
MIN_TRAIN_DAYS = 56


def window_starts(index: pd.DatetimeIndex, tz: str, windows: int | None, window_days: int = WINDOW_DAYS,
                  min_train_days: int = MIN_TRAIN_DAYS) -> list[pd.Timestamp]:
    """Local-midnight starts of whole windows ending at the last whole local day, newest last."""
    local_last = (index.max() + dm.HOUR).tz_convert(tz).tz_localize(None).normalize()
    first = index.min()
    starts = []
    end = local_last
    while True:
        start = end - pd.Timedelta(days=window_days)
        start_utc = pd.Timestamp(start).tz_localize(tz).tz_convert("UTC")
        if start_utc - first < pd.Timedelta(days=min_train_days):
            break
        starts.append(start_utc)
        end = start
        if windows is not None and len(starts) >= windows:
            break
    return sorted(starts)


def spearman_within_days(y: pd.Series, pred: pd.Series, tz: str) -> float:
    """Mean within-day Spearman rank correlation of forecast and actual (local days with 20+ hours)."""
    frame = pd.DataFrame({"y": y, "p": pred}).dropna()
    days = frame.index.tz_convert(tz).date
    corrs = []
    for _, day in frame.groupby(days):
        if len(day) >= 20 and day["y"].nunique() > 1 and day["p"].nunique() > 1:
            corrs.append(day["y"].rank().corr(day["p"].rank()))
    return float(np.mean(corrs)) if corrs else float("nan")


def walk_forward(series: pd.Series, tz: str, windows: int | None = None, hmm_states: int = 0,
                 profile_weight: float | None = None, threads: int = 1) -> dict:
    """Per-window and pooled errors of the demand model and the naive forecasts on `series` (kWh/h)."""
    from jobs.demand.features import fit_occupancy

    series = series.astype(float).sort_index()
    series = series[~series.index.duplicated()]
    out_windows = []
    preds = []
    for w0 in window_starts(series.dropna().index, tz, windows):
        t0 = time.time()
        w1 = w0 + pd.Timedelta(days=WINDOW_DAYS)
        until = dm.decision_times(pd.DatetimeIndex([w0]), tz)[0]
        past = series[series.index < until]
        occ, hmm_info = (None, {"states": 0})
        if hmm_states:
            occ, hmm_info = fit_occupancy(past, hmm_states)
        frame = dm.training_frame(past, tz, occupancy=occ)
        model = dm.fit(frame, threads=threads)
        if profile_weight is not None:
            model.profile_weight = profile_weight
        targets = series[(series.index >= w0) & (series.index < w1)].dropna().index
        test = dm.inputs(series, targets, dm.decision_times(targets, tz), tz, occ)
        test["y"] = series.reindex(targets).to_numpy()
        test["model"] = model.predict(test)
        test["naive_blend"] = (test["naive_yesterday"] + test["naive_7day"]) / 2
        ok = test[["y", "model", "naive_yesterday", "naive_7day"]].notna().all(axis=1)
        test = test[ok]
        preds.append(test)
        err = {c: float(np.abs(test[c] - test["y"]).sum()) for c in ("model", "naive_yesterday", "naive_7day", "naive_blend")}
        out_windows.append({"start": timeutil.iso(w0), "hours": int(len(test)), "train_hours": int(len(frame)),
                            "mae": {k: v / max(len(test), 1) for k, v in err.items()},
                            "hmm": hmm_info, "seconds": round(time.time() - t0, 1)})
    allp = pd.concat(preds) if preds else pd.DataFrame(columns=["y", "model", "naive_yesterday", "naive_7day", "naive_blend"])
    total = {c: float(np.abs(allp[c] - allp["y"]).sum()) for c in ("model", "naive_yesterday", "naive_7day", "naive_blend")}
    summary = {}
    for c in ("model", "naive_yesterday", "naive_7day", "naive_blend"):
        summary[c] = {
            "mae": total[c] / max(len(allp), 1),
            "rmae_vs_yesterday": total[c] / total["naive_yesterday"] if total["naive_yesterday"] else None,
            "rmae_vs_7day": total[c] / total["naive_7day"] if total["naive_7day"] else None,
            "rmae_vs_blend": total[c] / total["naive_blend"] if total["naive_blend"] else None,
            "rank_corr": spearman_within_days(allp["y"], allp[c], tz),
            "windows_beating_7day": int(sum(w["mae"][c] < w["mae"]["naive_7day"] for w in out_windows)),
        }
    return {"windows": out_windows, "pooled": summary, "totals": total, "hours": int(len(allp)),
            "predictions": allp}


def read_household(path: str, column: str = "kwh") -> pd.Series:
    frame = pd.read_csv(path)
    idx = pd.DatetimeIndex(pd.to_datetime(frame["timestamp_utc"], utc=True))
    return pd.Series(pd.to_numeric(frame[column], errors="coerce").to_numpy(), index=idx).sort_index()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--csv", required=True)
    p.add_argument("--tz", required=True)
    p.add_argument("--column", default="kwh")
    p.add_argument("--windows", type=int, default=None)
    p.add_argument("--hmm", type=int, default=0)
    p.add_argument("--profile-weight", type=float, default=None)
    a = p.parse_args()
    res = walk_forward(read_household(a.csv, a.column), a.tz, a.windows, a.hmm, a.profile_weight)
    res.pop("predictions")
    print(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    main()
