"""The warm job host on its own (jobs/common/jobhost.py): a real host process, real Unix sockets, real forks.

The runner's side (src/process/jobHost.ts) is tested through Temporal in test/faults/warmHost.test.ts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("host") / "host.sock")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobs.common.jobhost", "--socket", path, "--preload", "json,nonexistent_module_xyz"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    ready = json.loads(proc.stdout.readline())
    yield path, ready, proc
    proc.stdin.close()
    proc.wait(timeout=10)


def launch(
    path: str,
    args: list[str],
    warm: bool = True,
    command: str = sys.executable,
    env: dict | None = None,
    grace_ms: int = 500,
):
    job = uuid.uuid4().hex
    conns = []
    for role in ("control", "stdout", "stderr"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        header = {"job": job, "role": role}
        if role == "control":
            header["spec"] = {
                "command": command,
                "args": args,
                "cwd": str(ROOT),
                "killGraceMs": grace_ms,
                "warm": warm,
                "env": env if env is not None else {"PATH": os.environ["PATH"], "HEA_X": "1"},
            }
        s.sendall((json.dumps(header) + "\n").encode())
        conns.append(s)
    control = conns[0].makefile()
    pid = json.loads(control.readline())["pid"]
    return pid, control, conns


def finish(control, conns):
    out = conns[1].makefile().read()
    err = conns[2].makefile().read()
    return json.loads(control.readline()), out, err


def test_ready_line_reports_preloads(host):
    _, ready, _ = host
    assert ready["preloaded"] == ["json"]
    assert ready["failed"][0].startswith("nonexistent_module_xyz: ModuleNotFoundError")


def test_warm_job_gets_its_own_env_argv_and_group(host):
    path, _, _ = host
    code = "import os, sys, json; print(json.dumps([os.environ.get('HEA_X'), os.environ.get('HOME'), sys.argv, os.getpgid(0) == os.getpid()]))"
    pid, control, conns = launch(path, ["-c", code, "a", "b"])
    end, out, err = finish(control, conns)
    assert end == {"exitCode": 0}
    assert json.loads(out) == ["1", None, ["-c", "a", "b"], True]
    assert err == ""


@pytest.mark.parametrize(
    ("code", "expected", "stderr_end"),
    [
        ("import sys; sys.exit(65)", {"exitCode": 65}, ""),
        ("import sys; sys.exit('bad input')", {"exitCode": 1}, "bad input\n"),
        ("raise ValueError('boom')", {"exitCode": 1}, "ValueError: boom\n"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", {"signal": "SIGTERM"}, ""),
    ],
)
def test_exit_codes_and_signals_as_a_fresh_interpreter(host, code, expected, stderr_end):
    path, _, _ = host
    _, control, conns = launch(path, ["-c", code])
    end, _, err = finish(control, conns)
    assert end == expected
    assert err.endswith(stderr_end)
    assert "jobhost" not in err


def test_exec_and_missing_commands(host):
    path, _, _ = host
    _, control, conns = launch(path, ["-c", "echo hi; exit 3"], warm=False, command="/bin/sh")
    assert finish(control, conns) == ({"exitCode": 3}, "hi\n", "")
    _, control, conns = launch(path, [], warm=False, command="/nonexistent/job")
    end, _, err = finish(control, conns)
    assert end == {"exitCode": 127}
    assert err.startswith("cannot start /nonexistent/job")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return False


def test_lifeline_cut_kills_the_group_even_when_sigterm_is_ignored(host):
    path, _, _ = host
    code = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "c = subprocess.Popen(['sleep', '60'])\n"
        "print(c.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    pid, control, conns = launch(path, ["-c", code], grace_ms=300)
    out = conns[1].makefile()
    child = int(out.readline())
    assert alive(pid) and alive(child)
    for f in (control, out, *conns):
        f.close()  # the worker died: every one of its connections is gone
    deadline = time.monotonic() + 10
    while (alive(pid) or alive(child)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid) and not alive(child)


def test_signalling_the_group_kills_the_tree_and_reports_the_signal(host):
    path, _, _ = host
    code = "import subprocess, time\nc = subprocess.Popen(['sleep', '60'])\nprint(c.pid, flush=True)\ntime.sleep(60)\n"
    pid, control, conns = launch(path, ["-c", code])
    child = int(conns[1].makefile().readline())
    os.killpg(pid, signal.SIGTERM)
    end, _, _ = finish(control, conns)
    assert end == {"signal": "SIGTERM"}
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().split(") ")[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except OSError:
                pass
    return out


def test_exec_host_spawns_commands_with_the_same_guarantees_and_ends_with_the_host(tmp_path):
    path, exec_path = str(tmp_path / "host.sock"), str(tmp_path / "exec.sock")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jobs.common.jobhost",
            "--socket",
            path,
            "--exec-socket",
            exec_path,
            "--preload",
            "json",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert json.loads(proc.stdout.readline())["ready"]
        exec_hosts = children_of(proc.pid)
        assert len(exec_hosts) == 1  # E, forked before the preloads
        # A command through E: its own group and session, its env, its directory, stdin from /dev/null.
        script = 'echo "$HEA_X $(pwd) $(ps -o pgid= -p $$) $(ps -o sid= -p $$)"; cat; exit 4'
        pid, control, conns = launch(exec_path, ["-c", script], warm=False, command="sh")
        end, out, err = finish(control, conns)
        assert end == {"exitCode": 4} and err == ""
        assert out.split() == ["1", str(ROOT), str(pid), str(pid)]
        # Missing commands keep their class.
        _, control, conns = launch(exec_path, [], warm=False, command="no-such-command-xyz")
        end, _, err = finish(control, conns)
        assert end == {"exitCode": 127} and err.startswith("cannot start no-such-command-xyz")
        # The lifeline: closing the job's connections kills its tree, SIGTERM ignored or not.
        pid, control, conns = launch(
            exec_path, ["-c", "trap '' TERM; sleep 60 & echo $!; wait"], warm=False, command="sh", grace_ms=300
        )
        out = conns[1].makefile()
        child = int(out.readline())
        assert alive(pid) and alive(child)
        for f in (control, out, *conns):
            f.close()
        deadline = time.monotonic() + 10
        while (alive(pid) or alive(child)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pid) and not alive(child)
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while alive(exec_hosts[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(exec_hosts[0])


# --- bytecode compiled once by the host ---------------------------------------------------------------------


@pytest.fixture
def precompiling_host(tmp_path):
    """A host precompiling `hostpkg`, a package of our own in tmp_path (its `mod` says VALUE = 1)."""
    pkg = tmp_path / "lib" / "hostpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text(
        "VALUE = 1\n\n\ndef boom():\n    raise ValueError('from mod')\n\n\n"
        "if __name__ == '__main__':\n    print(type(__loader__).__name__)\n"
    )
    path = str(tmp_path / "host.sock")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "lib"), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobs.common.jobhost", "--socket", path, "--precompile", "hostpkg"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    ready = json.loads(proc.stdout.readline())
    yield path, ready, pkg, env
    proc.stdin.close()
    proc.wait(timeout=10)


def _value_and_loader(path: str, env: dict) -> list:
    code = (
        "import json, hostpkg.mod as m; print(json.dumps([m.VALUE, type(m.__loader__).__name__, "
        "__import__('jobs.common.settings').common.settings.__loader__.__class__.__name__]))"
    )
    _, control, conns = launch(path, ["-c", code], env=env)
    end, out, err = finish(control, conns)
    assert end == {"exitCode": 0}, err
    return json.loads(out)


def test_jobs_take_the_hosts_code_while_the_file_is_unchanged(precompiling_host):
    path, ready, pkg, env = precompiling_host
    assert ready["precompiled"] == 2
    # The package's modules come from the host's compile; packages it was not told about load as usual.
    assert _value_and_loader(path, env) == [1, "_PrecompiledLoader", "SourceFileLoader"]
    _, control, conns = launch(path, ["-m", "hostpkg.mod"], env=env)  # a job's own module, run as __main__
    assert finish(control, conns)[:2] == ({"exitCode": 0}, "_PrecompiledLoader\n")
    # Same size, same mtime: the host's code object is what runs (it is not compiled again)...
    mod = pkg / "mod.py"
    st = mod.stat()
    mod.write_text(mod.read_text().replace("VALUE = 1", "VALUE = 2"))
    os.utime(mod, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _value_and_loader(path, env)[0] == 1
    # ...and a file changed since the host started is compiled from its new source.
    mod.write_text("VALUE = 3  # edited\n")
    assert _value_and_loader(path, env)[0] == 3
    assert not list(pkg.rglob("*.pyc"))  # nothing written next to the sources


def test_precompiled_tracebacks_name_the_source_file_and_line(precompiling_host):
    path, _, pkg, env = precompiling_host
    _, control, conns = launch(path, ["-c", "import hostpkg.mod; hostpkg.mod.boom()"], env=env)
    end, _, err = finish(control, conns)
    assert end == {"exitCode": 1}
    assert f'File "{pkg / "mod.py"}", line 5, in boom' in err
    assert "raise ValueError('from mod')" in err and err.endswith("ValueError: from mod\n")
