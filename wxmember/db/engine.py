"""The embedded database engine: one SecantusDB server process per data directory.

SecantusDB speaks MongoDB's wire protocol over WiredTiger (MongoDB's storage
engine), so the application talks plain ``pymongo`` to it as to a replica set.
It is GPL-2.0 software and runs as a process of its own, reached over loopback.

The engine is a small supervisor of ours (``wxmember/db/supervisor.py``)
around the unmodified ``secantusd-py`` server, its child process: the GPL code
runs apart from the application and is reached only over a socket. The server
dies with its supervisor (``PR_SET_PDEATHSIG``), even on ``kill -9``.

One engine owns a directory: the supervisor holds ``engine.lock`` (an exclusive
``flock``) for its whole life, and WiredTiger takes its own lock too, so a second
engine on the same directory exits with a clear message instead of opening the store.
The first wxmember process that needs the database starts the engine
(``ensure_running``); every other process — gunicorn workers, ``worker``, the
CLI — finds it through ``engine.json`` and connects. An engine with no client
for ``idle_exit_s`` stops by itself, so nothing is left running for long.

Files in the data directory::

    engine.lock   held by the running engine
    start.lock    held by a process while it starts one (starters queue on it)
    engine.json   {"pid", "port", "server_pid", "version", "started"} of the running engine
    engine.port   its loopback port, kept across restarts
    engine.log    the engine's own log
    engine.stopped  left by a clean stop (``wxmember db stop``, idle): keepers leave it stopped
    wiredtiger/   the data
"""

import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ENGINE_NAME = "SecantusDB"
VERSION = "0.7.0b3"  # pinned in pyproject.toml; the data format is WiredTiger's
STOPPED = "engine.stopped"  # present after a clean stop: not restarted by keepers
HOST = "127.0.0.1"  # never reachable from outside the machine
DEFAULT_IDLE_EXIT_S = 600
START_TIMEOUT_S = 60


class EngineError(Exception):
    """The embedded engine cannot be started or reached; the message says why."""


@dataclass(frozen=True)
class Engine:
    """A running engine: where it listens and what it serves."""

    pid: int
    port: int
    version: str
    data_dir: Path

    @property
    def uri(self):
        """The ``mongodb://`` URI that reaches it over loopback.

        ``journal=true``: a write is acknowledged once it is in the engine's journal
        on disk. Without it, the last few hundred milliseconds of acknowledged writes
        are lost when the engine is killed (measured: 50 of 50).

        ``retryWrites=false``: the engine remembers the reply of every retryable write
        (in memory, 30 minutes, at most 10,000) and walks that whole list twice per
        write, sorting it too once past 10,000, so every write got slower as writes
        accumulated (webhook deliveries: 146/s at first, 31/s after 3,000). What it
        buys is one automatic retry of a write whose connection broke; on loopback
        that means the engine restarted, and the records died with it, so the retry
        would run the write again anyway. Writes that must count once carry keys of
        ours (delivery claims, ledger rows). A MongoDB server's URI is the
        operator's and keeps the driver's default.
        """
        return f"mongodb://{HOST}:{self.port}/?directConnection=true&journal=true&retryWrites=false"

    def describe(self):
        """A dict for ``/healthz`` and start-up lines."""
        return {
            "engine": f"{ENGINE_NAME} {self.version}",
            "data_dir": str(self.data_dir),
            "pid": self.pid,
            "address": f"{HOST}:{self.port}",
        }


def ensure_running(data_dir, idle_exit_s=DEFAULT_IDLE_EXIT_S, timeout_s=START_TIMEOUT_S):
    """The engine owning ``data_dir``, started now if none runs."""
    data_dir = Path(data_dir).resolve()
    engine = running(data_dir)
    if engine is not None:
        return engine
    data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir / "start.lock"):  # one starter at a time; the others wait here
        engine = _settled(data_dir, timeout_s)
        if engine is not None:
            return engine
        (data_dir / STOPPED).unlink(missing_ok=True)
        return _start(data_dir, idle_exit_s, timeout_s)


_kept = set()
_kept_lock = threading.Lock()


def keep_running(data_dir, interval_s=2.0):
    """Watch the engine from this process and start it again if it goes (a crash, ``kill``).

    The engine comes back on the same port, so this process's clients reconnect.
    An engine stopped on purpose (``wxmember db stop``) stays stopped. One watcher
    per directory and process.
    """
    data_dir = Path(data_dir).resolve()
    with _kept_lock:
        if data_dir in _kept:
            return
        _kept.add(data_dir)
    threading.Thread(
        target=_watch, args=(data_dir, interval_s), name="engine-keeper", daemon=True
    ).start()


def _watch(data_dir, interval_s):
    while True:
        time.sleep(interval_s)
        if running(data_dir) is not None or (data_dir / STOPPED).exists():
            continue
        log.warning("the embedded engine for %s is gone: starting it again", data_dir)
        try:
            ensure_running(data_dir)
        except EngineError as error:
            log.error("cannot restart the embedded engine: %s", error)


def _settled(data_dir, timeout_s):
    """The running engine, or None once no engine holds the directory.

    An engine that holds the lock without ``engine.json`` is starting or stopping
    (an idle engine takes a few seconds to close the store): wait for either.
    """
    deadline = time.monotonic() + timeout_s
    while _owner_alive(data_dir):
        engine = running(data_dir)
        if engine is not None:
            return engine
        if time.monotonic() > deadline:
            raise EngineError(f"the engine holding {data_dir} neither answers nor stops")
        time.sleep(0.05)
    return None


def running(data_dir):
    """The engine that owns ``data_dir`` now, or None."""
    data_dir = Path(data_dir).resolve()
    if not _owner_alive(data_dir):
        return None
    info = read_info(data_dir)
    if info is None:
        return None
    return Engine(info["pid"], info["port"], info["version"], data_dir)


def stop(data_dir, timeout_s=30):
    """Stop the engine owning ``data_dir`` (keepers leave it stopped); True if one ran."""
    data_dir = Path(data_dir).resolve()
    if data_dir.is_dir():
        (data_dir / STOPPED).touch()
    engine = running(data_dir)
    if engine is None:
        return False
    os.kill(engine.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    # the lock goes a moment before the process: wait for both, so that "stopped" means gone
    while _owner_alive(data_dir) or _process_alive(engine.pid):
        if time.monotonic() > deadline:
            raise EngineError(f"engine pid {engine.pid} did not stop within {timeout_s} s")
        time.sleep(0.05)
    return True


def _start(data_dir, idle_exit_s, timeout_s):
    command = [
        sys.executable,
        "-m",
        "wxmember.db.supervisor",
        str(data_dir),
        "--idle-exit-s",
        str(idle_exit_s),
    ]
    with open(data_dir / "engine.log", "ab") as engine_log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=engine_log,
            stderr=engine_log,
            start_new_session=True,  # outlives the process that started it
            close_fds=True,
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        engine = running(data_dir)
        if engine is not None and engine.pid == process.pid:
            log.info("started the embedded engine (pid %s) for %s", process.pid, data_dir)
            return engine
        if process.poll() is not None:
            raise EngineError(f"the embedded engine exited: {_last_line(data_dir)}")
        time.sleep(0.05)
    process.kill()
    raise EngineError(f"the embedded engine did not start within {timeout_s} s")


def _owner_alive(data_dir):
    """True while some process holds ``engine.lock``."""
    path = data_dir / "engine.lock"
    if not path.exists():
        return False
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _process_alive(pid):
    """True while ``pid`` runs (Linux; a zombie waiting for its parent has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def read_info(data_dir):
    try:
        info = json.loads((data_dir / "engine.json").read_text())
    except (OSError, ValueError):
        return None
    if not all(isinstance(info.get(key), int) for key in ("pid", "port")):
        return None
    return info


def _last_line(data_dir):
    try:
        lines = (data_dir / "engine.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "no log"


@contextlib.contextmanager
def _locked(path):
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


if __name__ == "__main__":  # ``python -m wxmember.db.engine DIR``: the supervisor, as before
    from wxmember.db.supervisor import main

    sys.exit(main())
