"""consumption_data: fetch the home's hourly consumption into `home.consumption` (kWh per hour, whole
house including the heat pump, before PV), up to the last complete hour.

    .venv/bin/python -m jobs.demand.fetch_consumption [--backfill-days N]

Environment: HEA_CONSUMPTION_SOURCE (simulator | csv | http), HEA_CONSUMPTION_CSV (path, for csv),
HEA_CONSUMPTION_URL (CSV/JSON URL, for http), HEA_CSV_TIMEZONE (zone of offset-less timestamps, UTC),
HEA_BACKFILL_DAYS (365), HEA_SIM_SEED, HEA_NOW, HEA_STORE_URL. Import format: jobs/sources/csv_import.py.
Result: {rows_written, series, first, last, source}.
"""

from __future__ import annotations

from jobs.common.protocol import parser, run_main
from jobs.common.timeutil import now
from jobs.sources import consumption_source, fetch_consumption
from jobs.sources.fetching import add_common_flags, backfill_days, run_fetch


def build_parser():
    p = parser("Fetch household consumption into the store.")
    add_common_flags(p)
    return p


def main(args) -> dict:
    return run_fetch(
        series=["home.consumption"],
        source=consumption_source(),
        fetch=fetch_consumption,
        end=now().floor("h"),
        days=backfill_days(args),
    )


if __name__ == "__main__":
    run_main(main, build_parser())
