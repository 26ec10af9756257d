"""SoC sources (jobs/battery/soc.py): env, file, HTTP/JSON against a local server, MQTT against a real
mosquitto, and the plan's fallback to the last plan when a source fails."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jobs.battery import soc
from jobs.common.protocol import ConfigError

CAPACITY = 10.0


@pytest.fixture
def soc_env(monkeypatch):
    for key in list(os.environ):
        if key.startswith("HEA_SOC_") or key == "HEA_BATTERY_SOC_NOW":
            monkeypatch.delenv(key)
    return monkeypatch


def test_no_source_is_no_reading(soc_env):
    reading = soc.read_soc(CAPACITY)
    assert reading.source == "none" and not reading.ok and reading.error is None


def test_env_value_with_units(soc_env):
    soc_env.setenv("HEA_BATTERY_SOC_NOW", "0.4")
    assert soc.read_soc(CAPACITY).fraction == pytest.approx(0.4)
    soc_env.setenv("HEA_SOC_UNIT", "percent")
    soc_env.setenv("HEA_BATTERY_SOC_NOW", "55")
    assert soc.read_soc(CAPACITY).fraction == pytest.approx(0.55)
    soc_env.setenv("HEA_SOC_UNIT", "kwh")
    soc_env.setenv("HEA_BATTERY_SOC_NOW", "7.5")
    reading = soc.read_soc(CAPACITY)
    assert reading.fraction == pytest.approx(0.75) and reading.source == "env"


def test_env_value_out_of_range_is_a_config_error(soc_env):
    soc_env.setenv("HEA_BATTERY_SOC_NOW", "1.5")
    with pytest.raises(ConfigError, match="HEA_BATTERY_SOC_NOW"):
        soc.read_soc(CAPACITY)


def test_unknown_source_is_a_config_error(soc_env):
    soc_env.setenv("HEA_SOC_SOURCE", "modbus")
    with pytest.raises(ConfigError, match="HEA_SOC_SOURCE"):
        soc.read_soc(CAPACITY)


def test_file_number_json_stale_and_missing(soc_env, tmp_path):
    path = tmp_path / "soc.txt"
    soc_env.setenv("HEA_SOC_SOURCE", "file")
    soc_env.setenv("HEA_SOC_FILE", str(path))
    missing = soc.read_soc(CAPACITY)
    assert not missing.ok and "cannot read" in missing.error

    path.write_text("0.62\n")
    assert soc.read_soc(CAPACITY).fraction == pytest.approx(0.62)

    path.write_text(json.dumps({"battery": {"soc": 81}}))
    soc_env.setenv("HEA_SOC_JSON_PATH", "battery.soc")
    soc_env.setenv("HEA_SOC_UNIT", "percent")
    assert soc.read_soc(CAPACITY).fraction == pytest.approx(0.81)

    old = time.time() - 3600
    os.utime(path, (old, old))
    stale = soc.read_soc(CAPACITY)
    assert not stale.ok and "old" in stale.error


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, str]] = {}
    seen_auth: list[str | None] = []

    def do_GET(self):  # noqa: N802
        self.seen_auth.append(self.headers.get("Authorization"))
        status, body = self.routes.get(self.path, (404, "not found"))
        if status == 0:  # hang past the client's timeout
            time.sleep(1.5)
            status, body = 200, "0.5"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_):
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_json_path_token_and_failures(soc_env, http_server):
    _Handler.routes = {
        "/api/states/sensor.battery": (200, json.dumps({"state": "64.0", "attributes": {"unit": "%"}})),
        "/list": (200, json.dumps({"data": [{"soc": 0.1}, {"soc": 0.3}]})),
        "/broken": (500, "{}"),
        "/text": (200, "<html>"),
        "/slow": (0, ""),
    }
    soc_env.setenv("HEA_SOC_SOURCE", "http")
    soc_env.setenv("HEA_SOC_URL", f"{http_server}/api/states/sensor.battery")
    soc_env.setenv("HEA_SOC_JSON_PATH", "state")
    soc_env.setenv("HEA_SOC_UNIT", "percent")
    soc_env.setenv("HEA_SOC_HTTP_TOKEN", "secret-token")
    reading = soc.read_soc(CAPACITY)
    assert reading.fraction == pytest.approx(0.64) and reading.source == "http"
    assert _Handler.seen_auth[-1] == "Bearer secret-token" and "secret" not in reading.detail

    soc_env.setenv("HEA_SOC_URL", f"{http_server}/list")
    soc_env.setenv("HEA_SOC_JSON_PATH", "data.1.soc")
    soc_env.setenv("HEA_SOC_UNIT", "fraction")
    assert soc.read_soc(CAPACITY).fraction == pytest.approx(0.3)

    soc_env.setenv("HEA_SOC_JSON_PATH", "data.5.soc")
    assert "out of range" in soc.read_soc(CAPACITY).error
    soc_env.setenv("HEA_SOC_URL", f"{http_server}/broken")
    assert "answered 500" in soc.read_soc(CAPACITY).error
    soc_env.setenv("HEA_SOC_URL", f"{http_server}/text")
    assert "not JSON" in soc.read_soc(CAPACITY).error
    soc_env.setenv("HEA_SOC_URL", f"{http_server}/slow")
    soc_env.setenv("HEA_SOC_TIMEOUT", "0.3")
    assert "Timeout" in soc.read_soc(CAPACITY).error


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


@pytest.fixture
def mosquitto(tmp_path):
    """A real broker on a free port with its own config (Debian's mosquitto; .ci/run installs it)."""
    assert MOSQUITTO, "mosquitto is not installed (apt-get install -y mosquitto)"
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"mosquitto did not start: {proc.stderr.read().decode()}") from None
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def _publish_retained(port: int, topic: str, payload: str) -> None:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def test_mqtt_retained_reading_and_silent_topic(soc_env, mosquitto):
    _publish_retained(mosquitto, "home/battery/soc", json.dumps({"soc_pct": 47}))
    soc_env.setenv("HEA_SOC_SOURCE", "mqtt")
    soc_env.setenv("HEA_SOC_MQTT_URL", f"mqtt://127.0.0.1:{mosquitto}")
    soc_env.setenv("HEA_SOC_MQTT_TOPIC", "home/battery/soc")
    soc_env.setenv("HEA_SOC_JSON_PATH", "soc_pct")
    soc_env.setenv("HEA_SOC_UNIT", "percent")
    reading = soc.read_soc(CAPACITY)
    assert reading.fraction == pytest.approx(0.47) and reading.source == "mqtt"

    soc_env.setenv("HEA_SOC_MQTT_TOPIC", "home/battery/nothing")
    soc_env.setenv("HEA_SOC_TIMEOUT", "0.5")
    silent = soc.read_soc(CAPACITY)
    assert not silent.ok and "no message" in silent.error

    soc_env.setenv("HEA_SOC_MQTT_URL", f"mqtt://127.0.0.1:{_free_port()}")
    down = soc.read_soc(CAPACITY)
    assert not down.ok and "cannot connect" in down.error


def test_the_plan_falls_back_to_the_last_plan_and_says_why(run_job, job_env, tmp_path):
    """A measured SoC drives the first plan; when the source then fails, the next plan starts from the last one."""
    import pandas as pd

    from jobs.common.store import Store
    from jobs.simulator.backfill import backfill_store

    job_env["HEA_NOW"] = "2025-06-16T10:50:00Z"
    end = pd.Timestamp(job_env["HEA_NOW"]).floor("h")
    os.makedirs(job_env["HEA_DATA_DIR"], exist_ok=True)
    url = f"sqlite:///{Path(job_env['HEA_DATA_DIR']) / 'energy.db'}"
    with Store.open(url) as store:
        backfill_store(store, end - pd.Timedelta(days=10), end, forecasts=False)
    soc_file = tmp_path / "soc"
    soc_file.write_text("0.8")
    env = {**job_env, "HEA_SOC_SOURCE": "file", "HEA_SOC_FILE": str(soc_file)}
    first = run_job("jobs.rl.run_production_agent", env=env)
    assert first.returncode == 0, first.stderr
    assert first.result["soc_source"] == "measured" and first.result["soc_start"] == pytest.approx(0.8)
    with Store.open(url) as store:
        plan = store.read_plan()
    assert set(plan["soc_source"]) == {"measured"}

    soc_file.unlink()
    later = {**env, "HEA_NOW": "2025-06-16T11:50:00Z"}
    second = run_job("jobs.rl.run_production_agent", env=later)
    assert second.returncode == 0, second.stderr
    res = second.result
    assert res["soc_source"] == "last_plan"
    assert "file source failed: cannot read" in res["soc_source_detail"]
    expected = float(plan.loc[pd.Timestamp("2025-06-16T11:00:00Z"), "soc_kwh"]) / 10.0
    assert res["soc_start"] == pytest.approx(expected, abs=1e-4)
    with Store.open(url) as store:
        replanned = store.read_plan()
    assert set(replanned["soc_source"]) == {"last_plan"} and replanned.index[0] == pd.Timestamp("2025-06-16T12:00:00Z")
