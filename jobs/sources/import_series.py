"""Import any hourly series from a CSV/JSON file or URL into the store (a real meter, a one-off backfill).

    .venv/bin/python -m jobs.sources.import_series --series price.spot --source price_DK1.csv.gz \
        --column price_eur_mwh
    .venv/bin/python -m jobs.sources.import_series --series home.consumption \
        --source https://my-gateway.local/energy.csv --column kwh

The table needs a timestamp column (see jobs/sources/csv_import.py for the format and HEA_CSV_TIMEZONE)
and a value column (`--column`, default `value`). How values aggregate to hours follows what the series
is (prices and temperatures averaged, energy summed: `SERIES_KINDS` in jobs/common/store.py); for a series
of no known kind, `--how sum|mean` must say it (a stated `--how` that contradicts the kind is refused).
The unit comes from the column name (`price_eur_kwh`, `kwh`, ...) or `--unit`, and is converted to the
series' unit. `--start/--end` name the range you expect the file to cover: the result says how much of it
did. The series records its source (`csv` for a file, `http` for a URL); importing into a series that
holds simulated data is refused (exit 78) unless `--force` (or HEA_FORCE_SOURCE=1). Upserts, so
re-importing the same file changes nothing.
Result: {rows_written, series, first, last, source, origin, unit, how, coverage, warnings}.
"""

from __future__ import annotations

import re

import pandas as pd

from jobs.common.protocol import UsageError, log, parser, progress, run_main
from jobs.common.store import Store
from jobs.common.timeutil import iso, to_utc
from jobs.sources import csv_import
from jobs.sources.fetching import coverage

SERIES_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_\-]+)+$")


def build_parser():
    p = parser("Import an hourly series from CSV/JSON (file or URL) into the store.")
    p.add_argument("--series", required=True, help="series name, e.g. meter.heat.building_7")
    p.add_argument("--source", required=True, help="path (.csv, .csv.gz, .json) or http(s) URL of a table")
    p.add_argument("--column", default="value", help="value column (default: value)")
    p.add_argument(
        "--how",
        choices=("sum", "mean"),
        default=None,
        help="sum (energy) or mean (levels) per hour; default: by the series' kind",
    )
    p.add_argument("--unit", default=None, help="the value column's unit when its name does not say (EUR/kWh, Wh, ...)")
    p.add_argument("--start", default=None, help="start of the range the file should cover (ISO 8601)")
    p.add_argument("--end", default=None, help="end (exclusive) of that range")
    p.add_argument(
        "--force",
        action="store_true",
        default=None,
        help="import even into a series that holds simulated data (default HEA_FORCE_SOURCE)",
    )
    return p


def _time(value: str | None, flag: str):
    if value is None:
        return None
    try:
        return to_utc(pd.Timestamp(value) if pd.Timestamp(value).tzinfo else pd.Timestamp(value, tz="UTC"))
    except ValueError as err:
        raise UsageError(f"{flag} {value!r} is not an ISO 8601 time ({err})") from None


def main(args) -> dict:
    if not SERIES_RE.match(args.series):
        raise UsageError(f"--series {args.series!r} is not a dotted series name like meter.heat.building_7")
    start, end = _time(args.start, "--start"), _time(args.end, "--end")
    if start is not None and end is not None and not start < end:
        raise UsageError("--start must be before --end")
    unit = csv_import.normalise_unit(args.unit)
    source = "http" if args.source.startswith(("http://", "https://")) else "csv"
    with Store.open() as store:
        store.check_source(args.series, source, args.force)  # before reading: a refusal costs nothing
        progress(10, "reading", args.source)
        data = csv_import.to_hourly(
            csv_import.read_table(args.source), {args.column: (args.series, args.how)}, unit=unit
        )
        values = data[args.series]
        if unit is None and values.attrs.get("unit") is None:
            csv_import.check_scale(values, store.read_series(args.series), args.series)
        progress(60, "writing", f"{len(values)} hours")
        written = store.upsert_series(args.series, values, source=source, origin=args.source, force=args.force)
        out = {
            "rows_written": written,
            "series": [args.series],
            "first": iso(values.index.min()) if len(values) else None,
            "last": iso(values.index.max()) if len(values) else None,
            "source": source,
            "origin": args.source,
            "unit": (store.series_meta(args.series) or {}).get("unit"),
            "how": values.attrs.get("how"),
            "warnings": [],
        }
        if start is not None or end is not None:
            lo = start if start is not None else values.index.min()
            hi = end if end is not None else values.index.max() + pd.Timedelta(hours=1)
            cov = coverage(store, args.series, lo, hi)
            out["coverage"] = {args.series: cov}
            if cov["missing_hours"]:
                out["warnings"].append(
                    f"{args.series}: {cov['missing_hours']} of {cov['hours_expected']} hours of "
                    f"{iso(lo)} .. {iso(hi)} are missing (the file holds {out['first']} .. "
                    f"{out['last']})"
                )
        for w in out["warnings"]:
            log(w)
    return out


if __name__ == "__main__":
    run_main(main, build_parser())
