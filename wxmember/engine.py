"""The embedded database engine: one SecantusDB server process per data directory.

SecantusDB speaks MongoDB's wire protocol over WiredTiger (MongoDB's storage
engine), so the application talks plain ``pymongo`` to it as to a replica set.
It is GPL-2.0 software and runs as a process of its own, reached over loopback.

One engine owns a directory: it holds ``engine.lock`` (an exclusive ``flock``)
for its whole life, and WiredTiger takes its own lock too, so a second engine on
the same directory exits with a clear message instead of opening the store.
The first wxmember process that needs the database starts the engine
(``ensure_running``); every other process — gunicorn workers, ``worker``, the
CLI — finds it through ``engine.json`` and connects. An engine with no client
for ``idle_exit_s`` stops by itself, so nothing is left running for long.

Files in the data directory::

    engine.lock   held by the running engine
    start.lock    held by a process while it starts one (starters queue on it)
    engine.json   {"pid", "port", "version", "started"} of the running engine
    engine.log    the engine's own log
    wiredtiger/   the data
"""

import argparse
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
        """The ``mongodb://`` URI that reaches it over loopback."""
        return f"mongodb://{HOST}:{self.port}/?directConnection=true"

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
        engine = running(data_dir)
        if engine is not None:
            return engine
        return _start(data_dir, idle_exit_s, timeout_s)


def running(data_dir):
    """The engine that owns ``data_dir`` now, or None."""
    data_dir = Path(data_dir).resolve()
    if not _owner_alive(data_dir):
        return None
    info = _read_info(data_dir)
    if info is None:
        return None
    return Engine(info["pid"], info["port"], info["version"], data_dir)


def stop(data_dir, timeout_s=30):
    """Stop the engine owning ``data_dir``; True if one was running."""
    engine = running(data_dir)
    if engine is None:
        return False
    os.kill(engine.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _owner_alive(Path(data_dir).resolve()):
        if time.monotonic() > deadline:
            raise EngineError(f"engine pid {engine.pid} did not stop within {timeout_s} s")
        time.sleep(0.1)
    return True


def _start(data_dir, idle_exit_s, timeout_s):
    command = [
        sys.executable,
        "-m",
        "wxmember.engine",
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


def _read_info(data_dir):
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


# --- the engine process -------------------------------------------------------------


def serve(data_dir, idle_exit_s=DEFAULT_IDLE_EXIT_S, port=0):
    """Run the engine for ``data_dir`` in this process until stopped or idle."""
    from secantus import SecantusDBServer, __version__

    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = open(data_dir / "engine.lock", "a+")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        info = _read_info(data_dir) or {}
        raise EngineError(
            f"{data_dir} is already served by another engine (pid {info.get('pid', '?')}); "
            "connect to it instead of starting a second one"
        ) from None
    server = SecantusDBServer(
        host=HOST,
        port=port,
        storage_path=str(data_dir / "wiredtiger"),
        enable_test_commands=False,
    )
    server.start()
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    _write_info(data_dir, server.port, __version__)
    log.info("engine %s serving %s on %s:%s", __version__, data_dir, HOST, server.port)
    try:
        _wait_until_stopped_or_idle(server, stopping, idle_exit_s)
    finally:
        (data_dir / "engine.json").unlink(missing_ok=True)
        server.stop()
        log.info("engine stopped")


def _write_info(data_dir, port, version):
    info = {"pid": os.getpid(), "port": port, "version": version, "started": int(time.time())}
    temporary = data_dir / "engine.json.tmp"
    temporary.write_text(json.dumps(info))
    temporary.replace(data_dir / "engine.json")


def _wait_until_stopped_or_idle(server, stopping, idle_exit_s):
    idle_since = time.monotonic()
    while not stopping.wait(1.0):
        if len(server.connections):
            idle_since = time.monotonic()
        elif idle_exit_s and time.monotonic() - idle_since > idle_exit_s:
            log.info("no client for %s s: stopping", idle_exit_s)
            return


def main(argv=None):
    """``python -m wxmember.engine DATA_DIR``: run the engine in the foreground."""
    parser = argparse.ArgumentParser(prog="wxmember.engine", description=main.__doc__)
    parser.add_argument("data_dir")
    parser.add_argument("--idle-exit-s", type=int, default=DEFAULT_IDLE_EXIT_S)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("secantus").setLevel(logging.WARNING)
    try:
        serve(args.data_dir, args.idle_exit_s, args.port)
    except EngineError as error:
        log.error("%s", error)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
