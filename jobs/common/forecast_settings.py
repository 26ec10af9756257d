"""Settings of the forecasting jobs (prices, demand, solar) from the environment.

- HEA_HOLDOUT_DAYS      days at the end of the history kept for the holdout (default 28)
- HEA_TRAIN_THREADS     threads for XGBoost (default 1: on a small shared machine, OpenMP threads that
                        compete with other jobs for 2 cores made one fit 18x slower, measured)
- HEA_FORECAST_MIN_LEAD_HOURS  when training, weather forecasts must also have been issued at least this long
                        before the hour they forecast (default 12)
- HEA_DECISION_HOUR     local hour of the daily forecast run (default 6): in training each hour gets the
                        newest weather issue made by then on the day before (`features.decision_times`)
"""

from __future__ import annotations

from jobs.common import settings


def holdout_days(default: int = 28) -> int:
    return max(1, settings.env_int("HEA_HOLDOUT_DAYS", default))


def train_threads() -> int:
    return max(1, settings.env_int("HEA_TRAIN_THREADS", 1))


def min_lead_hours() -> float:
    return settings.env_float("HEA_FORECAST_MIN_LEAD_HOURS", 12.0)


def decision_hour() -> int:
    return settings.env_int("HEA_DECISION_HOUR", 6)
