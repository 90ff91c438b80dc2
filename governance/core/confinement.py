"""Work that could exhaust a worker, done in a child process with a memory limit and a time limit.

`run(fn, *args, memory_mb=..., seconds=...)` forks a child, caps its address space (RLIMIT_AS: what it held at
the fork plus `memory_mb`), calls `fn(*args, on_progress=...)` there and hands back what it returned; progress,
the result and the exception it raised come back through a pipe. When the child runs out of memory, crashes or
outlives `seconds`, it is stopped and `Exceeded` says which limit in words for the person who asked; the worker
itself is untouched, so one poison file fails its own job instead of killing every worker that retries it.

Why fork (not spawn or forkserver): the child starts in milliseconds with everything its parent loaded (NumPy,
pyarrow, the storage backend and its configuration), where a fresh interpreter pays seconds of imports per run.
The child never uses the parent's database connection (it is detached, not closed: closing would end the
parent's session), leaves the worker's signal handlers behind, and exits with os._exit (none of the parent's
exit handlers run).
"""

import ctypes
import errno
import os
import resource
import signal
import sys
import time
from multiprocessing.connection import Connection

MB = 1024 * 1024
_POLL_SECONDS = 1.0
_inherited = []  # the parent's database connections, kept referenced in the child so nothing closes them


class Exceeded(Exception):
    """The child was stopped by a limit or crashed; the message says which, for the person who asked."""

    def __init__(self, message: str, *, limit: str):
        super().__init__(message)
        self.limit = limit  # "memory", "time" or "crash"


def run(fn, *args, memory_mb: int, seconds: float, on_progress=None, memory_setting="", time_setting=""):
    """fn(*args, on_progress=callback) in a child process within the limits; its result, or its exception
    re-raised here, or Exceeded. `*_setting` name the settings that hold the limits, for the message."""
    # os.fork, not multiprocessing.Process: a Celery prefork worker process is daemonic, and multiprocessing
    # refuses children to daemonic processes.
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_end)
            _child(Connection(write_end), fn, args, memory_mb * MB)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    receiver = Connection(read_end)
    deadline = time.monotonic() + seconds
    exitcode = None
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Exceeded(
                    f"took longer than its time limit of {_duration(seconds)}{_named(time_setting)}", limit="time"
                )
            if not receiver.poll(min(remaining, _POLL_SECONDS)):
                continue
            try:
                kind, value = receiver.recv()
            except EOFError:
                break  # the child ended without a word: how is in its exit code
            if kind == "progress":
                if on_progress is not None:
                    on_progress(value)
            elif kind == "result":
                return value
            else:  # "raised"
                raise value
        exitcode = _wait(pid, 10)
        raise _death(exitcode, memory_mb, memory_setting)
    finally:
        if exitcode is None and _wait(pid, 0) is None:
            os.kill(pid, signal.SIGKILL)
            _wait(pid, None)
        receiver.close()


def _wait(pid: int, seconds):
    """The child's exit code once it ended (negative: the signal that killed it), waiting up to `seconds` (None:
    for as long as it takes); None while it runs."""
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        try:
            done, status = os.waitpid(pid, 0 if seconds is None else os.WNOHANG)
        except ChildProcessError:
            return -signal.SIGKILL  # already reaped
        if done:
            return os.waitstatus_to_exitcode(status)
        if deadline is None or time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


_MEMORY_EXIT = 75  # the child's exit code when it ran out of memory


def _child(sender, fn, args, memory_bytes: int) -> None:
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(number, signal.SIG_DFL)  # not the worker's handlers (warm shutdown, soft time limit)
    _die_with_parent()
    _detach_database()
    _limit_memory(memory_bytes)
    try:
        result = fn(*args, on_progress=lambda percent: sender.send(("progress", percent)))
        sender.send(("result", result))
    except MemoryError:
        os._exit(_MEMORY_EXIT)
    except OSError as exc:
        if exc.errno == errno.ENOMEM:
            os._exit(_MEMORY_EXIT)
        _send_exception(sender, exc)
    except Exception as exc:
        _send_exception(sender, exc)


def _send_exception(sender, exc) -> None:
    try:
        sender.send(("raised", exc))
    except Exception:  # an exception that does not pickle travels as its text
        sender.send(("raised", RuntimeError(f"{type(exc).__name__}: {exc}")))


def _detach_database() -> None:
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        _inherited.append(connection.connection)
        connection.connection = None  # a query here would open a connection of its own


def _limit_memory(budget: int) -> None:
    """Cap the address space at what the child holds now plus the budget (libraries reserve address space they
    never touch, so a cap on the total would mostly measure what the parent had loaded)."""
    try:
        with open("/proc/self/statm") as statm:
            held = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        held = 0
    limit = held + budget
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _die_with_parent() -> None:
    """Linux: the child is killed when its worker dies (killed by the system, say), instead of computing on."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the worker died before the call
        os._exit(1)


def _death(exitcode, memory_mb: int, memory_setting: str) -> Exceeded:
    limit = f"{_size(memory_mb)} memory limit{_named(memory_setting)}"
    if exitcode == _MEMORY_EXIT:
        return Exceeded(f"ran out of its {limit}", limit="memory")
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        if -exitcode == signal.SIGKILL:
            return Exceeded(f"was killed ({name}), most likely because the machine ran out of memory", limit="memory")
        return Exceeded(f"crashed ({name}); most often this means it ran out of its {limit}", limit="crash")
    return Exceeded(f"stopped unexpectedly (exit code {exitcode})", limit="crash")


def _named(setting: str) -> str:
    return f" (setting {setting})" if setting else ""


def _size(mb: int) -> str:
    return f"{mb / 1024:g} GiB" if mb >= 1024 else f"{mb} MiB"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds >= 120 else f"{seconds:g} seconds"
