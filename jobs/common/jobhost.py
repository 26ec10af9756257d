"""The warm job host: a fork server that runs jobs from a Python that has already imported the heavy libraries.

    python -m jobs.common.jobhost --socket PATH [--exec-socket PATH] [--preload numpy,pandas,xgboost]

Started and stopped by the worker (src/process/jobHost.ts); docs/job-protocol.md, "The warm job host", is the
contract. In short: the worker opens three Unix-socket connections per job, each starting with one JSON line,

    {"job": ID, "role": "control", "spec": {"command", "args", "cwd", "env", "killGraceMs", "warm"}}
    {"job": ID, "role": "stdout"}
    {"job": ID, "role": "stderr"}

and once the three are in, the host forks a supervisor S (its own session), which forks the job J (its own
session and process group: J's pid is the group the worker signals). J's stdout and stderr are the two
stream connections. A `warm` job (`python -m module ...`, `python script.py ...`, `python -c code ...` with
this host's interpreter) runs in J itself, in a fresh environment, as `__main__`; anything else is exec'd.
S writes {"pid": J} on the control connection once J leads its group, then {"exitCode": n} or
{"signal": "SIGTERM"} when J has ended, and exits. The control connection is the job's lifeline: when it
closes (the worker died), S sends SIGTERM to J's group, waits killGraceMs, then SIGKILL.

With --exec-socket, the host first forks an exec host E, before any preload: the same protocol on a second
socket, for jobs that are not warm (any other command). E is a small interpreter, so its supervisors fork
cheaply, and a supervisor starts its job with posix_spawn rather than fork and exec: a fork of the
preloaded host (hundreds of MB of page tables, copy-on-write faults as Python touches its objects) cost a
short job tens of milliseconds.

The host itself lives while its stdin (a pipe from the worker) is open. Only third-party modules are
preloaded: our own jobs.* modules read the environment at import, so each job imports them afresh. What the
host does keep for them is their bytecode: it compiles every jobs.* source file once at start, and a job's
import takes that code object while the file is unchanged (same mtime and size), instead of compiling the
source again: with PYTHONDONTWRITEBYTECODE set and no __pycache__ (a fresh clone, a read-only image) every
job would, about 0.05-0.1 s each (measured: jobs.meters.train's imports). Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from types import CodeType
from typing import Any

HEADER_MAX_BYTES = 4 * 1024 * 1024
PENDING_TTL_SECONDS = 30.0
ROLES = ("control", "stdout", "stderr")


def preload(modules: list[str]) -> tuple[list[str], list[str]]:
    """Imports each module; one that fails is reported, never fatal (its jobs import it themselves)."""
    loaded, failed = [], []
    for name in modules:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception as err:  # noqa: BLE001 - any import failure only costs the job its warm start
            failed.append(f"{name}: {type(err).__name__}: {err}")
    return loaded, failed


class _PrecompiledLoader(importlib.machinery.SourceFileLoader):
    """Python's source loader, but an unchanged file's code object comes from the host's compile."""

    codes: dict[str, tuple[tuple[int, int], CodeType]] = {}

    def get_code(self, fullname: str) -> CodeType | None:
        path = self.get_filename(fullname)
        hit = self.codes.get(path)
        if hit is not None:
            try:
                st = os.stat(path)
            except OSError:
                st = None
            if st is not None and (st.st_mtime_ns, st.st_size) == hit[0]:
                return hit[1]
        return super().get_code(fullname)  # changed since the host started, or never compiled: as Python does


class _PrecompiledFinder(importlib.abc.MetaPathFinder):
    """Finds `package` and its submodules as Python does, handing their source files to _PrecompiledLoader."""

    def __init__(self, package: str) -> None:
        self.package = package

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name != self.package and not name.startswith(self.package + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _PrecompiledLoader(spec.loader.name, spec.loader.path)
        return spec


def precompile(package: str) -> int:
    """Compiles `package`'s source files (its tests aside) and installs the finder that serves them; returns
    how many. A file that does not compile is left to the job that imports it, to fail as it would."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return 0
    for base in spec.submodule_search_locations:
        for file in sorted(Path(base).rglob("*.py")):
            if "tests" in file.relative_to(base).parts:
                continue
            path = str(file)
            try:
                st = os.stat(path)
                code = importlib.machinery.SourceFileLoader(package, path).source_to_code(file.read_bytes(), path)
            except (OSError, SyntaxError, ValueError):
                continue
            _PrecompiledLoader.codes[path] = ((st.st_mtime_ns, st.st_size), code)
    sys.meta_path.insert(0, _PrecompiledFinder(package))
    return len(_PrecompiledLoader.codes)


def send(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall((json.dumps(message) + "\n").encode())


# --- the job (J) -------------------------------------------------------------------------------------------


def _stream(fd: int, errors: str) -> io.TextIOWrapper:
    # What PYTHONUNBUFFERED gives a fresh interpreter: an unbuffered binary layer, a write-through text layer.
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8", errors=errors, write_through=True)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _finish(code: int) -> int:
    """What interpreter shutdown does: wait for the job's threads, run its atexit hooks, flush its output."""
    import atexit
    import threading

    try:
        threading._shutdown()  # type: ignore[attr-defined]  # the non-daemon threads, as at a normal exit
    except Exception:  # noqa: BLE001
        traceback.print_exc()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed reader: the exit code is what still matters
            code = code or 120
    return code


def _print_job_traceback(exc: BaseException) -> None:
    """The traceback from the job's own frames on, as a fresh interpreter prints it (no host or runpy frames)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename in (__file__, runpy.__file__):
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)


def run_warm(spec: dict[str, Any]) -> int:
    """Runs a Python job in this (forked) interpreter as `python <args>` would, returning its exit code."""
    args: list[str] = spec["args"]
    os.environ.clear()
    os.environ.update(spec["env"])
    time.tzset()
    sys.stdout = sys.__stdout__ = _stream(1, "strict")
    sys.stderr = sys.__stderr__ = _stream(2, "backslashreplace")
    sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives as long as the job
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if "numpy" in sys.modules:
        # A fresh interpreter seeds numpy's global generator from the OS; a fork would share the host's.
        sys.modules["numpy"].random.seed()
    for name in [m for m in sys.modules if m == "jobs" or m.startswith("jobs.")]:
        del sys.modules[name]  # our modules read the environment at import: the job's own, please
    extra = [p for p in spec["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    if args[0] in ("-m", "-c"):
        sys.path[0:1] = [os.getcwd(), *extra]
    else:
        sys.path[0:1] = [os.path.dirname(os.path.realpath(args[0])), *extra]
    try:
        if args[0] == "-m":
            sys.argv = [args[1], *args[2:]]
            runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        elif args[0] == "-c":
            sys.argv = ["-c", *args[2:]]
            exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": builtins})  # noqa: S102 - it is the job's own -c
        else:
            sys.argv = list(args)
            runpy.run_path(args[0], run_name="__main__")
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt:
        traceback.print_exc()
        _finish(130)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)  # as a fresh interpreter ends: killed by SIGINT
        code = 130
    except BaseException as exc:  # noqa: BLE001 - an uncaught exception: the traceback and exit 1, as Python does
        _print_job_traceback(exc)
        code = 1
    return _finish(code)


def run_job(out: socket.socket, err: socket.socket, spec: dict[str, Any]) -> None:
    """J: stdio, signals and directory set up, then the job itself. Never returns."""
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    out.close()
    err.close()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    command = spec["command"]
    try:
        os.chdir(spec["cwd"])
    except OSError as exc:
        os.write(2, f"cannot start {command}: working directory {spec['cwd']}: {exc.strerror}\n".encode())
        os._exit(127)
    if spec.get("warm"):
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as a fresh interpreter has it
        code = 1
        try:
            code = run_warm(spec)
        finally:
            os._exit(code)
    try:
        os.execvpe(command, [command, *spec["args"]], spec["env"])
    except OSError as exc:
        # Shell conventions, as the cold supervisor: 127 no such command, 126 not executable.
        os.write(2, f"cannot start {command}: {exc.strerror}\n".encode())
        os._exit(127 if exc.errno == 2 else 126)


_SIGDEF = (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT)


def spawn_job(out: socket.socket, err: socket.socket, spec: dict[str, Any]) -> int | None:
    """J by posix_spawn (its own session, stdio as run_job sets it): J's pid, or None if it cannot be spawned.

    None (a missing command, a bad directory) sends the job down the fork path, whose J reports the problem
    as a fresh start would (exit 127 or 126, the reason on stderr): failures keep exactly one behaviour.
    """
    try:
        os.chdir(spec["cwd"])  # S's own directory: J inherits it, and S never uses a relative path
    except OSError:
        return None
    command: str = spec["command"]
    env: dict[str, str] = spec["env"]
    actions = [
        (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
        (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
    ]
    # As os.execvpe: a bare name is looked up on the job's own PATH.
    candidates = [command] if os.sep in command else [os.path.join(d, command) for d in os.get_exec_path(env)]
    for path in candidates:
        try:
            return os.posix_spawn(
                path, [command, *spec["args"]], env, file_actions=actions, setsid=True, setsigdef=_SIGDEF
            )
        except OSError:
            continue
    return None


# --- the supervisor (S) ------------------------------------------------------------------------------------


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except OSError:
        pass  # the group is gone already


def supervise(ctrl: socket.socket, out: socket.socket, err: socket.socket, spec: dict[str, Any]) -> None:
    """S: forks J as the leader of its own group, holds its lifeline, reports how it ended. Never returns."""
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the host lets the kernel reap; S waits for J itself
    # posix_spawn returns once J runs its command in a session of its own: it leads its group already.
    pid = None if spec.get("warm") else spawn_job(out, err, spec)
    if pid is None:
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            os.setsid()
            os.close(ready_w)  # J leads its group now: S may tell the worker to signal it
            ctrl.close()
            run_job(out, err, spec)
        os.close(ready_w)
        os.read(ready_r, 1)
        os.close(ready_r)
    out.close()
    err.close()
    grace = max(0.0, float(spec.get("killGraceMs", 10_000)) / 1000)
    cut = False
    try:
        send(ctrl, {"pid": pid})
    except OSError:
        cut = True
    pidfd = os.pidfd_open(pid)
    sel = selectors.DefaultSelector()
    sel.register(pidfd, selectors.EVENT_READ, "job")
    kill_at: float | None = None
    if cut:
        _kill_group(pid, signal.SIGTERM)
        kill_at = time.monotonic() + grace
    else:
        sel.register(ctrl, selectors.EVENT_READ, "lifeline")
    ended = False
    while not ended:
        timeout = None if kill_at is None else max(0.0, kill_at - time.monotonic())
        events = sel.select(timeout)
        if not events and kill_at is not None:
            _kill_group(pid, signal.SIGKILL)
            kill_at = None
        for key, _ in events:
            if key.data == "job":
                ended = True
            else:
                try:
                    data = ctrl.recv(4096)
                except OSError:
                    data = b""
                if not data:  # the worker is gone: the job goes too, SIGTERM then SIGKILL
                    cut = True
                    sel.unregister(ctrl)
                    _kill_group(pid, signal.SIGTERM)
                    kill_at = time.monotonic() + grace
    # J is a zombie now, so its group id cannot be reused: whatever J left behind in it goes.
    _kill_group(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if not cut:
        if os.WIFSIGNALED(status):
            message: dict[str, Any] = {"signal": signal.Signals(os.WTERMSIG(status)).name}
        else:
            message = {"exitCode": os.waitstatus_to_exitcode(status)}
        try:
            send(ctrl, message)
        except OSError:
            pass
    os._exit(0)


# --- the host ----------------------------------------------------------------------------------------------


class Host:
    def __init__(self, path: str, parent: int | None = None) -> None:
        # An exec host ends with the host that forked it (parent), as well as with its lifeline.
        self.parent = parent
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(256)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, "accept")
        self.sel.register(0, selectors.EVENT_READ, "lifeline")
        # Connections whose header line is still arriving, and jobs waiting for the rest of their three.
        self.headers: dict[socket.socket, tuple[bytearray, float]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}

    def serve(self) -> None:
        while True:
            for key, _ in self.sel.select(timeout=5.0):
                if key.data == "accept":
                    conn, _ = self.listener.accept()
                    conn.setblocking(False)
                    self.headers[conn] = (bytearray(), time.monotonic())
                    self.sel.register(conn, selectors.EVENT_READ, "header")
                elif key.data == "lifeline":
                    if not os.read(0, 4096):
                        return  # the worker closed our stdin (idle, or it died): jobs running keep their own S
                else:
                    self.read_header(key.fileobj)  # type: ignore[arg-type]
            self.expire()
            if self.parent is not None and os.getppid() != self.parent:
                return

    def drop(self, conn: socket.socket) -> None:
        if conn in self.headers:
            del self.headers[conn]
            self.sel.unregister(conn)
        conn.close()

    def read_header(self, conn: socket.socket) -> None:
        buf, _ = self.headers[conn]
        try:
            chunk = conn.recv(65536)
        except OSError:
            chunk = b""
        if not chunk or len(buf) + len(chunk) > HEADER_MAX_BYTES:
            self.drop(conn)
            return
        buf.extend(chunk)
        if b"\n" not in buf:
            return
        del self.headers[conn]
        self.sel.unregister(conn)
        conn.setblocking(True)
        try:
            header = json.loads(bytes(buf).split(b"\n", 1)[0])
            job, role = str(header["job"]), header["role"]
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}")
        except (ValueError, KeyError, TypeError) as exc:
            print(f"jobhost: bad header ({exc}); connection dropped", file=sys.stderr, flush=True)
            conn.close()
            return
        parts = self.jobs.setdefault(job, {"since": time.monotonic()})
        parts[role] = conn
        if role == "control":
            parts["spec"] = header.get("spec")
        if all(r in parts for r in ROLES):
            del self.jobs[job]
            self.launch(parts)

    def launch(self, parts: dict[str, Any]) -> None:
        ctrl, out, err = (parts[r] for r in ROLES)
        pid = os.fork()
        if pid == 0:
            try:
                # S keeps only its own job's connections: another job's streams held open here would never end.
                self.listener.close()
                for other in [*self.headers, *(c for p in self.jobs.values() for r, c in p.items() if r in ROLES)]:
                    other.close()
                supervise(ctrl, out, err, parts["spec"])
            except BaseException:  # noqa: BLE001 - S must never return into the host's loop
                traceback.print_exc()
            finally:
                os._exit(70)
        for conn in (ctrl, out, err):
            conn.close()

    def expire(self) -> None:
        now = time.monotonic()
        for conn, (_, since) in list(self.headers.items()):
            if now - since > PENDING_TTL_SECONDS:
                self.drop(conn)
        for job, parts in list(self.jobs.items()):
            if now - parts["since"] > PENDING_TTL_SECONDS:
                del self.jobs[job]
                for role in ROLES:
                    if role in parts:
                        parts[role].close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.common.jobhost", description=__doc__.split("\n")[0])
    parser.add_argument("--socket", required=True, help="Unix socket path to listen on (in a private directory)")
    parser.add_argument("--exec-socket", help="Unix socket path for the exec host (jobs that are not warm)")
    parser.add_argument("--preload", default="", help="comma-separated third-party modules to import up front")
    parser.add_argument(
        "--precompile", default="jobs", help="our package whose bytecode jobs reuse ('' for none: each job compiles)"
    )
    opts = parser.parse_args(argv)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the supervisors are reaped by the kernel
    started = time.monotonic()
    if opts.exec_socket:
        # E, forked before the preloads: listening (so ready below means both), serving from a small process.
        exec_host = Host(opts.exec_socket, parent=os.getpid())
        if os.fork() == 0:
            try:
                exec_host.serve()
            finally:
                os._exit(0)
        exec_host.listener.close()
        exec_host.sel.close()
    loaded, failed = preload([m.strip() for m in opts.preload.split(",") if m.strip()])
    precompiled = precompile(opts.precompile) if opts.precompile else 0
    host = Host(opts.socket)
    print(
        json.dumps(
            {
                "ready": True,
                "pid": os.getpid(),
                "preloaded": loaded,
                "failed": failed,
                "precompiled": precompiled,
                "seconds": round(time.monotonic() - started, 3),
            }
        ),
        flush=True,
    )
    try:
        host.serve()
    finally:
        try:
            os.unlink(opts.socket)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
