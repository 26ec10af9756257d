"""solar_actual: fetch PV production into `solar.production` (kWh per hour), up to the last complete hour.

    .venv/bin/python -m jobs.solar.fetch_actual [--backfill-days N]

Environment: HEA_SOLAR_SOURCE (simulator | csv | http), HEA_SOLAR_CSV, HEA_SOLAR_URL (column `solar`,
`production` or `value`, kWh per interval), HEA_PV_KWP (6), HEA_PV_TILT (35), HEA_PV_AZIMUTH (0 = south),
HEA_LATITUDE, HEA_LONGITUDE, HEA_BACKFILL_DAYS (365), HEA_SIM_SEED, HEA_NOW, HEA_STORE_URL.
Result: {rows_written, series, first, last, source, kwp}.
"""

from __future__ import annotations

from jobs.common import settings
from jobs.common.protocol import parser, run_main
from jobs.common.timeutil import now
from jobs.sources import fetch_solar, solar_source
from jobs.sources.fetching import add_common_flags, backfill_days, run_fetch


def build_parser():
    p = parser("Fetch PV production into the store.")
    add_common_flags(p)
    return p


def main(args) -> dict:
    res = run_fetch(
        series=["solar.production"],
        source=solar_source(),
        fetch=fetch_solar,
        end=now().floor("h"),
        days=backfill_days(args),
    )
    res["kwp"] = settings.pv_kwp()
    return res


if __name__ == "__main__":
    run_main(main, build_parser())
