"""prices_data: fetch day-ahead spot prices into `price.spot` (EUR/MWh, UTC interval starts).

    .venv/bin/python -m jobs.prices.fetch [--backfill-days N]

Fetches from the last stored interval (or HEA_BACKFILL_DAYS back on an empty store) through tomorrow
once published: the simulator publishes tomorrow at 13:00 local time; real sources are asked and a 404
("not yet") just ends the fetch. Native resolution is kept (hourly before 2025-10-01, 15-minute after
for real sources; the simulator stays hourly).

Environment: HEA_PRICE_SOURCE (simulator | elprisetjustnu | energy-charts), HEA_PRICE_ZONE (SE3),
HEA_BACKFILL_DAYS (365), HEA_TIMEZONE (Europe/Stockholm), HEA_SIM_SEED (42), HEA_NOW, HEA_STORE_URL.
Result: {rows_written, series, first, last, source, zone, published_through, new_future_hours}:
`new_future_hours` counts the hours from now on that this fetch published for the first time (the battery
control loop re-plans when it is > 0, src/workflows/hourlyExogenousData.ts).
"""

from __future__ import annotations

import pandas as pd

from jobs.common import settings
from jobs.common.protocol import parser, run_main
from jobs.common.store import Store
from jobs.common.timeutil import iso, local_date, local_day_bounds, now
from jobs.sources import fetch_prices, price_source, prices_horizon
from jobs.sources.fetching import add_common_flags, backfill_days, run_fetch


def build_parser():
    p = parser("Fetch day-ahead spot prices into the store.")
    add_common_flags(p)
    return p


def main(args) -> dict:
    source = price_source()
    if source == "simulator":
        end = prices_horizon()
    else:
        # ask for tomorrow whatever the hour: the source answers 404 (not yet) before publication
        end = local_day_bounds(local_date(now()) + pd.Timedelta(days=1).to_pytimedelta())[1]
    with Store.open() as store:
        known_until = store.latest("price.spot")
        res = run_fetch(
            series=["price.spot"], source=source, fetch=fetch_prices, end=end, days=backfill_days(args), store=store
        )
        res["new_future_hours"] = new_future_hours(store, known_until, now())
    res["zone"] = settings.price_zone()
    res["published_through"] = res["last"]
    res["horizon"] = iso(end)
    return res


def new_future_hours(store: Store, known_until: pd.Timestamp | None, at: pd.Timestamp) -> int:
    """Hours starting at or after the current one whose prices were not in the store before this fetch."""
    after = at.floor("h")
    if known_until is not None:
        after = max(after, known_until.floor("h") + pd.Timedelta(hours=1))
    fresh = store.read_series("price.spot", start=after)
    return int(fresh.index.floor("h").nunique()) if len(fresh) else 0


if __name__ == "__main__":
    run_main(main, build_parser())
