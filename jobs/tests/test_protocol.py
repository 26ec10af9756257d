"""The Python side of the job protocol: result lines and exit codes."""

import json
import subprocess
import sys
import textwrap

import pytest

JOB = textwrap.dedent(
    """
    import sys
    from jobs.common.protocol import DataError, parser, progress, run_main

    def main(args):
        progress(50, "working", "half-way")
        if args.mode == "data":
            raise DataError("only 3 rows")
        if args.mode == "notdir":
            open(args.path + "/model.pkl", "wb")   # a regular file where a directory must be
        if args.mode == "crash":
            raise RuntimeError("a bug")
        return {"rows": 3, "nan": float("nan")}

    p = parser("test job")
    p.add_argument("--mode", default="ok")
    p.add_argument("--path", default="")
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
    res = subprocess.run([sys.executable, "-m", "jobs.prices.fetch"], cwd=Path(__file__).resolve().parents[2],
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 78, res.stderr[-1000:]
    assert list(setting)[0] in res.stderr
