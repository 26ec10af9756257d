"""thermia_data: fetch heat-pump data into `home.heat_pump` (kWh per hour) and `home.indoor_temperature`
(degC), up to the last complete hour.

    .venv/bin/python -m jobs.demand.fetch_heat_pump [--backfill-days N]

A real Thermia pump has no kWh counter in Thermia Online: see docs/data-store.md ("Wiring a real heat
pump") for a meter-based CSV/HTTP import, or an estimate from compressor hours.

Environment: HEA_HEAT_PUMP_SOURCE (simulator | csv | http), HEA_HEAT_PUMP_CSV, HEA_HEAT_PUMP_URL
(columns heat_pump, indoor_temperature), HEA_CSV_TIMEZONE, HEA_BACKFILL_DAYS (365), HEA_SIM_SEED,
HEA_NOW, HEA_STORE_URL.
Result: {rows_written, series, first, last, source}.
"""

from __future__ import annotations

from jobs.common.protocol import parser, run_main
from jobs.common.timeutil import now
from jobs.sources import fetch_heat_pump, heat_pump_source
from jobs.sources.fetching import add_common_flags, backfill_days, run_fetch


def build_parser():
    p = parser("Fetch heat-pump energy and indoor temperature into the store.")
    add_common_flags(p)
    return p


def main(args) -> dict:
    # indoor temperature is optional in an import: resume from the energy series alone
    return run_fetch(
        series=["home.heat_pump"],
        source=heat_pump_source(),
        fetch=fetch_heat_pump,
        end=now().floor("h"),
        days=backfill_days(args),
    )


if __name__ == "__main__":
    run_main(main, build_parser())
