"""co2_gas_coal: fetch commodity prices into `commodity.gas` (EUR/MWh), `commodity.coal` (USD/t),
`commodity.co2` (EUR/t), one value per trading day at 00:00 UTC (the simulator: weekdays).

    .venv/bin/python -m jobs.commodities.fetch [--backfill-days N]

Environment: HEA_CO2_SOURCE (simulator | instrat: daily EUA), HEA_COMMODITY_SOURCE (simulator | fred:
MONTHLY gas and coal, stamped on the first of the month: there is no keyless daily source),
HEA_BACKFILL_DAYS (365), HEA_SIM_SEED, HEA_NOW, HEA_STORE_URL.
Result: {rows_written, series, first, last, source, resolution}.
"""

from __future__ import annotations

import pandas as pd

from jobs.common.protocol import parser, run_main
from jobs.common.timeutil import now
from jobs.sources import co2_source, commodity_source, fetch_commodities
from jobs.sources.fetching import add_common_flags, backfill_days, run_fetch

SERIES = ["commodity.gas", "commodity.coal", "commodity.co2"]


def build_parser():
    p = parser("Fetch gas, coal and CO2 prices into the store.")
    add_common_flags(p)
    return p


def main(args) -> dict:
    gas_coal, co2 = commodity_source(), co2_source()
    source = gas_coal if gas_coal == co2 else f"gas/coal: {gas_coal}, co2: {co2}"
    days = backfill_days(args)
    if gas_coal == "fred":
        days = max(days, 62)  # monthly values: reach back far enough to hold the current month's
    res = run_fetch(
        series=SERIES,
        source=source,
        fetch=fetch_commodities,
        end=now(),
        days=days,
        align="D",
        chunk=pd.Timedelta(days=400),
    )
    res["resolution"] = {
        "commodity.gas": "monthly (FRED PNGASEUUSDM)" if gas_coal == "fred" else "daily",
        "commodity.coal": "monthly (FRED PCOALAUUSDM)" if gas_coal == "fred" else "daily",
        "commodity.co2": "daily",
    }
    return res


if __name__ == "__main__":
    run_main(main, build_parser())
