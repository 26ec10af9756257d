"""The job protocol, Python side: progress, result and error lines on stdout, sysexits exit codes.

See docs/job-protocol.md. Everything a job prints that is not one of these JSON lines is a log line.
A failing job prints one error line just before it exits (`run_main`):
`{"error": {"type": "DataError", "message": "...", "field": "meter_id"}}` (field only when known).
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import re
import sys
import traceback
from collections.abc import Callable
from typing import Any

# sysexits.h: codes 64-78 mean "running this again will not help" and are never retried.
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CANTCREAT = 73
EX_IOERR = 74
EX_NOPERM = 77
EX_CONFIG = 78


class JobError(Exception):
    """An error with an exit code; subclasses in 64-78 are not retried by the runner.

    `field` names the input at fault when there is one (a flag's dest, e.g. "meter_id"): the error line
    carries it, so an API can point at the request field.
    """

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None, *, field: str | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
        self.field = field


class TransientError(JobError):
    """Worth retrying (network down, server busy): exit 1, retried by the job's retry policy."""

    exit_code = 1


class UsageError(JobError):
    exit_code = EX_USAGE


class DataError(JobError):
    """The input data cannot be used (too little history, gaps, unknown meter)."""

    exit_code = EX_DATAERR


class NoInputError(JobError):
    exit_code = EX_NOINPUT


class CantCreateError(JobError):
    """An output path cannot be created or written."""

    exit_code = EX_CANTCREAT


class ConfigError(JobError):
    exit_code = EX_CONFIG


def json_safe(value: Any) -> Any:
    """`value` with what JSON cannot carry replaced: NaN and infinity become None, numpy scalars Python
    numbers, dates ISO strings."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(json_safe(obj), separators=(",", ":")) + "\n")
    sys.stdout.flush()


def progress(pct: float, stage: str | None = None, message: str | None = None) -> None:
    """Report progress (0-100). The runner heartbeats the latest one to Temporal."""
    msg: dict[str, Any] = {"progress": max(0.0, min(100.0, float(pct)))}
    if stage:
        msg["stage"] = stage
    if message:
        msg["message"] = message
    _emit(msg)


def result(payload: dict) -> None:
    """Print the job's result line (the last one printed wins)."""
    _emit({"result": payload})


MAX_ERROR_MESSAGE = 1000  # characters of the error line's message; the full text stays on stderr


def error_line(err: BaseException) -> dict:
    """The protocol's error line for `err`: {"error": {"type", "message", "field"?}}.

    The message is one line (white space, newlines included, folded to single spaces) of at most
    MAX_ERROR_MESSAGE characters; `field` is a JobError's field, when it has one.
    """
    message = " ".join(str(err).split()) or type(err).__name__
    if len(message) > MAX_ERROR_MESSAGE:
        message = message[: MAX_ERROR_MESSAGE - 3] + "..."
    body: dict[str, Any] = {"type": type(err).__name__, "message": message}
    field = getattr(err, "field", None)
    if field:
        body["field"] = str(field)
    return {"error": body}


def error(err: BaseException) -> None:
    """Print the error line for `err` (see `error_line`); the runner keeps the last one."""
    _emit(error_line(err))


def log(message: str) -> None:
    """A plain log line: anything on stdout that is not a protocol message is logged by the runner."""
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def env_attempt() -> int:
    try:
        return int(os.environ.get("HEA_ATTEMPT", "1"))
    except ValueError:
        return 1


_ARGUMENT = re.compile(r"^argument ([^\s:/]+)")


def _flag_field(message: str) -> str | None:
    """The dest of the flag an argparse message names ("argument --horizon-days: ..." -> horizon_days)."""
    match = _ARGUMENT.match(message)
    return match.group(1).lstrip("-").replace("-", "_") if match else None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2; the protocol says usage is 64
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        _emit(error_line(UsageError(message, field=_flag_field(message))))
        sys.exit(EX_USAGE)


def parser(description: str) -> argparse.ArgumentParser:
    """An argparse parser whose usage errors exit 64 (non-retryable) instead of argparse's 2."""
    return _Parser(description=description)


UNWRITABLE = (PermissionError, NotADirectoryError, FileExistsError, IsADirectoryError)


def report_failure(err: Exception) -> int:
    """Say why a job failed and return its exit code: on stderr one line (a JobError, an unwritable path) or
    the traceback (anything else), on stdout the error line. For `run_main`, and for a host that runs jobs
    in-process."""
    if isinstance(err, JobError):
        sys.stderr.write(f"{type(err).__name__}: {err}\n")
        code = err.exit_code
    elif isinstance(err, OSError) and (isinstance(err, UNWRITABLE) or err.errno == errno.EROFS):
        # A path that cannot be written (no permission, a file where a directory must be, a read-only
        # disk) will not heal by retrying: exit 73, naming the path. Other OS errors may be transient.
        sys.stderr.write(f"{type(err).__name__}: {err}\n")
        code = EX_CANTCREAT
    else:  # a bug or an unexpected environment: retryable, with the traceback in stderr
        traceback.print_exception(err)
        code = 1
    error(err)
    return code


def run_main(main: Callable[[argparse.Namespace], dict | None], arg_parser: argparse.ArgumentParser) -> None:
    """Parse flags, run main, print its return value as the result, map exceptions to exit codes."""
    args = arg_parser.parse_args()
    try:
        payload = main(args)
    except KeyboardInterrupt:  # cancelled: the runner knows why, no error line
        sys.exit(130)
    except Exception as err:
        sys.exit(report_failure(err))
    result(payload or {})
    sys.exit(0)
