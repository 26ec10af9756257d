"""The deterministic home-and-market simulator, the default source of every fetch job.

- `Simulator` (jobs.simulator.core): weather, weather forecasts, spot prices, commodities, home, PV.
- `simulate_meter`, `known_meter`, `backfill_meter` (jobs.simulator.meters): simulated utility meters.
See docs/data-store.md.
"""

from jobs.simulator.core import FORECAST_HORIZON_HOURS, FORECAST_ISSUE_HOUR_UTC, WEATHER_VARS, Simulator

__all__ = ["Simulator", "WEATHER_VARS", "FORECAST_HORIZON_HOURS", "FORECAST_ISSUE_HOUR_UTC"]
