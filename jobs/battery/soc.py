"""The battery's measured state of charge, from a pluggable source (like the price and weather sources).

    reading = read_soc(capacity_kwh)      # SocReading(fraction, source, detail, error)

Environment (set them in config/hea.yaml `jobDefaults.env`):
- HEA_SOC_SOURCE: `env` | `file` | `http` | `mqtt` | `none`. Unset: `env` when HEA_BATTERY_SOC_NOW is set,
  else `none`.
- env:  HEA_BATTERY_SOC_NOW, the reading itself. A value that is not a number or is out of range is a
  configuration mistake (ConfigError, exit 78), not a failed measurement.
- file: HEA_SOC_FILE, a file holding a number or a JSON document (HEA_SOC_JSON_PATH picks the value); a
  file older than HEA_SOC_MAX_AGE seconds (default 900) is stale.
- http: HEA_SOC_URL (GET, JSON answer unless it is a bare number), HEA_SOC_JSON_PATH, optional
  HEA_SOC_HTTP_TOKEN (sent as `Authorization: Bearer ...`, e.g. a Home Assistant long-lived token with
  HEA_SOC_URL=http://ha:8123/api/states/sensor.battery_soc and HEA_SOC_JSON_PATH=state).
- mqtt: HEA_SOC_MQTT_URL (mqtt://[user:password@]host[:port]), HEA_SOC_MQTT_TOPIC; the first message on
  the topic within HEA_SOC_TIMEOUT wins, so the device should publish it retained. Payload: a number or
  JSON (HEA_SOC_JSON_PATH).
- HEA_SOC_JSON_PATH: dotted path into the JSON (`battery.soc`, `data.0.value`); empty: the document itself.
- HEA_SOC_UNIT: `fraction` (0..1, the default), `percent` (0..100) or `kwh` (stored energy).
- HEA_SOC_TIMEOUT: seconds to wait for the http and mqtt sources (default 5).

A source that fails (unreachable, timeout, not a number, out of range, stale) never stops the plan: the
reading carries `error`, and the planner falls back to the last plan's value and says so.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from jobs.common import settings
from jobs.common.protocol import ConfigError

SOURCES = ("env", "file", "http", "mqtt", "none")
UNITS = ("fraction", "percent", "kwh")


class SocUnavailable(Exception):
    """The source did not give a usable reading (the message says why)."""


@dataclass(frozen=True)
class SocReading:
    fraction: float | None  # 0..1 of capacity; None when there is no reading
    source: str  # env | file | http | mqtt | none
    detail: str  # where it came from (no secrets)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.fraction is not None


def configured_source() -> str:
    source = settings.env_str("HEA_SOC_SOURCE", "").lower()
    if not source:
        return "env" if settings.env_str("HEA_BATTERY_SOC_NOW", "") else "none"
    if source not in SOURCES:
        raise ConfigError(f"HEA_SOC_SOURCE={source!r}: expected one of {', '.join(SOURCES)}")
    return source


def _unit() -> str:
    unit = settings.env_str("HEA_SOC_UNIT", "fraction").lower()
    if unit not in UNITS:
        raise ConfigError(f"HEA_SOC_UNIT={unit!r}: expected one of {', '.join(UNITS)}")
    return unit


def _required(name: str) -> str:
    value = settings.env_str(name, "")
    if not value:
        raise ConfigError(f"{name} must be set for HEA_SOC_SOURCE={configured_source()}")
    return value


def extract(document, path: str):
    """The value at a dotted path (`a.b.0.c`) of a parsed JSON document."""
    value = document
    for part in [p for p in path.split(".") if p]:
        if isinstance(value, list) and part.lstrip("-").isdigit():
            try:
                value = value[int(part)]
            except IndexError:
                raise SocUnavailable(f"JSON path {path!r}: index {part} out of range") from None
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise SocUnavailable(f"JSON path {path!r}: no {part!r} in the document")
    return value


def parse_payload(text: str) -> float:
    """A bare number, or a JSON document with the value at HEA_SOC_JSON_PATH."""
    text = text.strip()
    path = settings.env_str("HEA_SOC_JSON_PATH", "")
    try:
        value = float(text) if not path else None
    except ValueError:
        value = None
    if value is None:
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            raise SocUnavailable(f"not a number and not JSON: {text[:80]!r}") from None
        value = extract(document, path)
    if isinstance(value, bool) or value is None:
        raise SocUnavailable(f"the value is {value!r}, not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SocUnavailable(f"the value {value!r} is not a number") from None


def to_fraction(value: float, unit: str, capacity_kwh: float) -> float:
    fraction = {"fraction": value, "percent": value / 100.0, "kwh": value / capacity_kwh}[unit]
    if not 0.0 <= fraction <= 1.0 or fraction != fraction:
        raise SocUnavailable(f"{value} ({unit}) is outside the battery's range")
    return fraction


def _timeout() -> float:
    return settings.env_float("HEA_SOC_TIMEOUT", 5.0)


def _read_env() -> tuple[float, str]:
    raw = _required("HEA_BATTERY_SOC_NOW")
    try:
        return float(raw), "HEA_BATTERY_SOC_NOW"
    except ValueError:
        raise ConfigError(f"HEA_BATTERY_SOC_NOW={raw!r} is not a number") from None


def _read_file() -> tuple[float, str]:
    path = Path(_required("HEA_SOC_FILE"))
    try:
        age = time.time() - path.stat().st_mtime
        text = path.read_text()
    except OSError as err:
        raise SocUnavailable(f"cannot read {path}: {err.strerror or err}") from None
    max_age = settings.env_float("HEA_SOC_MAX_AGE", 900.0)
    if age > max_age:
        raise SocUnavailable(f"{path} is {age:.0f} s old (HEA_SOC_MAX_AGE={max_age:.0f})")
    return parse_payload(text), f"file {path}"


def _public(url: str) -> str:
    """The URL without credentials or query (for the plan and the logs)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _read_http() -> tuple[float, str]:
    import requests

    url = _required("HEA_SOC_URL")
    headers = {"Accept": "application/json"}
    token = settings.env_str("HEA_SOC_HTTP_TOKEN", "")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        resp = requests.get(url, headers=headers, timeout=_timeout())
    except requests.RequestException as err:
        raise SocUnavailable(f"GET {_public(url)} failed: {type(err).__name__}") from None
    if resp.status_code != 200:
        raise SocUnavailable(f"GET {_public(url)} answered {resp.status_code}")
    return parse_payload(resp.text), f"http {_public(url)}"


def _read_mqtt() -> tuple[float, str]:
    import paho.mqtt.client as mqtt

    url = urllib.parse.urlsplit(_required("HEA_SOC_MQTT_URL"))
    topic = _required("HEA_SOC_MQTT_TOPIC")
    if url.scheme not in ("mqtt", "tcp"):
        raise ConfigError(f"HEA_SOC_MQTT_URL: scheme {url.scheme!r}, expected mqtt://host:port")
    received: list[bytes] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"hea-soc-{os.getpid()}")
    if url.username:
        client.username_pw_set(urllib.parse.unquote(url.username), urllib.parse.unquote(url.password or ""))
    client.on_connect = lambda c, _u, _f, rc, _p: c.subscribe(topic, qos=1) if not rc.is_failure else None
    client.on_message = lambda _c, _u, msg: received.append(msg.payload)
    where = f"mqtt {url.hostname}:{url.port or 1883} {topic}"
    try:
        client.connect(url.hostname or "localhost", url.port or 1883, keepalive=30)
    except OSError as err:
        raise SocUnavailable(f"cannot connect to {where}: {err.strerror or err}") from None
    deadline = time.monotonic() + _timeout()
    try:
        while not received and time.monotonic() < deadline:
            client.loop(timeout=0.1)
    finally:
        client.disconnect()
    if not received:
        raise SocUnavailable(f"no message on {where} within {_timeout():g} s (publish it retained)")
    return parse_payload(received[0].decode("utf-8", "replace")), where


_READERS = {"env": _read_env, "file": _read_file, "http": _read_http, "mqtt": _read_mqtt}


def read_soc(capacity_kwh: float) -> SocReading:
    """The configured source's reading, or a reading with `error` set (never raises for a failed read)."""
    source = configured_source()
    if source == "none":
        return SocReading(None, "none", "no SoC source configured (HEA_SOC_SOURCE)")
    unit = _unit()
    try:
        value, detail = _READERS[source]()
        return SocReading(to_fraction(value, unit, capacity_kwh), source, detail)
    except SocUnavailable as err:
        if source == "env":  # the setting itself is wrong, not a measurement
            raise ConfigError(f"HEA_BATTERY_SOC_NOW: {err}") from None
        return SocReading(None, source, f"{source} source", str(err))
