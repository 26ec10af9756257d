"""Backfill simulated meters into a store, the way the meter training job itself does on its first run
(jobs.meters.train's StoreSource.read over the same window), in one process instead of one training each.

    HEA_DATA_DIR=.. HEA_NOW=.. HEA_METER_HISTORY_DAYS=.. python bench/peers/meter_fixture.py TYPE/ID ...
"""

from __future__ import annotations

import sys

from jobs.common import settings, timeutil
from jobs.meters.train import DAY, StoreSource


def main(meters: list[str]) -> None:
    days = settings.env_int("HEA_METER_HISTORY_DAYS", 365)
    end = timeutil.now().floor("h")  # the window jobs.meters.train.main reads
    source = StoreSource()
    for meter in meters:
        meter_type, meter_id = meter.split("/", 1)
        series, backfilled = source.read(meter_type, meter_id, end - days * DAY, end)
        print(f"{meter}: {len(series)} readings ({backfilled} backfilled)")


if __name__ == "__main__":
    main(sys.argv[1:])
