"""What the benchmarks share: running in-process code under other settings, and reading a job's result."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator


@contextlib.contextmanager
def environment(**values) -> Iterator[None]:
    """Set environment variables (as strings) for the block, then put back what was there (or nothing)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def hea_settings(env: dict) -> dict:
    """The HEA_* settings of a job environment (to run a job's code in-process under them)."""
    return {k: v for k, v in env.items() if k.startswith("HEA_")}


def result_of(stdout: str) -> dict | None:
    """The result a job printed (its last `{"result": ...}` line), or None."""
    result = None
    for line in stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if isinstance(msg, dict) and "result" in msg:
            result = msg["result"]
    return result
