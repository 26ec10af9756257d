"""Import any hourly series from a CSV/JSON file or URL into the store (a real meter, a one-off backfill).

    .venv/bin/python -m jobs.sources.import_series --series meter.heat.building_7 --source export.csv
    .venv/bin/python -m jobs.sources.import_series --series home.consumption \
        --source https://my-gateway.local/energy.csv --column kwh --how sum

The table needs a timestamp column (see jobs/sources/csv_import.py for the format and HEA_CSV_TIMEZONE)
and a value column (`--column`, default `value`). Energy is summed to hours (`--how sum`, the default);
use `--how mean` for temperatures. Upserts, so re-importing the same file changes nothing.
Result: {rows_written, series, first, last, source}.
"""

from __future__ import annotations

import re

from jobs.common.protocol import UsageError, parser, progress, run_main
from jobs.common.store import Store
from jobs.common.timeutil import iso
from jobs.sources import csv_import

SERIES_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_\-]+)+$")


def build_parser():
    p = parser("Import an hourly series from CSV/JSON (file or URL) into the store.")
    p.add_argument("--series", required=True, help="series name, e.g. meter.heat.building_7")
    p.add_argument("--source", required=True, help="path or http(s) URL of a CSV or JSON table")
    p.add_argument("--column", default="value", help="value column (default: value)")
    p.add_argument("--how", choices=("sum", "mean"), default="sum", help="sum (energy) or mean (levels) per hour")
    return p


def main(args) -> dict:
    if not SERIES_RE.match(args.series):
        raise UsageError(f"--series {args.series!r} is not a dotted series name like meter.heat.building_7")
    progress(10, "reading", args.source)
    data = csv_import.to_hourly(csv_import.read_table(args.source), {args.column: (args.series, args.how)})
    values = data[args.series]
    progress(60, "writing", f"{len(values)} hours")
    with Store.open() as store:
        written = store.upsert_series(args.series, values)
    return {"rows_written": written, "series": [args.series], "first": iso(values.index.min()) if len(values) else None,
            "last": iso(values.index.max()) if len(values) else None, "source": args.source}


if __name__ == "__main__":
    run_main(main, build_parser())
