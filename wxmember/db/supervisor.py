"""The engine process: a supervisor of ours around the unmodified ``secantusd-py``.

``python -m wxmember.db.supervisor DIR`` (started by ``wxmember.db.engine.ensure_running``)
owns the data directory for its whole life (``engine.lock``), runs SecantusDB as its
child on the directory's loopback port, writes ``engine.json`` once the server answers,
and stops the server when asked (SIGTERM), when it has had no client for
``--idle-exit-s``, or when the server dies. The server dies with it, even on ``kill -9``.
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
from pathlib import Path

from wxmember.db.engine import (
    DEFAULT_IDLE_EXIT_S,
    ENGINE_NAME,
    HOST,
    START_TIMEOUT_S,
    STOPPED,
    VERSION,
    EngineError,
    read_info,
)

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
OWN_CONNECTIONS = 2  # the supervisor's monitor and command connections


def serve(data_dir, idle_exit_s=DEFAULT_IDLE_EXIT_S):
    """Own ``data_dir`` and run SecantusDB on it until stopped, idle or the server dies."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = open(data_dir / "engine.lock", "a+")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        info = read_info(data_dir) or {}
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
    stale = read_info(data_dir) or {}
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
    """``python -m wxmember.db.engine DATA_DIR``: run the engine in the foreground."""
    parser = argparse.ArgumentParser(prog="wxmember.db.engine", description=main.__doc__)
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
