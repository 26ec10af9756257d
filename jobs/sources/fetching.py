"""The loop every fetch job shares: from the last stored timestamp (or a backfill) to the horizon, in chunks.

Each chunk is fetched, then upserted series by series; a job killed half-way leaves whole chunks, and the
retry starts again from the last stored timestamp, so every row is written once (upserts make the
overlap of one interval harmless: the last stored interval is fetched again, which also completes an
hour that was partial at the previous fetch).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd

from jobs.common import settings
from jobs.common.protocol import log, progress
from jobs.common.store import Store
from jobs.common.timeutil import iso, now, to_utc

Fetch = Callable[[pd.Timestamp, pd.Timestamp], dict]


def add_common_flags(p) -> None:
    p.add_argument(
        "--backfill-days",
        type=int,
        default=None,
        help="history to fetch when the store has none (default HEA_BACKFILL_DAYS or 365)",
    )


def coverage(store: Store, name: str, start: pd.Timestamp, end: pd.Timestamp) -> dict:
    """How much of the requested [start, end) the series now holds, by hour; `missing_hours` > 0 is a gap
    the source did not fill (a CSV that ends early, a day not yet published)."""
    expected = max(int((end.floor("h") - start.floor("h")) / pd.Timedelta(hours=1)), 0)
    held = store.read_series(name, start.floor("h"), end)
    hours = int(held.index.floor("h").nunique()) if len(held) else 0
    out = {
        "requested_start": iso(start.floor("h")),
        "requested_end": iso(end),
        "hours_expected": expected,
        "hours_present": hours,
        "missing_hours": max(expected - hours, 0),
        "first": iso(held.index.min()) if len(held) else None,
        "last": iso(held.index.max()) if len(held) else None,
    }
    return out


def backfill_days(args) -> int:
    days = getattr(args, "backfill_days", None)
    if days is not None:
        from jobs.common.protocol import UsageError

        if days < 1:
            raise UsageError(f"--backfill-days must be at least 1, got {days}")
        return days
    return settings.backfill_days()


def start_for(store: Store, series: list[str], days: int, align: str = "h") -> pd.Timestamp:
    """Where to resume: the oldest of the series' last timestamps, or `days` back on an empty series."""
    latest = [store.latest(name) for name in series]
    backfill_start = (now() - pd.Timedelta(days=days)).floor(align)
    if any(t is None for t in latest):
        known = [t for t in latest if t is not None]
        return min([backfill_start] + known)
    return min(latest)


def run_fetch(
    *,
    series: list[str],
    source: str,
    fetch: Fetch,
    end: pd.Timestamp,
    days: int,
    align: str = "h",
    chunk: pd.Timedelta = pd.Timedelta(days=30),
    store: Store | None = None,
    extra: dict | None = None,
    span: tuple[float, float] = (5.0, 95.0),
    force: bool | None = None,
    origin: str | None = None,
) -> dict:
    t0 = time.monotonic()
    own = store is None
    store = store or Store.open()
    try:
        for name in series:  # before anything is fetched: a refused source writes nothing at all
            store.check_source(name, source, force)
        start = start_for(store, series, days, align)
        end = to_utc(end)
        progress(span[0], "planning", f"{source}: {iso(start)} .. {iso(end)} for {', '.join(series)}")
        written, first, last = 0, None, None
        per_series = {name: 0 for name in series}
        cur = start
        total = max((end - start) / pd.Timedelta(seconds=1), 1.0)
        while cur < end:
            nxt = min(cur + chunk, end)
            data = fetch(cur, nxt)
            for name, values in data.items():
                if values is None or len(values) == 0:
                    continue
                if values.attrs.get("origin") and not values.attrs.get("unit"):
                    from jobs.sources.csv_import import check_scale

                    check_scale(values, store.read_series(name, cur - pd.Timedelta(days=90), cur), name)
                n = store.upsert_series(
                    name, values, source=source, origin=origin or values.attrs.get("origin"), force=force
                )
                written += n
                per_series[name] = per_series.get(name, 0) + n
                lo, hi = values.index.min(), values.index.max()
                first = lo if first is None or lo < first else first
                last = hi if last is None or hi > last else last
            done = (nxt - start) / pd.Timedelta(seconds=1) / total
            progress(
                span[0] + (span[1] - span[0]) * done, "fetching", f"{iso(cur)} .. {iso(nxt)}: {written} rows so far"
            )
            cur = nxt
        if written == 0:
            log(f"no new data from {source} in {iso(start)} .. {iso(end)}")
        covered = {name: coverage(store, name, start, end) for name in series}
        warnings = [
            f"{name}: {c['missing_hours']} of {c['hours_expected']} requested hours "
            f"({c['requested_start']} .. {c['requested_end']}) are not in the store after this fetch "
            f"(the source holds {c['first'] or 'nothing'} .. {c['last'] or 'nothing'} of it)"
            for name, c in covered.items()
            if c["missing_hours"] > 0
        ]
        for w in warnings:
            log(w)
        out = {
            "rows_written": written,
            "series": series,
            "rows_by_series": per_series,
            "first": iso(first),
            "last": iso(last),
            "source": source,
            "seconds": round(time.monotonic() - t0, 2),
            "coverage": covered,
            "warnings": warnings,
        }
        out.update(extra or {})
        return out
    finally:
        if own:
            store.close()
