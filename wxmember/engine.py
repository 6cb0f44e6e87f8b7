"""The embedded database engine: one SecantusDB server process per data directory.

SecantusDB speaks MongoDB's wire protocol over WiredTiger (MongoDB's storage
engine), so the application talks plain ``pymongo`` to it as to a replica set.
It is GPL-2.0 software and runs as a process of its own, reached over loopback.

The engine is a small supervisor of ours (``python -m wxmember.engine DIR``)
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

import argparse
import contextlib
import ctypes
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ENGINE_NAME = "SecantusDB"
VERSION = "0.7.0b3"  # pinned in pyproject.toml; the data format is WiredTiger's
PR_SET_PDEATHSIG = 1
STOPPED = "engine.stopped"  # present after a clean stop: not restarted by keepers
OWN_CONNECTIONS = 2  # the supervisor's monitor and command connections
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
    info = _read_info(data_dir)
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


def _process_alive(pid):
    """True while ``pid`` runs (Linux; a zombie waiting for its parent has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


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


# --- the engine process: a supervisor of ours around the unmodified server -------------


def serve(data_dir, idle_exit_s=DEFAULT_IDLE_EXIT_S):
    """Own ``data_dir`` and run SecantusDB on it until stopped, idle or the server dies."""
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
    _outlive_crashed_engine(data_dir)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    server, port = _start_server(data_dir)
    client = None
    try:
        client = _wait_for_server(server, port)
        _write_info(data_dir, port, server.pid)
        log.info("%s %s serving %s on %s:%s", ENGINE_NAME, VERSION, data_dir, HOST, port)
        _wait_until_stopped_or_idle(server, client, stopping, idle_exit_s)
        (data_dir / STOPPED).touch()  # asked to stop, or idle: clients' keepers leave it so
    finally:
        (data_dir / "engine.json").unlink(missing_ok=True)
        if client is not None:
            client.close()
        _stop_server(server, port)


def _outlive_crashed_engine(data_dir, timeout_s=30):
    """A supervisor killed with ``kill -9`` leaves its server closing the store: wait for it."""
    stale = _read_info(data_dir) or {}
    (data_dir / "engine.json").unlink(missing_ok=True)
    server_pid = stale.get("server_pid")
    deadline = time.monotonic() + timeout_s
    while isinstance(server_pid, int) and _is_secantus(server_pid):
        if time.monotonic() > deadline:
            raise EngineError(f"the previous SecantusDB (pid {server_pid}) still holds {data_dir}")
        time.sleep(0.1)


def _is_secantus(pid):
    try:
        return b"secantus" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _start_server(data_dir):
    """``secantusd-py`` as a child process on the directory's port; it dies with us."""
    port = _directory_port(data_dir)
    command = [
        sys.executable,
        "-m",
        "secantus",
        "--host",
        HOST,
        "--port",
        str(port),
        "--storage-path",
        str(data_dir / "wiredtiger"),
        "--log-level",
        "WARNING",
        "--config",  # ours, empty: never a secantusd.toml found in the working or home folder
        str(_empty_server_config(data_dir)),
    ]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent), port


def _empty_server_config(data_dir):
    path = data_dir / "secantusd.toml"
    path.write_text("# wxmember passes every setting on the command line\n")
    return path


def _directory_port(data_dir):
    """The port this directory's engine had before, so connected clients find it again.

    A client's ``MongoClient`` keeps the address it was given: an engine that
    restarts after a crash on the same port is reconnected to without a restart.
    """
    path = data_dir / "engine.port"
    with contextlib.suppress(OSError, ValueError):
        port = int(path.read_text())
        if _port_free(port):
            return port
    port = _port_free(0)
    path.write_text(str(port))
    return port


def _port_free(port):
    """The port bound on loopback (``port`` itself, or a free one for 0), or None if taken."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return None
        return probe.getsockname()[1]


def _die_with_parent():
    """Linux: the server gets SIGTERM when the supervisor dies, even by ``kill -9``."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_for_server(server, port, timeout_s=START_TIMEOUT_S):
    import pymongo

    client = pymongo.MongoClient(
        f"mongodb://{HOST}:{port}/?directConnection=true",
        serverSelectionTimeoutMS=250,
        serverMonitoringMode="poll",  # one monitor connection, no RTT monitor
        maxPoolSize=1,
    )
    deadline = time.monotonic() + timeout_s
    while True:
        if server.poll() is not None:
            raise EngineError(f"SecantusDB exited with status {server.returncode}")
        try:
            client.admin.command("ping")
            return client
        except pymongo.errors.PyMongoError:
            if time.monotonic() > deadline:
                raise EngineError(f"SecantusDB did not answer within {timeout_s} s") from None


def _write_info(data_dir, port, server_pid):
    info = {
        "pid": os.getpid(),
        "port": port,
        "server_pid": server_pid,
        "version": VERSION,
        "started": int(time.time()),
    }
    temporary = data_dir / "engine.json.tmp"
    temporary.write_text(json.dumps(info))
    temporary.replace(data_dir / "engine.json")


def _wait_until_stopped_or_idle(server, client, stopping, idle_exit_s):
    idle_since = time.monotonic()
    while not stopping.wait(1.0):
        if server.poll() is not None:
            raise EngineError(f"SecantusDB exited with status {server.returncode}")
        if _clients(client) > 0:
            idle_since = time.monotonic()
        elif idle_exit_s and time.monotonic() - idle_since > idle_exit_s:
            log.info("no client for %s s: stopping", idle_exit_s)
            return


def _clients(client):
    """Connections to the server other than the supervisor's own."""
    import pymongo

    try:
        current = client.admin.command("serverStatus")["connections"]["current"]
    except pymongo.errors.PyMongoError:
        return 1  # busy or restarting: not idle
    return current - OWN_CONNECTIONS


def _stop_server(server, port, timeout_s=30):
    if server.poll() is None:
        _terminate_main_thread(server.pid)
        deadline = time.monotonic() + timeout_s
        while server.poll() is None:
            if time.monotonic() > deadline:
                server.kill()
                server.wait()
                break
            _wake_accept(port)
            time.sleep(0.05)
    log.info("engine stopped")


def _terminate_main_thread(pid):
    """SIGTERM to the server's main thread (Linux ``tgkill``), where its handler waits.

    Sent to the process, the signal may land on another of its threads while the main
    thread sleeps in ``Event.wait()``; the handler then never runs and the stop hangs
    until the kill (seen 2 times in 12 while ``_wake_accept`` connections raced it).
    """
    tgkill = getattr(ctypes.CDLL(None, use_errno=True), "tgkill", None)
    if tgkill is None or tgkill(pid, pid, signal.SIGTERM) != 0:
        os.kill(pid, signal.SIGTERM)


def _wake_accept(port):
    """Connect once: SecantusDB's accept thread, blocked in ``accept()``, notices the stop
    only when a connection comes (else its shutdown waits 2 s for that thread)."""
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
        pass


def main(argv=None):
    """``python -m wxmember.engine DATA_DIR``: run the engine in the foreground."""
    parser = argparse.ArgumentParser(prog="wxmember.engine", description=main.__doc__)
    parser.add_argument("data_dir")
    parser.add_argument("--idle-exit-s", type=int, default=DEFAULT_IDLE_EXIT_S)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        serve(args.data_dir, args.idle_exit_s)
    except EngineError as error:
        log.error("%s", error)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
