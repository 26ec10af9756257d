"""The data store: one SQLite file (WAL mode) with time series, forecasts, battery plans and a model registry.

    from jobs.common.store import Store
    store = Store.open()                      # from HEA_STORE_URL / HEA_DATA_DIR
    store.upsert_series("price.spot", s)      # s: pd.Series with a tz-aware DatetimeIndex -> rows written
    s = store.read_series("price.spot", start, end)   # [start, end), float, UTC index, sorted

Every timestamp is stored as UTC epoch seconds (an interval's start), so 60- and 15-minute data share a
series and daylight-saving days need no special case. Writes are upserts inside one transaction: a retried
job rewrites the same rows, and a job killed half-way leaves whole transactions only. Two jobs writing at
once wait for each other (busy timeout) instead of failing. See docs/data-store.md for the schema and the
series names.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jobs.common import settings
from jobs.common.protocol import ConfigError, json_safe
from jobs.common.timeutil import from_epoch_seconds, iso, now, to_epoch_seconds, to_utc

BUSY_TIMEOUT_SECONDS = 120.0
SIMULATOR = "simulator"
FORCE_ENV = "HEA_FORCE_SOURCE"


def is_real(source: str | None) -> bool:
    """Anything but the simulator is real data (an import, a market API, a meter)."""
    return source is not None and source != SIMULATOR


def series_kind(name: str) -> tuple[str, str, str] | None:
    """(kind, unit, how it aggregates to an hour) of a known series name, or None: see docs/data-store.md."""
    for prefix, spec in SERIES_KINDS:
        if name == prefix or name.startswith(prefix + "."):
            return spec
    return None


# One place for what each series is. Energy is summed to hours; prices and levels are averaged.
SERIES_KINDS: list[tuple[str, tuple[str, str, str]]] = [
    ("price", ("price", "EUR/MWh", "mean")),
    ("home.consumption", ("energy", "kWh", "sum")),
    ("home.heat_pump", ("energy", "kWh", "sum")),
    ("home.indoor_temperature", ("temperature", "degC", "mean")),
    ("solar.production", ("energy", "kWh", "sum")),
    ("meter.electricity", ("energy", "kWh", "sum")),
    ("meter.heat", ("energy", "kWh", "sum")),
    ("meter.water", ("volume", "m3", "sum")),
    ("meter.gas", ("volume", "m3", "sum")),
    ("weather.temperature", ("temperature", "degC", "mean")),
    ("weather.cloud_cover", ("level", "%", "mean")),
    ("weather.irradiance", ("level", "W/m2", "mean")),
    ("weather.wind_speed", ("level", "m/s", "mean")),
    ("commodity.gas", ("price", "EUR/MWh", "mean")),
    ("commodity.coal", ("price", "USD/t", "mean")),
    ("commodity.co2", ("price", "EUR/t", "mean")),
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    name TEXT NOT NULL,
    ts INTEGER NOT NULL,          -- interval start, UTC epoch seconds
    value REAL NOT NULL,
    updated_at INTEGER NOT NULL,  -- when the row was last written, UTC epoch seconds
    PRIMARY KEY (name, ts)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS forecasts (
    name TEXT NOT NULL,
    issued_at INTEGER NOT NULL,   -- UTC epoch seconds
    ts INTEGER NOT NULL,          -- interval start forecast, UTC epoch seconds
    value REAL NOT NULL,
    model TEXT,
    PRIMARY KEY (name, issued_at, ts)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS plans (
    issued_at INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    controller TEXT NOT NULL,
    data TEXT NOT NULL,           -- JSON object: the plan's columns at ts
    PRIMARY KEY (issued_at, ts)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS models (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    path TEXT NOT NULL,
    metrics TEXT NOT NULL,        -- JSON
    holdout TEXT,                 -- JSON: what the metrics were measured on
    promoted INTEGER NOT NULL,
    promoted_seq INTEGER,         -- order of promotions: the highest is the champion
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE IF NOT EXISTS series_meta (
    name TEXT PRIMARY KEY,
    source TEXT NOT NULL,         -- who wrote the series: simulator, csv, http, elprisetjustnu, import, ...
    kind TEXT,                    -- price | energy | volume | temperature | level (how it aggregates)
    unit TEXT,                    -- the stored unit, e.g. EUR/MWh, kWh
    origin TEXT,                  -- the last import's file or URL, if any
    first_import INTEGER NOT NULL,-- UTC epoch s of the first write by this source
    last_import INTEGER NOT NULL  -- UTC epoch s of the last write
);

CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

SCHEMA_VERSION = "1"


def _path_from_url(url: str) -> Path:
    # SQLAlchemy-style: sqlite:///relative/path, sqlite:////absolute/path.
    if not url.startswith("sqlite:///"):
        raise ConfigError(f"HEA_STORE_URL must be sqlite:///<path>, got {url!r} (only SQLite is supported)")
    raw = url[len("sqlite:///") :]
    if not raw:
        raise ConfigError("HEA_STORE_URL has no path")
    path = Path(raw)
    if not path.is_absolute():
        path = settings.REPO_ROOT / path
    return path


def _epoch(ts) -> int:
    return int(to_epoch_seconds(pd.DatetimeIndex([to_utc(ts)]))[0])


def _json(value: Any) -> str:
    return json.dumps(json_safe(value), separators=(",", ":"), sort_keys=True)


def _where(name: str, column: str = "ts", start=None, end=None) -> tuple[str, list[Any]]:
    """`WHERE name = ?` and, when given, `column` in [start, end): the clause and its parameters."""
    sql = "WHERE name = ?"
    params: list[Any] = [name]
    if start is not None:
        sql += f" AND {column} >= ?"
        params.append(_epoch(start))
    if end is not None:
        sql += f" AND {column} < ?"
        params.append(_epoch(end))
    return sql, params


def _series_to_rows(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(values, pd.Series):
        raise TypeError(f"expected a pandas Series, got {type(values).__name__}")
    if not isinstance(values.index, pd.DatetimeIndex):
        raise TypeError("the series needs a DatetimeIndex")
    ts = to_epoch_seconds(values.index)  # rejects naive timestamps
    vals = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    keep = np.isfinite(vals)  # a missing value is not stored; a later fetch may fill it
    ts, vals = ts[keep], vals[keep]
    if len(ts) and len(np.unique(ts)) != len(ts):
        # last one wins, as an upsert of the rows one by one would do
        _, last = np.unique(ts[::-1], return_index=True)
        idx = len(ts) - 1 - last
        ts, vals = ts[idx], vals[idx]
    return ts, vals


class Store:
    """A handle on the SQLite store. Cheap to open; use one per job (or per thread)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ConfigError(f"cannot create the store directory {self.path.parent}: {err}") from err
        self.conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        self.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        self._retry(lambda: self.conn.execute("PRAGMA journal_mode = WAL"))
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self._retry(self._init_schema)

    # ----------------------------------------------------------------- plumbing
    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """The store named by `url`, else HEA_STORE_URL, else <HEA_DATA_DIR>/energy.db."""
        return cls(_path_from_url(url or settings.store_url()))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _retry(self, fn, attempts: int = 5):
        # busy_timeout covers most lock waits; a few WAL/schema transitions report "locked" at once.
        for i in range(attempts):
            try:
                return fn()
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or i == attempts - 1:
                    raise
                time.sleep(0.2 * (i + 1))

    def _init_schema(self) -> None:
        # executescript runs each CREATE ... IF NOT EXISTS in its own autocommit statement.
        self.conn.executescript(SCHEMA)
        self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    class _Tx:
        def __init__(self, conn: sqlite3.Connection):
            self.conn = conn

        def __enter__(self):
            # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking.
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type, exc, tb):
            if exc_type is None:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute("ROLLBACK")
            return False

    def transaction(self) -> Store._Tx:
        """`with store.transaction() as conn:` one write transaction (BEGIN IMMEDIATE), rolled back on error."""
        return Store._Tx(self.conn)

    # ----------------------------------------------------------------- series sources
    def series_meta(self, name: str) -> dict | None:
        """Where series `name` came from: {"name", "source", "kind", "unit", "origin", "first_import",
        "last_import"} (ISO UTC times), or None for a series no tracked source has written."""
        row = self.conn.execute(
            "SELECT name, source, kind, unit, origin, first_import, last_import FROM series_meta WHERE name = ?",
            (name,),
        ).fetchone()
        return None if row is None else self._meta_row(row)

    def all_series_meta(self) -> dict[str, dict]:
        rows = self.conn.execute(
            "SELECT name, source, kind, unit, origin, first_import, last_import FROM series_meta ORDER BY name"
        ).fetchall()
        return {r[0]: self._meta_row(r) for r in rows}

    @staticmethod
    def _meta_row(row: tuple) -> dict:
        name, source, kind, unit, origin, first, last = row
        return {
            "name": name,
            "source": source,
            "kind": kind,
            "unit": unit,
            "origin": origin,
            "first_import": iso(from_epoch_seconds([first])[0]),
            "last_import": iso(from_epoch_seconds([last])[0]),
        }

    def check_source(self, name: str, source: str, force: bool | None = None) -> None:
        """Refuse (ConfigError, exit 78) to write `source` data into a series that holds data of the other
        family: simulated data never goes into a real series, and real data is not mixed into a simulated one.

        Real sources may follow each other (a CSV backfill, then a live market API). `force` (default:
        HEA_FORCE_SOURCE) lets the write through; the series then records the new source.
        """
        if force is None:
            force = settings.env_bool(FORCE_ENV, False)
        if force:
            return
        meta = self.series_meta(name)
        if meta is None or meta["source"] == source or is_real(meta["source"]) == is_real(source):
            return
        if self.count(name) == 0:
            return
        held = "real data" if is_real(meta["source"]) else "simulated data"
        raise ConfigError(
            f"series {name} holds {held} from source {meta['source']!r} "
            f"({self.count(name)} rows, {meta['first_import']} .. {meta['last_import']} imports"
            f"{', from ' + meta['origin'] if meta['origin'] else ''}); refusing to write {source!r} data into it. "
            f"Set the source back (e.g. HEA_PRICE_SOURCE / HEA_CONSUMPTION_SOURCE), use another store, "
            f"delete the series, or force it with {FORCE_ENV}=1 (or --force on import_series)"
        )

    def _record_source(self, conn, name: str, source: str, origin: str | None, stamp: int) -> None:
        kind, unit, _ = series_kind(name) or (None, None, None)
        conn.execute(
            "INSERT INTO series_meta(name, source, kind, unit, origin, first_import, last_import) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "first_import = CASE WHEN series_meta.source = excluded.source THEN series_meta.first_import "
            "ELSE excluded.first_import END, "
            "source = excluded.source, kind = COALESCE(excluded.kind, series_meta.kind), "
            "unit = COALESCE(excluded.unit, series_meta.unit), "
            "origin = COALESCE(excluded.origin, series_meta.origin), last_import = excluded.last_import",
            (name, source, kind, unit, origin, stamp, stamp),
        )

    # ----------------------------------------------------------------- series
    def upsert_series(
        self,
        name: str,
        values: pd.Series,
        source: str | None = None,
        origin: str | None = None,
        force: bool | None = None,
    ) -> int:
        """Insert or replace the values of series `name`; NaN values are skipped. Returns rows written.

        With `source` (simulator, csv, elprisetjustnu, ...), the write is checked against the series'
        recorded source first (`check_source`) and the source is recorded; derived data and tests may omit it.
        """
        ts, vals = _series_to_rows(values)
        if len(ts) == 0:
            return 0
        stamp = int(time.time())
        rows = list(zip([name] * len(ts), ts.tolist(), vals.tolist(), [stamp] * len(ts)))  # reusable on retry

        def write():
            with self.transaction() as conn:
                if source is not None:
                    self.check_source(name, source, force)
                    self._record_source(conn, name, source, origin, stamp)
                conn.executemany(
                    "INSERT INTO series(name, ts, value, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(name, ts) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    rows,
                )

        self._retry(write)
        return int(len(ts))

    def read_series(self, name: str, start=None, end=None) -> pd.Series:
        """Values of `name` in [start, end) as a float Series with a sorted UTC DatetimeIndex (may be empty)."""
        where, params = _where(name, "ts", start, end)
        rows = self.conn.execute(f"SELECT ts, value FROM series {where} ORDER BY ts", params).fetchall()
        return self._to_series(rows, name)

    @staticmethod
    def _to_series(rows: list[tuple], name: str) -> pd.Series:
        if rows:
            arr = np.asarray(rows, dtype=float)
            index = from_epoch_seconds(arr[:, 0].astype(np.int64))
            values = arr[:, 1]
        else:
            index = from_epoch_seconds(np.array([], dtype=np.int64))
            values = np.array([], dtype=float)
        index.name = "ts"
        return pd.Series(values, index=index, name=name, dtype=float)

    def latest(self, name: str) -> pd.Timestamp | None:
        """The start of the last stored interval of `name`, or None if the series is empty."""
        row = self.conn.execute("SELECT MAX(ts) FROM series WHERE name = ?", (name,)).fetchone()
        return None if row[0] is None else from_epoch_seconds([row[0]])[0]

    def first(self, name: str) -> pd.Timestamp | None:
        row = self.conn.execute("SELECT MIN(ts) FROM series WHERE name = ?", (name,)).fetchone()
        return None if row[0] is None else from_epoch_seconds([row[0]])[0]

    def count(self, name: str, start=None, end=None) -> int:
        where, params = _where(name, "ts", start, end)
        return int(self.conn.execute(f"SELECT COUNT(*) FROM series {where}", params).fetchone()[0])

    def series_names(self, prefix: str = "") -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT name FROM series WHERE name >= ? AND name < ? ORDER BY name",
            (prefix, prefix + "\U0010ffff"),
        ).fetchall()
        return [r[0] for r in rows]

    def series_status(self) -> dict:
        """{name: {"rows", "first", "latest", "source"}} for every stored series (ISO 8601 UTC times; source
        None for a series written without one)."""
        rows = self.conn.execute(
            "SELECT name, COUNT(*), MIN(ts), MAX(ts) FROM series GROUP BY name ORDER BY name"
        ).fetchall()
        meta = self.all_series_meta()
        return {
            name: {
                "rows": int(n),
                "first": iso(from_epoch_seconds([lo])[0]),
                "latest": iso(from_epoch_seconds([hi])[0]),
                "source": meta.get(name, {}).get("source"),
            }
            for name, n, lo, hi in rows
        }

    def delete_series(self, name: str, start=None, end=None) -> int:
        where, params = _where(name, "ts", start, end)
        with self.transaction() as conn:
            n = conn.execute(f"DELETE FROM series {where}", params).rowcount
            if start is None and end is None:  # the whole series is gone, and with it its source
                conn.execute("DELETE FROM series_meta WHERE name = ?", (name,))
            return n

    # ----------------------------------------------------------------- forecasts
    def write_forecast(self, name: str, issued_at, values: pd.Series, model: str | None = None) -> int:
        """Store one forecast issue; re-writing the same (name, issued_at) replaces that issue as a whole."""
        ts, vals = _series_to_rows(values)
        issued = _epoch(issued_at)
        rows = list(zip([name] * len(ts), [issued] * len(ts), ts.tolist(), vals.tolist(), [model] * len(ts)))

        def write():
            with self.transaction() as conn:
                conn.execute("DELETE FROM forecasts WHERE name = ? AND issued_at = ?", (name, issued))
                conn.executemany(
                    "INSERT INTO forecasts(name, issued_at, ts, value, model) VALUES (?, ?, ?, ?, ?)", rows
                )

        self._retry(write)
        return len(rows)

    def write_forecasts(self, name: str, frame: pd.DataFrame, model: str | None = None) -> int:
        """Many issues at once: `frame` has columns issued_at, ts, value (tz-aware). One transaction."""
        if frame.empty:
            return 0
        issued = to_epoch_seconds(pd.DatetimeIndex(frame["issued_at"]))
        ts = to_epoch_seconds(pd.DatetimeIndex(frame["ts"]))
        vals = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        keep = np.isfinite(vals)
        issued, ts, vals = issued[keep], ts[keep], vals[keep]
        rows = list(zip([name] * len(ts), issued.tolist(), ts.tolist(), vals.tolist(), [model] * len(ts)))
        issues = [(name, int(i)) for i in np.unique(issued)]

        def write():
            with self.transaction() as conn:
                conn.executemany("DELETE FROM forecasts WHERE name = ? AND issued_at = ?", issues)
                conn.executemany(
                    "INSERT OR REPLACE INTO forecasts(name, issued_at, ts, value, model) VALUES (?, ?, ?, ?, ?)",
                    rows,
                )

        self._retry(write)
        return len(rows)

    def forecast_issues(self, name: str, start=None, end=None) -> list[pd.Timestamp]:
        """The issue times of forecast `name` (optionally issued in [start, end)), oldest first."""
        where, params = _where(name, "issued_at", start, end)
        rows = self.conn.execute(
            f"SELECT DISTINCT issued_at FROM forecasts {where} ORDER BY issued_at", params
        ).fetchall()
        return list(from_epoch_seconds([r[0] for r in rows]))

    def read_forecast(self, name: str, issued_at=None) -> pd.Series:
        """One issue of forecast `name`: the latest one, or the latest issued at or before `issued_at`.

        The Series (float, UTC index) carries the issue time and model in `.attrs["issued_at"]`,
        `.attrs["model"]`; it is empty when there is no such issue.
        """
        if issued_at is None:
            row = self.conn.execute("SELECT MAX(issued_at) FROM forecasts WHERE name = ?", (name,)).fetchone()
        else:
            row = self.conn.execute(
                "SELECT MAX(issued_at) FROM forecasts WHERE name = ? AND issued_at <= ?", (name, _epoch(issued_at))
            ).fetchone()
        if row[0] is None:
            s = self._to_series([], name)
            s.attrs.update(issued_at=None, model=None)
            return s
        issued = int(row[0])
        rows = self.conn.execute(
            "SELECT ts, value, model FROM forecasts WHERE name = ? AND issued_at = ? ORDER BY ts", (name, issued)
        ).fetchall()
        s = self._to_series([(r[0], r[1]) for r in rows], name)
        s.attrs.update(issued_at=from_epoch_seconds([issued])[0], model=rows[0][2] if rows else None)
        return s

    def read_forecast_frame(self, name: str, start=None, end=None) -> pd.DataFrame:
        """All issues of `name` for target times in [start, end): columns issued_at, ts, value, lead_hours."""
        where, params = _where(name, "ts", start, end)
        rows = self.conn.execute(
            f"SELECT issued_at, ts, value FROM forecasts {where} ORDER BY ts, issued_at", params
        ).fetchall()
        arr = np.asarray(rows, dtype=float).reshape(-1, 3)
        frame = pd.DataFrame(
            {
                "issued_at": from_epoch_seconds(arr[:, 0].astype(np.int64)),
                "ts": from_epoch_seconds(arr[:, 1].astype(np.int64)),
                "value": arr[:, 2],
            }
        )
        frame["lead_hours"] = (arr[:, 1] - arr[:, 0]) / 3600.0
        return frame

    def read_forecast_asof(self, name: str, start=None, end=None, min_lead_hours: float = 0.0) -> pd.Series:
        """For each target time, the value from the newest issue made at least `min_lead_hours` before it.

        This is what a model would have been given: e.g. min_lead_hours=12 gives day-ahead weather for
        training without peeking at forecasts issued after the decision time.
        """
        frame = self.read_forecast_frame(name, start, end)
        frame = frame[frame["lead_hours"] >= min_lead_hours]
        if frame.empty:
            return self._to_series([], name)
        last = frame.groupby("ts", sort=True).tail(1).set_index("ts")["value"]
        last = last.sort_index().astype(float)
        last.name = name
        return last

    # ----------------------------------------------------------------- battery plans
    def write_plan(self, issued_at, frame: pd.DataFrame, controller: str) -> int:
        """Store a battery plan (a DataFrame indexed by UTC interval starts); replaces the same issue."""
        if not isinstance(frame.index, pd.DatetimeIndex):
            raise TypeError("the plan needs a DatetimeIndex")
        ts = to_epoch_seconds(frame.index)
        issued = _epoch(issued_at)
        records = frame.to_dict(orient="records")
        rows = [(issued, int(t), controller, _json(rec)) for t, rec in zip(ts.tolist(), records)]

        def write():
            with self.transaction() as conn:
                conn.execute("DELETE FROM plans WHERE issued_at = ?", (issued,))
                conn.executemany("INSERT INTO plans(issued_at, ts, controller, data) VALUES (?, ?, ?, ?)", rows)

        self._retry(write)
        return len(rows)

    def read_plan(self, issued_at=None) -> pd.DataFrame:
        """The latest plan (or the latest issued at or before `issued_at`), indexed by UTC ts.

        `.attrs["issued_at"]` and `.attrs["controller"]` say which plan it is; empty if there is none.
        """
        if issued_at is None:
            row = self.conn.execute("SELECT MAX(issued_at) FROM plans").fetchone()
        else:
            row = self.conn.execute(
                "SELECT MAX(issued_at) FROM plans WHERE issued_at <= ?", (_epoch(issued_at),)
            ).fetchone()
        if row[0] is None:
            empty = pd.DataFrame(index=from_epoch_seconds(np.array([], dtype=np.int64)))
            empty.index.name = "ts"
            empty.attrs.update(issued_at=None, controller=None)
            return empty
        issued = int(row[0])
        rows = self.conn.execute(
            "SELECT ts, controller, data FROM plans WHERE issued_at = ? ORDER BY ts", (issued,)
        ).fetchall()
        frame = pd.DataFrame([json.loads(r[2]) for r in rows], index=from_epoch_seconds([r[0] for r in rows]))
        frame.index.name = "ts"
        frame.attrs.update(issued_at=from_epoch_seconds([issued])[0], controller=rows[0][1] if rows else None)
        return frame

    # ----------------------------------------------------------------- model registry
    def register_model(
        self,
        name: str,
        version: str,
        path: str | Path,
        metrics: dict,
        holdout: Any = None,
        promoted: bool = False,
    ) -> dict:
        """Record a trained model version (re-registering a version replaces it). Returns the entry."""
        created = _epoch(now())  # HEA_NOW-aware, so replays register at their own time

        def write():
            with self.transaction() as conn:
                conn.execute(
                    "INSERT INTO models(name, version, path, metrics, holdout, promoted, promoted_seq, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, CASE WHEN ? THEN "
                    "(SELECT COALESCE(MAX(promoted_seq), 0) + 1 FROM models) END, ?) "
                    "ON CONFLICT(name, version) DO UPDATE SET "
                    "path = excluded.path, metrics = excluded.metrics, holdout = excluded.holdout, "
                    "promoted = excluded.promoted, promoted_seq = excluded.promoted_seq",
                    (
                        name,
                        str(version),
                        str(path),
                        _json(metrics or {}),
                        _json(holdout),
                        int(bool(promoted)),
                        int(bool(promoted)),
                        created,
                    ),
                )

        self._retry(write)
        return next(m for m in self.models(name) if m["version"] == str(version))

    @staticmethod
    def _model_row(row: tuple) -> dict:
        name, version, path, metrics, holdout, promoted, created = row
        return {
            "name": name,
            "version": version,
            "path": path,
            "metrics": json.loads(metrics),
            "holdout": json.loads(holdout) if holdout is not None else None,
            "promoted": bool(promoted),
            "created_at": iso(from_epoch_seconds([created])[0]),
        }

    def models(self, name: str) -> list[dict]:
        """The registry history of `name`, oldest first."""
        rows = self.conn.execute(
            "SELECT name, version, path, metrics, holdout, promoted, created_at FROM models "
            "WHERE name = ? ORDER BY created_at, rowid",
            (name,),
        ).fetchall()
        return [self._model_row(r) for r in rows]

    def champion(self, name: str) -> dict | None:
        """The most recently promoted version of `name`, or None."""
        row = self.conn.execute(
            "SELECT name, version, path, metrics, holdout, promoted, created_at FROM models "
            "WHERE name = ? AND promoted = 1 ORDER BY promoted_seq DESC LIMIT 1",
            (name,),
        ).fetchone()
        return None if row is None else self._model_row(row)


def open_store(url: str | None = None) -> Store:
    return Store.open(url)


__all__ = ["Store", "open_store"]
