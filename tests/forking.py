"""``python -m pricing`` for the tests, forked from a process that has imported it already.

The suite starts about 250 ``pricing`` processes a run (the process's own contract: exit codes,
stdout and stderr, kills at chosen moments, several at once on one store), and most of each
one's processor time was its imports (SQLAlchemy, pydantic, pyarrow, pandas: about 90 s of the
suite's 400 s). Each test worker keeps one *zygote*: a process that imported every module of
``pricing`` and the libraries it uses, once, and forks a child for each ``pricing`` process a
test starts. The child is a real process (its own pid, killable, its exit status reported as
the kernel gave it), given the test's stdin, stdout and stderr, folder and environment, and runs
``pricing`` as ``-m`` would (``runpy``), then exits as an interpreter does (its exit code, a
traceback on an uncaught exception, at-exit handlers run).

Only ``[sys.executable, "-m", "pricing", ...]`` is forked, and only when nothing the interpreter
reads at its start differs from the zygote's (``PYTHON*``, the locale, ``TZ``, Arrow's and the
allocators' variables), nothing asks for what a fork cannot give (``preexec_fn``, other
descriptors, another user) and no stream is a terminal. Everything else starts as before:
``-c`` scripts (the peak-memory wrapper measures a fresh process), ``-X importtime``, shells.
``PRICING_TEST_FORK=0`` turns it off (every process started from scratch).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# What the interpreter reads when it starts (or a library when it is imported): a child whose
# environment differs here from the zygote's is started from scratch instead.
AT_START = ("PYTHON", "LC_", "LANG", "TZ", "ARROW_", "OMP_", "OPENBLAS", "MALLOC", "JE_", "LD_")
_STATUS = struct.Struct("!i")


# This checkout: the zygote imports pricing from it, and a child whose PYTHONPATH only adds it
# (the tests' servers: tests/serving.py's environment) imports the very same modules.
ROOT = str(Path(__file__).resolve().parents[1])


def _read_at_start(env: Mapping[str, str]) -> dict[str, str]:
    found = {name: value for name, value in env.items() if name.startswith(AT_START)}
    path = found.pop("PYTHONPATH", "").split(os.pathsep)
    others = [entry for entry in path if entry and os.path.abspath(entry) != ROOT]
    if others:
        found["PYTHONPATH"] = os.pathsep.join(others)
    return found


# -- the zygote (this file run as a script) ------------------------------------------------------


def _preload() -> None:
    """Every module of ``pricing`` and the libraries its commands load lazily."""
    import importlib
    import pkgutil

    import pricing

    for module in pkgutil.walk_packages(pricing.__path__, "pricing."):
        if module.name.endswith(("__main__", "migrations.env")):
            continue  # (they run when imported)
        importlib.import_module(module.name)
    for name in ("pandas", "pyarrow.csv", "pyarrow.compute", "duckdb", "openpyxl", "numpy",
                 "python_calamine", "httpx", "rich.console", "alembic.command", "psycopg",
                 "uvicorn", "fastapi", "jinja2", "argon2", "matplotlib.pyplot"):  # fmt: skip
        importlib.import_module(name)


def _receive(connection: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One request: its length, then its JSON, the child's three descriptors with the first
    bytes."""
    data, fds, _flags, _address = socket.recv_fds(connection, 1 << 16, 3)
    try:
        (length,) = _STATUS.unpack(data[:4])
        body = data[4:]
        while len(body) < length:
            more = connection.recv(length - len(body))
            if not more:
                raise EOFError
            body += more
        return json.loads(body), list(fds)
    except BaseException:
        for fd in fds:  # (a request cut short: its descriptors are not kept)
            os.close(fd)
        raise


def _serve(path: str) -> tuple[dict[str, Any], list[int]] | None:
    """Fork a child for each request until the test worker goes (its pipe on our stdin closes).
    Returns in a child only: what it is to run, its descriptors."""
    import selectors

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(128)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # (a handler: the wake-up byte is written)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "request")
    selector.register(wake_read, selectors.EVENT_READ, "child")
    selector.register(sys.stdin, selectors.EVENT_READ, "worker")
    waiting: dict[int, socket.socket] = {}
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        for key, _events in selector.select():
            if key.data == "worker":
                if not sys.stdin.buffer.read1(1):
                    return None  # (the worker went)
            elif key.data == "child":
                try:
                    while os.read(wake_read, 512):
                        pass
                except BlockingIOError:
                    pass
                while waiting:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                    if pid == 0:
                        break
                    told = waiting.pop(pid, None)
                    if told is not None:
                        with contextlib.suppress(OSError):  # (the test stopped waiting)
                            told.sendall(_STATUS.pack(status))
                        told.close()
            else:
                connection, _ = listener.accept()
                try:
                    request, fds = _receive(connection)
                except (OSError, EOFError, ValueError):
                    connection.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    selector.close()
                    for made in (listener, connection, *waiting.values()):
                        made.close()
                    os.close(wake_read)
                    os.close(wake_write)
                    return request, fds
                for fd in fds:
                    os.close(fd)
                try:
                    connection.sendall(_STATUS.pack(pid))
                except OSError:  # (the test went: its child is reaped, told to nobody)
                    connection.close()
                    continue
                waiting[pid] = connection


def _become(request: dict[str, Any], fds: list[int]) -> None:
    """The child: the test's streams, folder and environment, then ``pricing`` as ``-m`` runs
    it."""
    import ctypes
    import runpy
    import time

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: the zygote's end is ours
    if request["new_session"]:
        os.setsid()
    for number, fd in enumerate(fds):
        os.dup2(fd, number)
    os.closerange(3, os.sysconf("SC_OPEN_MAX") if os.sysconf("SC_OPEN_MAX") > 0 else 1024)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    sys.path[0] = os.getcwd()  # (as -m puts it)
    sys.argv = ["-m", *request["args"]]
    try:
        runpy._run_module_as_main("pricing", alter_argv=True)  # type: ignore[attr-defined]
        code = 0
    except SystemExit as exit:
        code = _exit_code(exit)
    except KeyboardInterrupt:  # (as the interpreter: ended by the signal)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 130
    except BaseException:
        sys.excepthook(*sys.exc_info())  # (the CLI's own hook, as an interpreter calls it)
        code = 1
    # As the interpreter ends, less its teardown of every object (each one's pages, shared with
    # the zygote until touched, would be copied: half a second a child).
    import atexit
    import threading

    threading._shutdown()  # type: ignore[attr-defined]  # (its threads that are not daemons)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120  # (as the interpreter when it cannot flush)
    os._exit(code)


def _exit_code(exit: SystemExit) -> int:
    """The exit status the interpreter gives a ``SystemExit`` (its text printed, status 1)."""
    if exit.code is None:
        return 0
    if isinstance(exit.code, int):
        return exit.code & 0xFF
    print(exit.code, file=sys.stderr)
    return 1


def _main() -> None:
    path = sys.argv[1]
    _preload()
    del sys.argv[1:]
    child = _serve(path)
    if child is not None:
        _become(*child)


# -- the tests' side ------------------------------------------------------------------------------


class _Zygote:
    """This worker's zygote, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._folder = tempfile.mkdtemp(prefix="pricing-zygote-")
        self.path = os.path.join(self._folder, "socket")
        self.at_start: dict[str, str] = {}

    def running(self) -> bool:
        with self._lock:
            if self._process is None:
                env = dict(os.environ)
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
                self.at_start = _read_at_start(env)
                self._process = _ORIGINAL_POPEN(
                    [sys.executable, __file__, self.path], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, env=env, cwd=self._folder,
                )  # fmt: skip
                assert self._process.stdout is not None
                if self._process.stdout.readline() != b"ready\n":
                    raise RuntimeError("the tests' zygote did not start (see its stderr)")
            return self._process.poll() is None

    def spawn(self, request: dict[str, Any], fds: Sequence[int]) -> tuple[int, socket.socket]:
        body = json.dumps(request).encode()
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(self.path)
        socket.send_fds(connection, [_STATUS.pack(len(body)) + body], list(fds))
        (pid,) = _STATUS.unpack(_receive_exactly(connection, _STATUS.size))
        return pid, connection

    def stop(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.communicate(timeout=10)  # (its stdin closed: it ends)
                self._process = None
            Path(self.path).unlink(missing_ok=True)
            os.rmdir(self._folder)


def _receive_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        more = connection.recv(size - len(data))
        if not more:
            raise ChildProcessError("the tests' zygote closed the connection")
        data += more
    return data


_ZYGOTE: _Zygote | None = None
FORKED = [0]  # (how many children this worker's zygote forked: tests/test_forking.py)
_ORIGINAL_POPEN = subprocess.Popen
_ORIGINAL_EXECUTE_CHILD = subprocess.Popen._execute_child  # type: ignore[attr-defined]
_ORIGINAL_INTERNAL_POLL = subprocess.Popen._internal_poll  # type: ignore[attr-defined]
_ORIGINAL_WAIT = subprocess.Popen._wait  # type: ignore[attr-defined]


def _forkable(args: Any, env: Mapping[str, str] | None, fds: Sequence[int], plain: bool) -> bool:
    if _ZYGOTE is None or not plain or not isinstance(args, (list, tuple)):
        return False
    if list(args[:3]) != [sys.executable, "-m", "pricing"]:
        return False
    if any(os.isatty(fd) for fd in fds):
        return False
    given = os.environ if env is None else env  # (an empty environment is one too)
    return _ZYGOTE.running() and _read_at_start(given) == _ZYGOTE.at_start


def _execute_child(self: subprocess.Popen[Any], args: Any, executable: Any, preexec_fn: Any,
                   close_fds: bool, pass_fds: Sequence[int], cwd: Any, env: Any, startupinfo: Any,
                   creationflags: int, shell: bool, p2cread: int, p2cwrite: int, c2pread: int,
                   c2pwrite: int, errread: int, errwrite: int, restore_signals: bool, gid: Any,
                   gids: Any, uid: Any, umask: int, start_new_session: bool,
                   process_group: Any) -> None:  # fmt: skip
    fds = [p2cread if p2cread != -1 else 0, c2pwrite if c2pwrite != -1 else 1,
           errwrite if errwrite != -1 else 2]  # fmt: skip
    plain = (executable is None and preexec_fn is None and not pass_fds and not shell
             and restore_signals and gid is None and gids is None and uid is None and umask < 0
             and process_group in (None, -1))  # fmt: skip
    if not _forkable(args, env, fds, plain):
        return _ORIGINAL_EXECUTE_CHILD(  # type: ignore[no-any-return]
            self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env, startupinfo,
            creationflags, shell, p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite,
            restore_signals, gid, gids, uid, umask, start_new_session, process_group,
        )  # fmt: skip
    assert _ZYGOTE is not None
    request = {
        "args": [os.fsdecode(a) for a in args[3:]],
        "cwd": os.fsdecode(os.path.abspath(cwd if cwd is not None else os.getcwd())),
        "env": {
            os.fsdecode(k): os.fsdecode(v) for k, v in (os.environ if env is None else env).items()
        },
        "new_session": bool(start_new_session),
    }
    try:
        self.pid, self._zygote_connection = _ZYGOTE.spawn(request, fds)  # type: ignore[attr-defined]
        self._child_created = True  # type: ignore[attr-defined]
        FORKED[0] += 1
    finally:
        self._close_pipe_fds(p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite)  # type: ignore[attr-defined]


def _zygote_status(self: subprocess.Popen[Any], timeout: float | None) -> int | None:
    """The child's exit code once the zygote has reaped it (None while it runs)."""
    connection: socket.socket = self._zygote_connection  # type: ignore[attr-defined]
    connection.settimeout(None if timeout is None else max(timeout, 0.0))
    try:
        data = connection.recv(_STATUS.size, socket.MSG_WAITALL)
    except (TimeoutError, BlockingIOError):
        return None
    connection.close()
    if len(data) != _STATUS.size:
        self.returncode = -signal.SIGKILL  # (the zygote went: its children with it)
    else:
        self.returncode = os.waitstatus_to_exitcode(_STATUS.unpack(data)[0])
    return self.returncode


def _internal_poll(self: subprocess.Popen[Any], _deadstate: Any = None, **kwargs: Any) -> Any:
    if not hasattr(self, "_zygote_connection"):
        return _ORIGINAL_INTERNAL_POLL(self, _deadstate, **kwargs)
    if self.returncode is None and self._waitpid_lock.acquire(False):  # type: ignore[attr-defined]
        try:  # (as the original: another thread waiting knows no more than we would)
            if self.returncode is None:
                _zygote_status(self, 0.0)
        finally:
            self._waitpid_lock.release()  # type: ignore[attr-defined]
    return self.returncode


def _wait(self: subprocess.Popen[Any], timeout: float | None) -> Any:
    if not hasattr(self, "_zygote_connection"):
        return _ORIGINAL_WAIT(self, timeout)
    lock = self._waitpid_lock  # type: ignore[attr-defined]
    if not lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
        raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
    try:
        if self.returncode is None and _zygote_status(self, timeout) is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
    finally:
        lock.release()
    return self.returncode


def install() -> None:
    """``python -m pricing`` forked from this worker's zygote (until :func:`uninstall`)."""
    global _ZYGOTE
    if os.environ.get("PRICING_TEST_FORK", "1") == "0" or _ZYGOTE is not None:
        return
    _ZYGOTE = _Zygote()
    subprocess.Popen._execute_child = _execute_child  # type: ignore[attr-defined]
    subprocess.Popen._internal_poll = _internal_poll  # type: ignore[attr-defined]
    subprocess.Popen._wait = _wait  # type: ignore[attr-defined]


def uninstall() -> None:
    global _ZYGOTE
    if _ZYGOTE is None:
        return
    subprocess.Popen._execute_child = _ORIGINAL_EXECUTE_CHILD  # type: ignore[attr-defined]
    subprocess.Popen._internal_poll = _ORIGINAL_INTERNAL_POLL  # type: ignore[attr-defined]
    subprocess.Popen._wait = _ORIGINAL_WAIT  # type: ignore[attr-defined]
    _ZYGOTE.stop()
    _ZYGOTE = None


if __name__ == "__main__":
    _main()
