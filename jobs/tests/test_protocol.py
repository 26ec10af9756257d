"""The Python side of the job protocol: result lines and exit codes."""

import json
import subprocess
import sys
import textwrap

import pytest

JOB = textwrap.dedent(
    """
    import sys
    from jobs.common.protocol import DataError, JobError, parser, progress, run_main

    def main(args):
        progress(50, "working", "half-way")
        if args.mode == "data":
            raise DataError("only 3 rows")
        if args.mode == "notdir":
            open(args.path + "/model.pkl", "wb")   # a regular file where a directory must be
        if args.mode == "crash":
            raise RuntimeError("a bug")
        if args.mode == "field":
            raise DataError("meter unknown:\\n  no readings", field="meter_id")
        if args.mode == "custom":
            raise JobError("gave up", exit_code=75)
        return {"rows": 3, "nan": float("nan")}

    p = parser("test job")
    p.add_argument("--mode", default="ok")
    p.add_argument("--path", default="")
    p.add_argument("--rows", type=int, default=3)
    run_main(main, p)
    """
)


def run(*args):
    return subprocess.run([sys.executable, "-c", JOB, *args], capture_output=True, text=True, timeout=60)


def test_success_prints_progress_then_the_result_with_nan_as_null():
    res = run()
    assert res.returncode == 0
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert lines[0] == {"progress": 50.0, "stage": "working", "message": "half-way"}
    assert lines[-1] == {"result": {"rows": 3, "nan": None}}


@pytest.mark.parametrize(
    "args, code, text",
    [
        (["--mode", "data"], 65, "DataError: only 3 rows"),
        (["--bogus"], 64, "unrecognized arguments"),
        (["--mode", "crash"], 1, "RuntimeError: a bug"),
    ],
)
def test_exit_codes(args, code, text):
    res = run(*args)
    assert res.returncode == code
    assert text in res.stderr


def test_an_unwritable_path_is_not_retried_and_is_named(tmp_path):
    blocker = tmp_path / "models"
    blocker.write_text("a file, not a directory")
    res = run("--mode", "notdir", "--path", str(blocker))
    assert res.returncode == 73
    assert str(blocker) in res.stderr


@pytest.mark.parametrize("setting", [{"HEA_NOW": "yesterday-ish"}, {"HEA_TIMEZONE": "Mars/Olympus_Mons"}])
def test_a_bad_setting_is_a_config_error_not_retried(tmp_path, setting):
    import os
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("HEA_")}
    env.update(HEA_DATA_DIR=str(tmp_path / "data"), HEA_BACKFILL_DAYS="2", **setting)
    res = subprocess.run(
        [sys.executable, "-m", "jobs.prices.fetch"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 78, res.stderr[-1000:]
    assert list(setting)[0] in res.stderr


def error_lines(res) -> list[dict]:
    return [m["error"] for m in map(json.loads, res.stdout.splitlines()) if "error" in m]


@pytest.mark.parametrize(
    "args, code, error",
    [
        (["--mode", "data"], 65, {"type": "DataError", "message": "only 3 rows"}),
        # A multi-line message becomes one line; the field at fault is carried.
        (["--mode", "field"], 65, {"type": "DataError", "message": "meter unknown: no readings", "field": "meter_id"}),
        (["--mode", "custom"], 75, {"type": "JobError", "message": "gave up"}),
        (["--mode", "crash"], 1, {"type": "RuntimeError", "message": "a bug"}),
        (
            ["--rows", "many"],
            64,
            {"type": "UsageError", "message": "argument --rows: invalid int value: 'many'", "field": "rows"},
        ),
        (["--bogus"], 64, {"type": "UsageError", "message": "unrecognized arguments: --bogus"}),
    ],
)
def test_a_failing_job_prints_one_error_line_last_on_stdout(args, code, error):
    res = run(*args)
    assert res.returncode == code
    assert error_lines(res) == [error]
    assert "error" in json.loads(res.stdout.splitlines()[-1])
    assert "result" not in res.stdout


def test_an_unexpected_error_keeps_its_traceback_on_stderr_and_names_its_class_on_stdout():
    res = run("--mode", "crash")
    assert "Traceback" in res.stderr and "Traceback" not in res.stdout
    assert error_lines(res)[0]["type"] == "RuntimeError"


def test_the_unwritable_path_error_line_names_the_path(tmp_path):
    blocker = tmp_path / "models"
    blocker.write_text("a file, not a directory")
    res = run("--mode", "notdir", "--path", str(blocker))
    assert res.returncode == 73
    [err] = error_lines(res)
    assert err["type"] == "NotADirectoryError" and str(blocker) in err["message"] and "field" not in err


def test_a_success_prints_no_error_line():
    assert error_lines(run()) == []


def test_the_error_line_message_is_one_bounded_line():
    from jobs.common.protocol import MAX_ERROR_MESSAGE, ConfigError, error_line

    line = error_line(ConfigError("x" * 5000 + "\n" + "y"))
    assert line["error"]["type"] == "ConfigError" and "field" not in line["error"]
    assert len(line["error"]["message"]) == MAX_ERROR_MESSAGE and "\n" not in line["error"]["message"]
    assert error_line(KeyError())["error"] == {"type": "KeyError", "message": "KeyError"}
