"""Meter readings from InfluxDB through its v1 HTTP API (`/ping`, `/query` with InfluxQL, `/write`).

InfluxDB 1.x serves this API natively; 2.x and 3.x serve it through their v1-compatible endpoints (with a
token instead of a user and password), so one small client covers them all.

Settings: a JSON file named by HEA_INFLUX_CONFIG (the seed's config/influxdb_config.json) with the keys
below in lower case without the prefix (`url`, `database`, `measurement`, ...); each environment variable
overrides the file.
- HEA_INFLUX_URL          base URL (default http://127.0.0.1:8086)
- HEA_INFLUX_DB           database (default `meters`); `database` in the file
- HEA_INFLUX_MEASUREMENT  measurement holding the readings (default `consumption`)
- HEA_INFLUX_FIELD        field with the reading (default `value`)
- HEA_INFLUX_METER_TAG    tag naming the meter id (default `meter_id`)
- HEA_INFLUX_TYPE_TAG     tag naming the meter type (default `meter_type`; empty: the measurement holds one type)
- HEA_INFLUX_AGGREGATE    how readings within an hour combine: sum (readings are consumption per interval,
                          the default), mean, max or last
- HEA_INFLUX_USER / HEA_INFLUX_PASSWORD   basic auth (1.x), or
- HEA_INFLUX_TOKEN        token auth (`Authorization: Token ...`, 2.x/3.x v1 compatibility)
- HEA_INFLUX_TIMEOUT      seconds per request (default 30)

Errors follow the job protocol: unreachable or 5xx -> TransientError (retried); 401/403, an unknown
database or a bad query -> ConfigError (78); no readings for the meter -> DataError "meter unknown".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import requests

from jobs.common.protocol import ConfigError, DataError, TransientError
from jobs.common.timeutil import to_utc

AGGREGATES = {"sum": "sum", "mean": "mean", "max": "max", "last": "last"}


@dataclass(frozen=True)
class InfluxSettings:
    url: str = "http://127.0.0.1:8086"
    database: str = "meters"
    measurement: str = "consumption"
    field: str = "value"
    meter_tag: str = "meter_id"
    type_tag: str = "meter_type"
    aggregate: str = "sum"
    username: str = ""
    password: str = ""
    token: str = ""
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: dict | None = None) -> InfluxSettings:
        env = os.environ if env is None else env
        values: dict = {}
        config_file = env.get("HEA_INFLUX_CONFIG", "").strip()
        if config_file:
            try:
                raw = json.loads(Path(config_file).read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise ConfigError(f"HEA_INFLUX_CONFIG={config_file}: {err}") from None
            if not isinstance(raw, dict):
                raise ConfigError(f"HEA_INFLUX_CONFIG={config_file}: expected a JSON object")
            aliases = {"db": "database", "user": "username", "bucket": "database"}
            for key, value in raw.items():
                key = aliases.get(key, key)
                if key in cls.__dataclass_fields__:
                    values[key] = value
        for var, key in (
            ("URL", "url"),
            ("DB", "database"),
            ("MEASUREMENT", "measurement"),
            ("FIELD", "field"),
            ("METER_TAG", "meter_tag"),
            ("TYPE_TAG", "type_tag"),
            ("AGGREGATE", "aggregate"),
            ("USER", "username"),
            ("PASSWORD", "password"),
            ("TOKEN", "token"),
            ("TIMEOUT", "timeout"),
        ):
            if f"HEA_INFLUX_{var}" in env:
                values[key] = env[f"HEA_INFLUX_{var}"].strip()
        try:
            values["timeout"] = float(values.get("timeout", cls.timeout))
        except (TypeError, ValueError):
            raise ConfigError(f"HEA_INFLUX_TIMEOUT must be a number, got {values.get('timeout')!r}") from None
        settings = cls(**{k: (str(v) if k != "timeout" else v) for k, v in values.items()})
        if settings.aggregate not in AGGREGATES:
            raise ConfigError(f"HEA_INFLUX_AGGREGATE={settings.aggregate!r} is not one of {', '.join(AGGREGATES)}")
        for name in ("database", "measurement", "field", "meter_tag"):
            if not getattr(settings, name):
                raise ConfigError(f"InfluxDB setting {name} is empty")
        return settings


def quote_ident(name: str) -> str:
    """An InfluxQL identifier: double-quoted, with backslashes and quotes escaped."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class InfluxClient:
    def __init__(self, settings: InfluxSettings):
        self.settings = settings
        self.base = settings.url.rstrip("/")
        self.session = requests.Session()
        if settings.token:
            self.session.headers["Authorization"] = f"Token {settings.token}"
        elif settings.username:
            self.session.auth = (settings.username, settings.password)

    def _request(self, method: str, path: str, what: str, **kwargs) -> requests.Response:
        url = f"{self.base}{path}"
        try:
            resp = self.session.request(method, url, timeout=self.settings.timeout, **kwargs)
        except requests.Timeout as err:
            raise TransientError(f"InfluxDB {what}: timed out after {self.settings.timeout:g} s ({url})") from err
        except requests.RequestException as err:  # refused, DNS, reset: the network, not the data
            raise TransientError(f"InfluxDB {what}: cannot reach {url}: {type(err).__name__}") from err
        if resp.status_code in (401, 403):
            raise ConfigError(f"InfluxDB {what}: HTTP {resp.status_code} (check HEA_INFLUX_USER/PASSWORD or TOKEN)")
        if resp.status_code >= 500 or resp.status_code == 429:
            raise TransientError(f"InfluxDB {what}: HTTP {resp.status_code} from {url}")
        if resp.status_code >= 400:
            raise ConfigError(f"InfluxDB {what}: HTTP {resp.status_code} from {url}: {resp.text[:200]}")
        return resp

    def ping(self) -> str:
        """The server's version (the X-Influxdb-Version header) once it answers /ping."""
        resp = self._request("GET", "/ping", "ping")
        return resp.headers.get("X-Influxdb-Version", "unknown")

    def query(self, q: str, what: str = "query") -> list[dict]:
        """Runs InfluxQL; returns the first statement's series (each {name, columns, values, tags?})."""
        resp = self._request("GET", "/query", what, params={"db": self.settings.database, "q": q, "epoch": "s"})
        try:
            body = resp.json()
        except ValueError as err:
            raise DataError(f"InfluxDB {what}: the response is not JSON: {resp.text[:120]!r}") from err
        if "error" in body:
            raise ConfigError(f"InfluxDB {what}: {body['error']}")
        results = body.get("results") or [{}]
        first = results[0]
        if "error" in first:
            raise ConfigError(f"InfluxDB {what}: {first['error']}")
        return first.get("series") or []

    def check_database(self) -> None:
        series = self.query("SHOW DATABASES", "list databases")
        names = {row[0] for s in series for row in s.get("values") or []}
        if self.settings.database not in names:
            raise ConfigError(
                f"InfluxDB has no database {self.settings.database!r} (has: {', '.join(sorted(names)) or 'none'})"
            )

    def write_lines(self, lines: list[str], precision: str = "s") -> None:
        """Line protocol into the configured database (tests and the simulator's loader use it)."""
        self._request(
            "POST",
            "/write",
            "write",
            params={"db": self.settings.database, "precision": precision},
            data="\n".join(lines).encode(),
        )

    def meter_query(self, meter_type: str, meter_id: str, start, end) -> str:
        s = self.settings
        where = [f"{quote_ident(s.meter_tag)} = {quote_string(meter_id)}"]
        if s.type_tag:
            where.append(f"{quote_ident(s.type_tag)} = {quote_string(meter_type)}")
        where.append(f"time >= {int(to_utc(start).timestamp())}s AND time < {int(to_utc(end).timestamp())}s")
        return (
            f"SELECT {AGGREGATES[s.aggregate]}({quote_ident(s.field)}) AS value FROM {quote_ident(s.measurement)} "
            f"WHERE {' AND '.join(where)} GROUP BY time(1h) fill(none)"
        )

    def read_meter(self, meter_type: str, meter_id: str, start, end) -> pd.Series:
        """Hourly readings of one meter in [start, end) (hours without readings are absent)."""
        series = self.query(self.meter_query(meter_type, meter_id, start, end), f"read {meter_type}/{meter_id}")
        rows = [row for s in series for row in s.get("values") or [] if row[1] is not None]
        if not rows:
            return pd.Series([], index=pd.DatetimeIndex([], tz="UTC", name="ts"), dtype=float)
        frame = pd.DataFrame(rows, columns=["ts", "value"])
        index = pd.DatetimeIndex(pd.to_datetime(frame["ts"].astype("int64"), unit="s", utc=True), name="ts")
        return pd.Series(frame["value"].astype(float).to_numpy(), index=index, dtype=float).sort_index()


def line(measurement: str, tags: dict, value: float, ts: pd.Timestamp, field: str = "value") -> str:
    """One line of line protocol (tags and measurement escaped as the protocol requires)."""

    def esc(text: str) -> str:
        return str(text).replace("\\", "\\\\").replace(",", "\\,").replace(" ", "\\ ").replace("=", "\\=")

    tag_text = "".join(f",{esc(k)}={esc(v)}" for k, v in sorted(tags.items()))
    return f"{esc(measurement)}{tag_text} {esc(field)}={float(value)!r} {int(to_utc(ts).timestamp())}"
