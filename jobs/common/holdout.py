"""The holdout: the newest hours of a history, kept out of fitting to score a model (and its rivals) on.

Two shapes: whole local days (`holdout_cutoff`, the forecasting jobs: a day-ahead forecast is judged on the
days it forecasts) and the last N x 24 hours (`trailing_cutoff`, the meter job: a holdout of a fixed number
of rows, whatever the hour of the run). `split_at` cuts a frame at either.
"""

from __future__ import annotations

import pandas as pd

from jobs.common import timeutil
from jobs.common.features import DAY, HOUR
from jobs.common.protocol import DataError


def holdout_cutoff(index: pd.DatetimeIndex, days: int, min_train_days: int = 14) -> pd.Timestamp:
    """Start of the holdout: local midnight `days` days before the last day, so it holds whole days."""
    last_day = timeutil.local_date(index.max())
    cutoff = timeutil.local_midnight(last_day - pd.Timedelta(days=days - 1).to_pytimedelta())
    span_days = (index.max() - index.min()) / DAY
    if span_days < days + min_train_days:
        raise DataError(
            f"only {span_days:.1f} days of history; need at least {days + min_train_days} "
            f"({min_train_days} to train and a {days}-day holdout: lower HEA_HOLDOUT_DAYS "
            f"or backfill more)"
        )
    return cutoff


def trailing_cutoff(index: pd.DatetimeIndex, days: int) -> pd.Timestamp:
    """Start of a holdout of the last `days` x 24 hourly intervals of `index`."""
    return index.max() + HOUR - days * DAY


def split_at(frame: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows before `cutoff`, rows from `cutoff` on): the training rows and the holdout."""
    return frame[frame.index < cutoff], frame[frame.index >= cutoff]
