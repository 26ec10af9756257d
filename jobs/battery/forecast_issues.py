"""What the battery would have seen at each hour: the production forecasters' daily issues, replayed on history.

The production pipeline forecasts once a day and the battery re-plans every hour on the latest issue. Here an
issue is made at each local midnight from the data known then, with the production feature builders
(`features.calendar_features`, `features.lag_features`), XGBoost set-up and target (the deviation from
a seasonal base, absolute error), as jobs/prices/train.py and jobs/demand/train.py:

- prices: the issue of day D covers D+1 and D+2 (D's prices were published on D-1). At hour t of D the plan
  uses the published prices (to the end of D, or of D+1 from ~13:00 local) and the issue beyond them.
- load: the issue of day D covers D and D+1; the plan at hour t of D reads it for t .. t+35.

Production forecasts the second day recursively (day 1's forecast feeds day 2's lags). Replaying that for
every day of every window costs a pandas feature build per issue, so the replay uses one model per lead day
instead: the lead-2 model sees the same features computed a day earlier (every input at least 48 hours old).
Exogenous inputs the production models also take (gas and CO2 for prices; HMM occupancy and weather for
demand) are left out: the real households have no matching weather or commodity series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jobs.common import features as fc
from jobs.common.forecast_model import FittedModel, fit_model

# kind -> (lag prefix, base column the regressor predicts the deviation from), as in the production train jobs
SPECS = {"price": ("price", "price_roll24_mean"), "load": ("load", "load_slot7_mean")}
# the local day of the first value an issue made at midnight of D does not know: D+1 for prices, D for load
FIRST_UNKNOWN_DAY = {"price": 1, "load": 0}
FIT_DAYS = 365  # history each issue's model is trained on


def features(series: pd.Series, index: pd.DatetimeIndex, kind: str, tz: str, lead_day: int) -> pd.DataFrame:
    """Features of the hours in `index` for a forecast `lead_day` (1 or 2) days past the last known day."""
    prefix, _ = SPECS[kind]
    shift = pd.Timedelta(days=lead_day - 1)
    lags = fc.lag_features(series, index - shift, prefix)
    lags.index = index
    return pd.concat([fc.calendar_features(index, tz), lags], axis=1)


def fit(
    series: pd.Series,
    until: pd.Timestamp,
    kind: str,
    tz: str,
    lead_day: int,
    days: int = FIT_DAYS,
    n_estimators: int = 150,
) -> FittedModel:
    """The production regressor for `kind` and lead day, trained on the `days` days before `until`."""
    hist = series[(series.index >= until - pd.Timedelta(days=days)) & (series.index < until)]
    index = hist.index[hist.index >= hist.index[0] + pd.Timedelta(days=9 + lead_day)]
    frame = features(hist, index, kind, tz, lead_day)
    frame["y"] = hist.reindex(index).to_numpy()
    cols = [c for c in frame.columns if c != "y"]
    return fit_model(
        f"{kind}_lead{lead_day}",
        "regressor",
        frame,
        cols,
        "y",
        base=SPECS[kind][1],
        params={"objective": "reg:absoluteerror", "n_estimators": n_estimators},
    )


def local_day_number(index: pd.DatetimeIndex, tz: str) -> np.ndarray:
    """Local calendar day of each instant as an integer (days since 1970-01-01, local)."""
    local = index.tz_convert(tz).tz_localize(None)
    return local.to_numpy().astype("datetime64[D]").astype(np.int64)


def window_forecasts(
    series: pd.Series, hours: pd.DatetimeIndex, kind: str, tz: str, horizon: int, known_end_ns: np.ndarray | None = None
) -> tuple[np.ndarray, dict]:
    """(len(hours), horizon): what the plan at each hour saw for the next `horizon` hours.

    Values the plan knew (prices published before the hour: s < known_end_ns) are the actuals; the rest come
    from the latest daily issue (made at the hour's local midnight). Returns the matrix and the MAE of each
    lead day's forecasts over the window with, beside it, the seasonal naive's.
    """
    until = hours[0]
    span = pd.date_range(hours[0], hours[-1] + pd.Timedelta(hours=horizon), freq="h")
    known = series[series.index < span[-1] + pd.Timedelta(hours=1)]
    preds = {}
    for lead in (1, 2):
        model = fit(series, until, kind, tz, lead)
        preds[lead] = model.predict(features(known, span, kind, tz, lead))
    actual = series.reindex(span).to_numpy(dtype=float)
    pos = np.arange(len(hours))[:, None] + np.arange(horizon)[None, :]
    issue_day = local_day_number(hours, tz)[:, None]
    lead = local_day_number(span, tz)[pos] - issue_day - FIRST_UNKNOWN_DAY[kind] + 1  # 1 or 2 (or <1: known)
    out = np.where(lead <= 1, preds[1][pos], preds[2][pos])
    if known_end_ns is not None:
        is_known = (span.as_unit("ns").asi8[pos] < known_end_ns[:, None]) & np.isfinite(actual[pos])
        out = np.where(is_known, actual[pos], out)
    if not np.isfinite(out).all():
        raise ValueError(f"{kind}: {int((~np.isfinite(out)).sum())} forecast values are not finite")
    scores = {}
    day_of_span = local_day_number(span, tz)
    first = day_of_span >= day_of_span[0] + 2
    # the seasonal naive for lead day k: the same hour k days before (the newest day known at the issue)
    naive = {k: series.reindex(span - pd.Timedelta(days=k)).to_numpy() for k in (1, 2)}
    for k in (1, 2):
        ok = first & np.isfinite(actual) & np.isfinite(naive[k])
        scores[f"lead{k}_mae"] = float(np.mean(np.abs(preds[k][ok] - actual[ok])))
        scores[f"lead{k}_naive_mae"] = float(np.mean(np.abs(naive[k][ok] - actual[ok])))
    return out, scores
