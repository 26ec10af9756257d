"""Shared pytest fixtures for the reference jobs' tests.

- Every test session gets its own HEA_DATA_DIR / HEA_MODELS_DIR under a temporary directory, so no test
  can touch the repo's data/ or models/ (a test may point them elsewhere with monkeypatch).
- `job_env(tmp_path)`: an environment for running a job as a subprocess into a fresh tmp store.
- `run_job(module, *args, env=...)`: runs `python -m <module>` from the repo root and parses the protocol.
- `fixture_path(name)` / `fixture_json(name)`: recorded responses under jobs/tests/fixtures/.
- `fake_http`: answers `requests.get` from a table of URL substrings to fixtures (no network).
- `fixture_server`: a real HTTP server on 127.0.0.1 serving jobs/tests/fixtures/ (for job subprocesses).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXED_NOW = "2025-11-03T10:30:00Z"  # a Monday, after the daylight-saving change and the 15-minute switch


@pytest.fixture(scope="session", autouse=True)
def _isolated_dirs(tmp_path_factory):
    base = tmp_path_factory.mktemp("hea")
    saved = {k: os.environ.get(k) for k in ("HEA_DATA_DIR", "HEA_MODELS_DIR", "HEA_STORE_URL")}
    os.environ["HEA_DATA_DIR"] = str(base / "data")
    os.environ["HEA_MODELS_DIR"] = str(base / "models")
    os.environ.pop("HEA_STORE_URL", None)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def fixture_path(name: str) -> Path:
    return FIXTURES / name


def fixture_json(name: str):
    return json.loads(fixture_path(name).read_text(encoding="utf-8"))


@pytest.fixture
def job_env(tmp_path) -> dict:
    """Environment for a job subprocess: a fresh store in tmp_path, a fixed clock, simulator sources."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEA_")}
    env.update(
        HEA_DATA_DIR=str(tmp_path / "data"),
        HEA_MODELS_DIR=str(tmp_path / "models"),
        HEA_NOW=FIXED_NOW,
        HEA_BACKFILL_DAYS="30",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class JobRun:
    returncode: int
    stdout: str
    stderr: str
    progress: list = field(default_factory=list)
    result: dict | None = None
    logs: list = field(default_factory=list)


def parse_protocol(stdout: str) -> tuple[list, dict | None, list]:
    progress, result, logs = [], None, []
    for line in stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            logs.append(line)
            continue
        if isinstance(msg, dict) and "progress" in msg:
            progress.append(msg)
        elif isinstance(msg, dict) and "result" in msg:
            result = msg["result"]
        else:
            logs.append(line)
    return progress, result, logs


def run_job_process(module: str, *args: str, env: dict, timeout: float = 120) -> JobRun:
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    progress, result, logs = parse_protocol(proc.stdout)
    return JobRun(proc.returncode, proc.stdout, proc.stderr, progress, result, logs)


@pytest.fixture
def run_job():
    return run_job_process


class FakeResponse:
    def __init__(
        self, status_code: int, body: str | bytes = b"", content_type: str = "application/json", url: str = ""
    ):
        self.status_code = status_code
        self._body = body.encode("utf-8") if isinstance(body, str) else body
        self.headers = {"Content-Type": content_type}
        self.url = url

    @property
    def text(self) -> str:
        return self._body.decode("utf-8")

    def json(self):
        return json.loads(self.text)


class FakeHttp:
    """Routes: (substring of url?query, FakeResponse | Exception | callable(url, params) -> FakeResponse)."""

    def __init__(self):
        self.routes: list[tuple[str, object]] = []
        self.calls: list[tuple[str, dict | None]] = []

    def add(self, pattern: str, answer) -> None:
        self.routes.insert(0, (pattern, answer))  # later routes win

    def add_fixture(self, pattern: str, name: str, status: int = 200) -> None:
        ctype = "text/csv" if name.endswith(".csv") else "application/json"
        self.add(pattern, FakeResponse(status, fixture_path(name).read_bytes(), ctype))

    def get(self, url, params=None, timeout=None, headers=None, **_):
        assert timeout is not None, "every request needs a timeout"
        self.calls.append((url, params))
        full = url + ("?" + urlencode(params) if params else "")
        for pattern, answer in self.routes:
            if pattern in full:
                if isinstance(answer, Exception):
                    raise answer
                if callable(answer) and not isinstance(answer, FakeResponse):
                    return answer(url, params)
                answer.url = url
                return answer
        return FakeResponse(404, "not found", "text/plain", url)


@pytest.fixture
def fake_http(monkeypatch) -> FakeHttp:
    fake = FakeHttp()
    import jobs.sources.http as http_mod

    monkeypatch.setattr(http_mod.requests, "get", fake.get)
    return fake


@pytest.fixture
def fixture_server():
    """Base URL of an HTTP server on 127.0.0.1 (random port) serving jobs/tests/fixtures/."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

    handler = partial(Quiet, directory=str(FIXTURES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
