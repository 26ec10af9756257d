"""Demand-model studies on the walk-forward windows of `npm run bench:real`, in-process and fast (not a test).

    python -m jobs.bench.demand_study [--data-dir DIR] [--only NAME] [--studies production,oracle-timing,...]

Why: docs/models.md quotes demand figures that `bench:real` does not produce (oracles that know the truth
in hindsight, a linear model, a calibration check). They must come from a command anyone can run, on the
bench's own windows, so they are comparable with its "model" row. The bench imports each file into a
SQLite store and runs the train job as a job, window by window; that is right for the bench (it tests the
production path end to end) but too slow for asking several questions of the same forecasts.

What: reads DIR/households/*.csv[.gz] (`timestamp_utc,kwh[,pv_kwh]`; the default DIR is the bench's) with
the import job's own parser (jobs.sources.csv_import), and holds the series in memory. For each dataset it
plans the windows exactly as bench:real does (`plan_windows`: 8 four-week windows after a four-week warm-up,
42 days of history at least; `--windows` fewer) and scores windows 1..n (the warm-up only feeds the bench's
serving choice, which is not studied here). In each window the production model is fitted once, as
`jobs.demand.train --production` does in the bench (no weather: the files have none; no occupancy HMM:
its default), and every day D is forecast at 06:00 local on D-1 by jobs.demand.predict's `forecast` through
the bench's own as-of view (`AsOf`), as the bench does. Each study turns that window into forecasts:

- `production`: the production model's forecast (reproduces the bench's demand "model" row);
- `oracle-day-level`: the production forecast rescaled, day by local day, by the factor in 0.5..2.0 (step
  0.02) with the least absolute error that day in hindsight: what a perfect daily level would be worth;
- `oracle-timing`: the production forecast's own values of each day put on the hours in the order of the
  true values (perfect timing, same values): what a perfect within-day shape would be worth;
- `linear-lad`: a median (quantile 0.5) linear regression on the level-normalised consumption features,
  fitted on the last LAD_DAYS days before the window and served through the same `forecast`;
- `scaled`: the production forecast x 0.95 and x 1.05 (is the model's level calibrated?).

Scoring is the bench's: on the hours where the truth and both naive forecasts ("yesterday", "7day" of
jobs.common.metrics.naive_forecasts, known until the decision time) and the forecast are finite, rMAE is
the summed absolute error over the yardstick's on the same hours, per window, per dataset and pooled over
all datasets (sums, never means of ratios). Output: a Markdown table on stdout, progress on stderr. Nothing
is written to disk.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

# one BLAS thread, as in jobs.bench.real (shared machine; must be set before numpy loads)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from jobs.bench.common import environment  # noqa: E402
from jobs.bench.real import (  # noqa: E402
    DAY,
    DEFAULT_DATA_DIR,
    DEFAULT_WINDOWS,
    AsOf,
    dataset_name,
    day_hours,
    decision_time,
    log,
    place_of,
    plan_windows,
    timezone_for,
)
from jobs.common.forecast_settings import holdout_days, train_threads  # noqa: E402
from jobs.common.holdout import holdout_cutoff  # noqa: E402
from jobs.common.metrics import naive_forecasts  # noqa: E402
from jobs.common.protocol import DataError  # noqa: E402
from jobs.demand import features as df  # noqa: E402
from jobs.demand import model as dm  # noqa: E402
from jobs.demand import predict as demand_predict  # noqa: E402
from jobs.demand.train import learn_mix  # noqa: E402

MIN_HISTORY_DAYS = 42  # bench:real's minimum history before a demand window
DAY_LEVEL_GRID = np.round(np.arange(0.5, 2.0 + 1e-9, 0.02), 2)  # holds 1.0 exactly: the oracle never loses
SCALES = (0.95, 1.05)
# The linear model's inputs: the level-normalised consumption features (no calendar, no lead: a linear
# function of the hour number means nothing). Its training rows: the last LAD_DAYS days, because the
# interior-point LP behind QuantileRegressor grows fast with rows (180 days: a few seconds per window).
LAD_FEATURES = [
    "r_last1",
    "r_last2",
    "r_last3",
    "r_prof7",
    "r_med7",
    "r_prof28",
    "r_week1",
    "r_week2",
    "r_med28",
    "r_q25",
    "r_q75",
    "r_hood_med",
    "r_hood_mean",
    "r_type_med",
    "r_type_mean",
    "r_level24",
]
LAD_DAYS = 180
LAD_ALPHA = 1e-4


class SeriesStore:
    """The one read jobs.demand.predict.forecast makes of a store for a model without weather (`read_series`
    over [start, end), as Store's), served from memory: the bench imports each file into a throwaway SQLite
    store and reads the same hourly values back; here they are parsed once and kept."""

    def __init__(self, series: dict[str, pd.Series]):
        self._series = series

    def read_series(self, name, start=None, end=None) -> pd.Series:
        s = self._series[name]
        lo = 0 if start is None else s.index.searchsorted(pd.Timestamp(start), side="left")
        hi = len(s) if end is None else s.index.searchsorted(pd.Timestamp(end), side="left")
        return s.iloc[lo:hi]


def load_household(path: Path) -> pd.Series:
    """home.consumption (kWh per UTC hour) of a household file, parsed as the import job parses it."""
    from jobs.sources import csv_import

    hourly = csv_import.to_hourly(csv_import.read_table(str(path)), {"kwh": (df.TARGET, None)})[df.TARGET]
    return df.load_consumption(SeriesStore({df.TARGET: hourly}))


def fit_production(consumption: pd.Series, tz: str) -> tuple[dm.DemandModel, pd.DataFrame]:
    """(the model `jobs.demand.train --production` saves when trained on `consumption`, its refit frame), for
    a store without weather and HEA_DEMAND_HMM_STATES=0: fitted on the past before the holdout, the profile
    share learned on the holdout (`learn_mix`), refitted on everything with that share."""
    with environment(HEA_TIMEZONE=tz):  # holdout_cutoff's local days
        cutoff = holdout_cutoff(consumption.index, holdout_days())
    until = dm.decision_times(pd.DatetimeIndex([cutoff]), tz)[0]
    frame = dm.training_frame(consumption[consumption.index < until], tz)
    empty = dm.empty_columns(frame, dm.feature_names(frame))
    model = dm.fit(frame.drop(columns=empty), threads=train_threads())
    targets = consumption[consumption.index >= cutoff].index
    hold = dm.inputs(consumption, targets, dm.decision_times(targets, tz), tz)
    hold["y"] = consumption.reindex(targets).to_numpy()
    weight, _ = learn_mix(model, hold, tz)
    full = dm.training_frame(consumption, tz)
    full = full.drop(columns=[c for c in empty if c in full.columns])
    final = dm.fit(full, threads=train_threads())
    final.tz, final.profile_weight = tz, weight
    return final, full


@dataclass
class LadModel:
    """A linear median regression of the level-normalised load, servable by jobs.demand.predict.forecast."""

    estimator: object
    tz: str
    features: list[str] = field(default_factory=lambda: list(LAD_FEATURES))
    weather: bool = False
    occupancy: object = None

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        x = frame[self.features].to_numpy(dtype=float)
        # an unknown slot (a gap in the history) takes the 7-day mean's value, else 0: a linear model has
        # no missing-value branch the way the trees do
        x = np.where(np.isfinite(x), x, frame["r_prof7"].to_numpy(dtype=float)[:, None])
        ratio = self.estimator.predict(np.nan_to_num(x, nan=0.0))
        return np.clip(ratio, 0, None) * frame["level"].to_numpy(dtype=float)


def fit_lad(frame: pd.DataFrame, tz: str) -> LadModel:
    from sklearn.linear_model import QuantileRegressor

    rows = frame[frame.index >= frame.index.max() - LAD_DAYS * DAY]
    x = rows[LAD_FEATURES].to_numpy(dtype=float)
    level = rows["level"].to_numpy(dtype=float)
    y = rows["y"].to_numpy(dtype=float) / level
    ok = np.isfinite(x).all(axis=1) & np.isfinite(y)
    # weighted by the level, as the trees are: the loss is the absolute error in kWh again
    est = QuantileRegressor(quantile=0.5, alpha=LAD_ALPHA, solver="highs")
    est.fit(x[ok], y[ok], sample_weight=level[ok])
    return LadModel(estimator=est, tz=tz)


@dataclass
class Window:
    """One walk-forward window of a dataset: its hours, truth, naive forecasts, and (lazily, once) what the
    production train job would have fitted before it and that model's forecasts."""

    dataset: str
    number: int
    start: pd.Timestamp  # local dates [start, end)
    end: pd.Timestamp
    tz: str
    consumption: pd.Series  # the whole series: each forecast reads it only as of its decision time
    days: list[pd.Timestamp] = field(init=False)
    hours: pd.DatetimeIndex = field(init=False)
    day_of_hour: np.ndarray = field(init=False)  # the position of each hour's local day in `days`
    y: np.ndarray = field(init=False)
    naive: dict[str, np.ndarray] = field(init=False)

    def __post_init__(self):
        self.days = list(pd.date_range(self.start, self.end - DAY, freq="D"))
        per_day = [day_hours(d, self.tz) for d in self.days]
        self.hours = per_day[0].append(per_day[1:])
        self.day_of_hour = np.repeat(np.arange(len(per_day)), [len(h) for h in per_day])
        self.y = self.consumption.reindex(self.hours).to_numpy(dtype=float)
        naive = {"yesterday": [], "7day": []}
        for day, hours in zip(self.days, per_day):
            for name, f in naive_forecasts(self.consumption, hours, known_until=decision_time(day, self.tz)).items():
                if name in naive:
                    naive[name].append(f.to_numpy(dtype=float))
        self.naive = {k: np.concatenate(v) for k, v in naive.items()}

    @property
    def scored(self) -> np.ndarray:
        """Hours the bench scores (before the forecast's own gaps): truth and both naive forecasts known."""
        return np.isfinite(self.y) & np.isfinite(self.naive["yesterday"]) & np.isfinite(self.naive["7day"])

    @cached_property
    def trained(self) -> tuple[dm.DemandModel, pd.DataFrame]:
        """The production model trained on what the bench's window store holds: the data before the window's
        first decision."""
        cutoff = decision_time(self.start, self.tz)
        known = df.load_consumption(AsOf(SeriesStore({df.TARGET: self.consumption}), cutoff))
        return fit_production(known, self.tz)

    @cached_property
    def production(self) -> np.ndarray:
        return self.forecast(self.trained[0])

    def forecast(self, model) -> np.ndarray:
        """`model`'s forecasts of the window, each day made at 06:00 local on the day before by
        jobs.demand.predict.forecast from what was measured then (as the bench makes them)."""
        store = SeriesStore({df.TARGET: self.consumption})
        out = []
        for day in self.days:
            hours = day_hours(day, self.tz)
            now = decision_time(day, self.tz)
            window = pd.date_range(now.floor("h"), hours[-1], freq="h")
            try:
                values, _ = demand_predict.forecast(AsOf(store, now), model, now - pd.Timedelta(seconds=1), window)
                out.append(values.reindex(hours).to_numpy(dtype=float))
            except DataError as err:  # stale history: production refuses to forecast, the bench scores NaN
                log(f"    {self.dataset} {day.date()}: no forecast ({err})")
                out.append(np.full(len(hours), np.nan))
        return np.concatenate(out)


# --------------------------------------------------------------------------- studies
# A study maps a window to {row name: forecast on window.hours}; the ones derived from the production
# forecast share it (computed once per window).


def production(win: Window) -> dict[str, np.ndarray]:
    return {"production": win.production}


def oracle_day_level(win: Window) -> dict[str, np.ndarray]:
    p, y, ok = win.production, win.y, win.scored & np.isfinite(win.production)
    out = p.copy()
    for d in range(len(win.days)):
        m = (win.day_of_hour == d) & ok
        if m.any():
            err = np.abs(DAY_LEVEL_GRID[:, None] * p[m][None, :] - y[m][None, :]).sum(axis=1)
            out[win.day_of_hour == d] *= DAY_LEVEL_GRID[int(np.argmin(err))]
    return {"oracle-day-level": out}


def oracle_timing(win: Window) -> dict[str, np.ndarray]:
    # sorted values matched to sorted truths minimise a convex loss over all orderings: never worse than the
    # forecast's own order on the hours that are scored
    p, y, ok = win.production, win.y, win.scored & np.isfinite(win.production)
    out = p.copy()
    for d in range(len(win.days)):
        idx = np.flatnonzero((win.day_of_hour == d) & ok)
        out[idx[np.argsort(y[idx], kind="stable")]] = np.sort(p[idx])
    return {"oracle-timing": out}


def linear_lad(win: Window) -> dict[str, np.ndarray]:
    return {"linear-lad": win.forecast(fit_lad(win.trained[1], win.tz))}


def scaled(win: Window) -> dict[str, np.ndarray]:
    return {f"scaled x{c:.2f}": win.production * c for c in SCALES}


STUDIES: dict[str, Callable[[Window], dict[str, np.ndarray]]] = {
    "production": production,
    "oracle-day-level": oracle_day_level,
    "oracle-timing": oracle_timing,
    "linear-lad": linear_lad,
    "scaled": scaled,
}


# --------------------------------------------------------------------------- scoring
@dataclass
class Errors:
    """Summed absolute errors of a forecast and of the two yardsticks on the same hours."""

    model: float = 0.0
    vs_7day: float = 0.0
    vs_yesterday: float = 0.0

    def __add__(self, other: Errors) -> Errors:
        return Errors(self.model + other.model, self.vs_7day + other.vs_7day, self.vs_yesterday + other.vs_yesterday)

    @property
    def rmae_7day(self) -> float:
        return self.model / self.vs_7day if self.vs_7day > 0 else float("nan")

    @property
    def rmae_yesterday(self) -> float:
        return self.model / self.vs_yesterday if self.vs_yesterday > 0 else float("nan")


def score(win: Window, forecast: np.ndarray) -> Errors:
    ok = win.scored & np.isfinite(forecast)
    err = {k: float(np.abs(v - win.y)[ok].sum()) for k, v in win.naive.items()}
    return Errors(float(np.abs(forecast - win.y)[ok].sum()), err["7day"], err["yesterday"])


def windows_of(consumption: pd.Series, tz: str, windows: int = DEFAULT_WINDOWS):
    """bench:real's demand plan for this series: [(start, end)) local dates, the warm-up first."""
    return plan_windows(consumption.index.min(), consumption.index.max(), tz, windows, MIN_HISTORY_DAYS)


def study_dataset(
    name: str, consumption: pd.Series, studies: list[str], windows: int = DEFAULT_WINDOWS, tz: str | None = None
) -> dict[str, list[Errors]]:
    """{row name: [Errors of window 1, 2, ..]} for one dataset (empty if too short for one window); `tz` is
    the dataset's local time (default: from its name, as bench:real's `timezone_for`, else UTC)."""
    tz = tz or timezone_for(name) or "UTC"
    plan = windows_of(consumption, tz, windows)
    out: dict[str, list[Errors]] = {}
    for number in range(1, len(plan)):
        t0 = time.time()
        win = Window(name, number, *plan[number], tz=tz, consumption=consumption)
        for study in studies:
            for row, forecast in STUDIES[study](win).items():
                out.setdefault(row, []).append(score(win, forecast))
        log(
            f"  {name} window {number}/{len(plan) - 1} ({win.start.date()}..{win.end.date()}): {time.time() - t0:.0f} s"
        )
    return out


def pooled(results: dict[str, dict[str, list[Errors]]]) -> dict[str, Errors]:
    """{row name: the errors summed over every window of every dataset} (rows that all datasets have)."""
    rows = [
        r for r in dict.fromkeys(r for per in results.values() for r in per) if all(r in p for p in results.values())
    ]
    return {r: sum((e for per in results.values() for e in per[r]), Errors()) for r in rows}


def markdown(results: dict[str, dict[str, list[Errors]]]) -> str:
    lines = [
        "| study | dataset | rMAE vs 7-day | rMAE vs yesterday | per-window rMAE vs 7-day |",
        "|---|---|---|---|---|",
    ]
    total = pooled(results) if len(results) > 1 else {}
    for row in dict.fromkeys(r for per in results.values() for r in per):
        for name, per in results.items():
            if row in per:
                e = sum(per[row], Errors())
                windows = " ".join(f"{w.rmae_7day:.3f}" for w in per[row])
                lines.append(f"| {row} | {name} | {e.rmae_7day:.4f} | {e.rmae_yesterday:.4f} | {windows} |")
        if row in total:
            e = total[row]
            lines.append(f"| {row} | all ({len(results)}) | {e.rmae_7day:.4f} | {e.rmae_yesterday:.4f} | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="holds households/ (default %(default)s)")
    ap.add_argument("--only", action="append", help="only datasets whose name contains this (repeatable)")
    ap.add_argument("--studies", default=",".join(STUDIES), help="comma-separated, of: %(default)s")
    ap.add_argument(
        "--windows", type=int, default=DEFAULT_WINDOWS, help="four-week windows per series (default %(default)s)"
    )
    args = ap.parse_args(argv)

    studies = [s.strip() for s in args.studies.split(",") if s.strip()]
    unknown = [s for s in studies if s not in STUDIES]
    if unknown or not studies:
        print(
            f"--studies: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(STUDIES)}", file=sys.stderr
        )
        return 2
    if args.windows < 1:
        print("--windows must be at least 1", file=sys.stderr)
        return 2
    data_dir = Path(args.data_dir).resolve()
    files = sorted([*data_dir.glob("households/*.csv"), *data_dir.glob("households/*.csv.gz")])
    if args.only:
        files = [p for p in files if any(o.lower() in p.name.lower() for o in args.only)]
    if not files:
        print(f"--data-dir: no households/*.csv[.gz] under {data_dir}", file=sys.stderr)
        return 2

    t0, cpu0 = time.time(), time.process_time()
    results: dict[str, dict[str, list[Errors]]] = {}
    for path in files:
        name = dataset_name(path)
        log(name)
        try:
            consumption = load_household(path)
        except DataError as err:
            print(f"{path}: {err}", file=sys.stderr)
            return 2
        per = study_dataset(name, consumption, studies, args.windows, tz=place_of(path)[0])
        if per:
            results[name] = per
        else:
            log(f"  {name}: too little history for a window after the warm-up; skipped")
    seconds, cpu = time.time() - t0, time.process_time() - cpu0
    print(
        f"Measured with `python -m jobs.bench.demand_study` ({len(results)} files, {seconds:.0f} s wall clock, "
        f"{cpu:.0f} s CPU, load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d')}): bench:real's "
        f"demand windows 1..{args.windows}, rMAE pooled over the scored hours (summed absolute errors).\n"
    )
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
