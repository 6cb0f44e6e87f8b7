"""The embedded engine as a user meets it: real processes, each test on a data directory of its own.

Every process here is started as a user would start it (``python -m wxmember …``,
``gunicorn``, ``python -m wxmember.db.engine``, ``secantusd-py``) and stopped at the end
of its test, engines included (``procs`` checks that nothing of the test is left).
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pymongo
import pytest
import requests
import yaml
from pymongo.errors import DuplicateKeyError

from jobs.runner import JOBS
from tests.conftest import APPID, KEYWORDS, STAFF_TOKEN, TOKEN, WELCOME, write_config
from wxmember.crm.sim_state import PROMOTIONS
from wxmember.db import engine
from wxmember.wechat import simulator

pytestmark = pytest.mark.mongo  # never mongomock: these are about the engine itself

AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}
TEXT_REPLY = KEYWORDS["积分规则"]


# -- processes -------------------------------------------------------------------------


class Processes:
    """Starts the test's processes (output in files under ``tmp_path``) and stops them all."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.started = []  # (process, name)
        self.data_dirs = []

    def env(self, config=None, **extra):
        """The environment of a child: ours without WXMEMBER_*, plus ``extra``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("WXMEMBER_")}
        env["PYTHONUNBUFFERED"] = "1"
        if config is not None:
            env["WXMEMBER_CONFIG"] = str(config)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start(self, name, command, env):
        """Start ``command``; its stdout and stderr go to ``<tmp_path>/<name>.log``."""
        with open(self.tmp_path / f"{name}.log", "ab") as output:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=self.tmp_path,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.started.append((process, name))
        return process

    def wxmember(self, name, *args, env):
        return self.start(name, [sys.executable, "-m", "wxmember", *args], env)

    def gunicorn(self, name, port, workers, env):
        """``gunicorn -w N 'wxmember:create_app()'``, logging which worker pid served what."""
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "--access-logfile",
            "-",
            "--access-logformat",
            "served-by %(p)s %(m)s %(U)s %(s)s %(q)s",
            "wxmember:create_app()",
        ]
        return self.start(name, command, env)

    def run(self, *args, env, timeout=60):
        """Run ``python -m wxmember ARGS`` to its end: the CompletedProcess (text)."""
        return subprocess.run(
            [sys.executable, "-m", "wxmember", *args],
            env=env,
            cwd=self.tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def log(self, name):
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def stop(self, process, timeout=15):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_all(self):
        """Stop every process (all at once), then the engines of the test's directories."""
        for process, _ in self.started:
            if process.poll() is None:
                process.terminate()
        for process, _ in self.started:
            self.stop(process)
        for data_dir in self.data_dirs:
            engine.stop(data_dir)


@contextlib.contextmanager
def running(tmp_path):
    """Processes started under ``tmp_path``; afterwards none of them, nor any engine, runs."""
    processes = Processes(tmp_path)
    try:
        yield processes
    finally:
        processes.stop_all()
        left = _processes_mentioning(str(tmp_path))
        described = _describe(left)
        for pid in left:  # not to leave them running if the test failed to stop them
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left running: {left}: {described}"


@pytest.fixture
def procs(tmp_path):
    """The test's processes, all stopped at its end."""
    with running(tmp_path) as processes:
        yield processes


def _describe(pids):
    return [
        (Path(f"/proc/{pid}/cmdline").read_bytes() if Path(f"/proc/{pid}").exists() else b"gone")
        for pid in pids
    ]


def _processes_mentioning(text):
    """Pids of processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def embedded_config(procs, tmp_path, name="config", **sections):
    """A config of the embedded default on ``<tmp_path>/db``, registered for cleanup."""
    data_dir = tmp_path / "db"
    procs.data_dirs.append(data_dir)
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    mongo = {"uri": "embedded://", "data_dir": str(data_dir), "database": "wxmember"}
    return write_config(folder, mongo=mongo, **sections), data_dir


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, timeout=30, interval=0.1, what="condition"):
    """Poll ``predicate`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(interval)


def healthy(url):
    """True when ``url``'s /healthz answers 200."""
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_healthy(url, process, timeout=30):
    def ready():
        assert process.poll() is None, f"{process.args} exited with {process.returncode}"
        return healthy(url)

    wait_until(ready, timeout, what=f"{url}/healthz")


def engine_info(data_dir):
    try:
        return json.loads((Path(data_dir) / "engine.json").read_text())
    except (OSError, ValueError):
        return None


def post_delivery(url, xml, timeout=10):
    """POST a delivery signed as WeChat signs it; the response."""
    query, body = simulator.signed_request(xml, TOKEN)
    return requests.post(f"{url}/wechat", params=query, data=body.encode(), timeout=timeout)


def reply_text(response):
    return simulator.open_reply(response.text, TOKEN).get("Content")


def served_by(procs, name, path):
    """The gunicorn worker pids that answered requests for ``path`` (from the access log)."""
    pids = set()
    for line in procs.log(name).splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "served-by" and parts[3] == path:
            pids.add(parts[1].strip("<>"))
    return pids


def database(data_dir, name="wxmember"):
    """A client of the engine on ``data_dir`` (started by the app), and its database."""
    client = pymongo.MongoClient(engine.running(data_dir).uri, serverSelectionTimeoutMS=5000)
    return client, client[name]


# -- 1. data survives a restart ----------------------------------------------------------


def test_a_follow_survives_stopping_the_server_and_the_engine(procs, tmp_path):
    config, data_dir = embedded_config(procs, tmp_path)
    env = procs.env(config)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = procs.wxmember("serve-1", "serve", "--port", str(port), env=env)
    wait_healthy(url, server)
    first = engine_info(data_dir)

    args = ("simulate", "subscribe", "--openid", "oKeep", "--scene", "42", "--url", f"{url}/wechat")
    follow = procs.run(*args, env=env)
    assert follow.returncode == 0, follow.stderr
    assert WELCOME in follow.stdout

    procs.stop(server)
    stopped = procs.run("db", "stop", env=env)
    assert stopped.returncode == 0 and stopped.stdout.strip() == "stopped", stopped.stderr
    assert not _alive(first["pid"]) and not _alive(first["server_pid"]), "stopped, yet running"
    status = procs.run("db", "status", env=env)
    assert status.returncode == 3 and "not running" in status.stdout

    server = procs.wxmember("serve-2", "serve", "--port", str(port), env=env)
    wait_healthy(url, server)
    second = engine_info(data_dir)
    assert second["pid"] != first["pid"] and second["port"] == first["port"]
    customer = requests.get(f"{url}/api/customers/oKeep", headers=AUTH, timeout=10).json()
    assert customer["isFollow"] is True and customer["scene"] == "42"
    logs = procs.run("logs", "--wxid", "oKeep", "--json", "--url", url, env=env)
    assert logs.returncode == 0, logs.stderr
    [record] = [json.loads(line) for line in logs.stdout.splitlines()]
    assert record["action"] == "subscribe" and record["reply"] == WELCOME


# -- 3. one engine per directory; 5. loopback only ----------------------------------------


@pytest.fixture(scope="module")
def running_engine(tmp_path_factory):
    """An engine started by ``wxmember db start``, with one document written to it."""
    tmp_path = tmp_path_factory.mktemp("engine")
    with running(tmp_path) as procs:
        config, data_dir = embedded_config(procs, tmp_path)
        started = procs.run("db", "start", env=procs.env(config))
        assert started.returncode == 0, started.stderr
        client, db = database(data_dir)
        db["probe"].insert_one({"_id": "kept", "n": 1})
        yield data_dir, db
        client.close()


def test_a_second_engine_on_the_same_directory_is_refused(running_engine, tmp_path):
    data_dir, db = running_engine
    before = engine_info(data_dir)

    second = subprocess.run(
        [sys.executable, "-m", "wxmember.db.engine", str(data_dir), "--idle-exit-s", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 3
    assert f"{data_dir} is already served by another engine (pid {before['pid']})" in second.stderr

    # the unmodified server on the same files: WiredTiger's own lock refuses it too
    bare = subprocess.run(
        [
            str(Path(sys.executable).parent / "secantusd-py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(free_port()),
            "--storage-path",
            str(data_dir / "wiredtiger"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert bare.returncode != 0
    assert "Device or resource busy" in bare.stderr

    assert engine_info(data_dir) == before
    assert db["probe"].find_one({"_id": "kept"}) == {"_id": "kept", "n": 1}
    db["probe"].insert_one({"_id": "after"})  # and it still takes writes


def test_the_engine_listens_on_loopback_only(running_engine):
    data_dir, _ = running_engine
    info = engine_info(data_dir)
    port = info["port"]
    if shutil.which("ss"):
        listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
        server = f"pid={info['server_pid']},"
        addresses = {line.split()[3] for line in listening.splitlines() if server in line}
        assert addresses == {f"127.0.0.1:{port}"}
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    outside = _non_loopback_addresses()
    if not outside:
        pytest.skip("this machine has no non-loopback address to try")
    for address in outside:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address, port), timeout=5).close()


def _non_loopback_addresses():
    """The machine's addresses (IPv4 and IPv6) other than loopback and link-local."""
    try:
        text = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout
    except OSError:
        return []
    return [a for a in text.split() if not a.startswith(("127.", "::1", "fe80:"))]


def _alive(pid):
    """True while ``pid`` runs (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# -- 2. kill -9 under parallel writers -----------------------------------------------------


class Writers:
    """Threads posting distinct text deliveries; a failed one is retried as WeChat retries."""

    def __init__(self, url, threads=6, attempts=4):
        self.url = url
        self.attempts = attempts
        self.stopping = threading.Event()
        self.acknowledged = {}  # MsgId -> (openid, reply text of the 200)
        self.attempts_of = {}  # MsgId -> [(status or error, seconds since start)], for a failure
        self.started = time.monotonic()
        self.failures = 0  # answers other than 200, and connection errors
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._write, args=(f"oWriter{n}",)) for n in range(threads)
        ]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)

    def count(self):
        with self.lock:
            return len(self.acknowledged)

    def _write(self, openid):
        sequence = 0
        while not self.stopping.is_set():
            sequence += 1
            msg_id = f"{openid[-1]}{sequence:06d}"
            fields = simulator.message_fields("text", openid, msg_id=msg_id, content="积分规则")
            xml = simulator.to_xml(fields)
            tried = self.attempts_of.setdefault(msg_id, [])
            for attempt in range(self.attempts):
                sent = round(time.monotonic() - self.started, 2)
                try:
                    response = post_delivery(self.url, xml, timeout=15)
                    tried.append((response.status_code, sent))
                except requests.RequestException as error:
                    response = None
                    tried.append((type(error).__name__, sent))
                if response is not None and response.status_code == 200:
                    with self.lock:
                        self.acknowledged[msg_id] = (openid, reply_text(response))
                    break
                with self.lock:
                    self.failures += 1
                if attempt + 1 < self.attempts:
                    time.sleep(0.5)


def test_kill_9_under_parallel_writers_loses_nothing_acknowledged(procs, tmp_path):
    config, data_dir = embedded_config(procs, tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = procs.gunicorn("gunicorn", port, 2, procs.env(config))
    wait_healthy(url, app)
    first = engine_info(data_dir)
    writers = Writers(url).start()
    timeline = []
    try:
        for victim in ("server_pid", "pid"):  # the SecantusDB server, then our supervisor
            before = writers.count()
            wait_until(lambda b=before: writers.count() >= b + 30, what="writes before the kill")
            info = engine_info(data_dir)
            killed_at = time.monotonic()
            os.kill(info[victim], signal.SIGKILL)
            killed = round(killed_at - writers.started, 2)
            back = wait_until(
                lambda i=info: (
                    (engine_info(data_dir) or {}).get("pid") not in (None, i["pid"])
                    and healthy(url)
                ),
                timeout=30,
                what=f"recovery after kill -9 of the {victim}",
            )
            recovered = time.monotonic() - killed_at
            again = writers.count()
            wait_until(lambda a=again: writers.count() >= a + 30, what="writes after recovery")
            timeline.append((victim, killed, round(recovered, 1), back))
    finally:
        writers.stop()

    after = engine_info(data_dir)
    assert after["port"] == first["port"]  # the keepers brought it back where clients look
    client, db = database(data_dir)
    with client:
        logs = db["lavico/user/logs"]
        lost, wrong = [], []
        for msg_id, (openid, reply) in writers.acknowledged.items():
            records = list(logs.find({"data.MsgId": msg_id, "wxid": openid}))
            if len(records) != 1:
                claim = db["wxmember/deliveries"].find_one({"_id": {"$regex": msg_id}})
                lost.append((msg_id, len(records), reply, claim, writers.attempts_of[msg_id]))
            elif reply != TEXT_REPLY:
                wrong.append((msg_id, reply))
        assert not lost, (
            f"acknowledged but not recorded once: {lost[:10]} of {len(lost)}; "
            f"kills (victim, at s, recovery s, back): {timeline}"
        )
        assert not wrong, f"answered without the reply: {wrong[:10]} of {len(wrong)}"
        duplicates = list(
            logs.aggregate(
                [
                    {"$match": {"msgKey": {"$exists": True}}},
                    {"$group": {"_id": "$msgKey", "n": {"$sum": 1}}},
                    {"$match": {"n": {"$gt": 1}}},
                ]
            )
        )
        assert duplicates == []
        customers = db["welab/customers"]
        assert customers.index_information()["wechatid_1"]["unique"] is True
        assert customers.count_documents({}) == len(writers.threads)
        with pytest.raises(DuplicateKeyError):
            customers.insert_one({"wechatid": "oWriter0"})
        counted = {
            c["wechatid"]: c["messageCount"] - logs.count_documents({"wxid": c["wechatid"]})
            for c in customers.find()
        }
    print(
        f"\n{len(writers.acknowledged)} acknowledged, {writers.failures} failed attempts; "
        f"recovery: {timeline}; messageCount - records: {counted}"
    )


# -- 4. gunicorn workers and CLI processes share one engine ---------------------------------


def post_copies(url, xml, copies):
    """Deliver ``xml`` ``copies`` times at once, each signed afresh as WeChat's retries are;
    ``[(nonce, response)]``."""
    barrier = threading.Barrier(copies)
    results = []

    def deliver():
        query, body = simulator.signed_request(xml, TOKEN)
        barrier.wait()
        response = requests.post(f"{url}/wechat", params=query, data=body.encode(), timeout=15)
        results.append((query["nonce"], response))

    threads = [threading.Thread(target=deliver) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _all_or_none(values):
    """The set of ``values``, or None if one of them is None (not logged yet)."""
    values = list(values)
    return None if None in values else set(values)


def worker_of(procs, name, marker):
    """The pid of the gunicorn worker whose access-log line contains ``marker``."""
    for line in procs.log(name).splitlines():
        if line.startswith("served-by") and marker in line:
            return line.split()[1].strip("<>")
    return None


def test_gunicorn_workers_and_cli_processes_see_the_same_data(procs, tmp_path):
    config, data_dir = embedded_config(procs, tmp_path)
    env = procs.env(config)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = procs.gunicorn("gunicorn", port, 2, env)
    wait_healthy(url, app)

    # one follow, seen by every concurrent read, whichever worker answers
    follow = simulator.message_fields("subscribe", "oShared", scene="7")
    assert reply_text(post_delivery(url, simulator.to_xml(follow))) == WELCOME
    readers = set()
    for _ in range(5):
        with ThreadPoolExecutor(12) as pool:
            answers = list(
                pool.map(
                    lambda _: requests.get(
                        f"{url}/api/customers/oShared", headers=AUTH, timeout=15
                    ),
                    range(12),
                )
            )
        assert [a.status_code for a in answers] == [200] * 12
        assert all(a.json()["isFollow"] is True and a.json()["scene"] == "7" for a in answers)
        readers = served_by(procs, "gunicorn", "/api/customers/oShared")
        if len(readers) == 2:
            break
    assert len(readers) == 2, "one worker answered every read"

    # a delivery retried to both workers at once is handled once, and all copies get its answer
    for attempt in range(5):
        fields = simulator.message_fields(
            "text", "oShared", msg_id=f"9{attempt}", content="积分规则"
        )
        copies = post_copies(url, simulator.to_xml(fields), 8)
        assert [r.status_code for _, r in copies] == [200] * 8
        assert [reply_text(r) for _, r in copies] == [TEXT_REPLY] * 8
        workers = wait_until(
            lambda c=copies: _all_or_none(worker_of(procs, "gunicorn", f"nonce={n}") for n, _ in c),
            timeout=5,
            what="the access log of every copy",
        )
        if len(workers) == 2:
            break
    assert len(workers) == 2, "one worker answered every copy"

    # ledger writes through the app (a replayed formId among them)
    client, db = database(data_dir)
    db["welab/customers"].insert_one(  # a member the platform knows
        {"wechatid": "oMember", "isRegister": True, "HaiLanMemberInfo": {"memberID": 900001}}
    )
    client.close()
    points = f"{url}/api/members/900001/points"
    forms = [f"GIFT-{n}" for n in range(10)] + ["GIFT-0", "GIFT-1"]
    with ThreadPoolExecutor(6) as pool:
        written = list(
            pool.map(
                lambda form: requests.post(
                    points, headers=AUTH, json={"amount": 10, "reason": "开卡礼", "formId": form}
                ),
                forms,
            )
        )
    assert [w.status_code for w in written] == [200] * 12
    summary = requests.get(f"{url}/api/members/900001", headers=AUTH, timeout=10).json()
    assert summary["points"] == 100

    # separate CLI processes on the same config see the same data
    audit = procs.run("audit", env=env)
    assert audit.returncode == 0 and audit.stdout.strip() == "0 differences", audit.stdout
    logs = procs.run("logs", "--wxid", "oShared", "--json", "--url", url, env=env)
    assert logs.returncode == 0, logs.stderr
    actions = [json.loads(line)["action"] for line in logs.stdout.splitlines()]
    assert sorted(actions) == ["subscribe", "text", "text", "text", "text", "text"][: len(actions)]
    assert actions.count("subscribe") == 1 and actions.count("text") == attempt + 1
    sync = procs.run("sync", "grades", env=env)  # runs in its own process
    assert sync.returncode == 0, sync.stderr
    jobs = procs.run("jobs", "--url", url, env=env)
    assert jobs.returncode == 0, jobs.stderr
    assert " grades " in jobs.stdout and "(1 runs)" in jobs.stdout


# -- 6. the production path: gunicorn + `wxmember worker` on a mongodb:// URI ---------------

JOB_SECONDS = 2  # outbox and templates; the other jobs count in minutes: they run once at start


def wait_up(url, process, timeout=30):
    def up():
        assert process.poll() is None, f"{process.args} exited with {process.returncode}"
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, timeout, what=url)


@pytest.fixture
def production(procs, tmp_path, wechat_api):
    """The README's production path, with the engine standing in for the replica set."""
    data_dir = tmp_path / "db"
    procs.data_dirs.append(data_dir)
    uri = engine.ensure_running(data_dir, idle_exit_s=120).uri
    crm_port, port = free_port(), free_port()
    crm = procs.wxmember(
        "crm", "crm-simulator", "--port", str(crm_port), "--members", "50", env=procs.env()
    )
    wait_up(f"http://127.0.0.1:{crm_port}/v1/health", crm)
    env = procs.env(
        WXMEMBER_MONGO_URI=uri,
        WXMEMBER_MONGO_DATABASE="wxmember",
        WXMEMBER_WECHAT_TOKEN=TOKEN,
        WXMEMBER_WECHAT_APPID=APPID,
        WXMEMBER_WECHAT_APPSECRET="test-appsecret",
        WXMEMBER_WECHAT_API_BASE_URL=wechat_api.base_url,
        WXMEMBER_CONSOLE_API_TOKEN=STAFF_TOKEN,
        WXMEMBER_CONSOLE_SESSION_SECRET="production-session-secret",
        WXMEMBER_CRM_BASE_URL=f"http://127.0.0.1:{crm_port}",
        WXMEMBER_SCHEDULER_OUTBOX_SECONDS=JOB_SECONDS,
        WXMEMBER_SCHEDULER_TEMPLATE_SECONDS=JOB_SECONDS,
    )  # and the shipped config.yaml under them, as the README runs it
    url = f"http://127.0.0.1:{port}"
    app = procs.gunicorn("gunicorn", port, 3, env)
    workers = [procs.wxmember(f"worker-{n}", "worker", env=env) for n in range(2)]
    wait_healthy(url, app)
    client = pymongo.MongoClient(uri)
    yield url, client["wxmember"], workers
    client.close()


def subscribe_xml(openid):
    return simulator.to_xml(simulator.message_fields("subscribe", openid))


def test_production_path_shares_jobs_deliveries_and_the_access_token(procs, production, wechat_api):
    url, db, workers = production

    # the access token: fetched once, then shared by every gunicorn worker through MongoDB
    follow = simulator.message_fields("subscribe", "oProd0")
    shipped = yaml.safe_load((Path(__file__).resolve().parent.parent / "config.yaml").read_text())
    assert reply_text(post_delivery(url, simulator.to_xml(follow))) == shipped["replies"]["welcome"]
    customers = db["welab/customers"]
    wait_until(lambda: (customers.find_one({"wechatid": "oProd0"}) or {}).get("nickname"))
    sent = 1
    for _ in range(5):  # on a loaded machine one worker may take a whole batch: send another
        follows = range(sent, sent + 8)
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda n: post_delivery(url, subscribe_xml(f"oProd{n}")), follows))
        sent += len(follows)
        if len(served_by(procs, "gunicorn", "/wechat")) >= 2:
            break
    wait_until(
        lambda: customers.count_documents({"nickname": "小蓝"}) == sent,
        what=f"{sent} profiles fetched",
    )
    assert len(served_by(procs, "gunicorn", "/wechat")) >= 2
    assert wechat_api.token_requests == 1

    # a delivery retried to every worker at once: handled once
    text = simulator.message_fields("text", "oProd0", msg_id="4242", content="积分规则")
    copies = post_copies(url, simulator.to_xml(text), 9)
    replies = {reply_text(r) for _, r in copies}
    assert len(replies) == 1 and None not in replies  # the shipped config's keyword reply
    assert db["lavico/user/logs"].count_documents({"data.MsgId": "4242"}) == 1

    # the jobs: each runs once at start and once per interval, on one worker or the other
    def enough_runs():
        ran = set(db["wxmember/job_runs"].distinct("job", {"state": "ok"}))
        return ran == set(JOBS) and db["wxmember/job_runs"].count_documents({"job": "outbox"}) >= 4

    wait_until(enough_runs, timeout=40, what="every job's first run and 4 of the outbox")
    runs = requests.get(f"{url}/api/jobs", params={"limit": 500}, headers=AUTH, timeout=10).json()
    owners = {
        line.split()[1].rstrip(":")
        for n in range(2)
        for line in procs.log(f"worker-{n}").splitlines()
        if line.startswith("worker ")
    }
    by_job, running = {}, {}
    for run in runs["items"]:
        assert run["owner"] in owners and run["trigger"] == "schedule"
        if run["state"] == "running":  # the next interval's run may have begun since
            running.setdefault(run["job"], []).append(run)
            continue
        assert run["state"] == "ok", run
        by_job.setdefault(run["job"], []).append(run)
    for job, started in running.items():  # at most one, and newer than every finished run
        assert len(started) == 1, f"{job} is running twice at once"
        assert all(r["endedAt"] <= started[0]["startedAt"] for r in by_job.get(job, [])), job
    print("\nruns per job:", {job: len(r) for job, r in by_job.items()})
    assert set(by_job) == set(JOBS)
    for job, job_runs in by_job.items():
        job_runs.sort(key=lambda r: r["startedAt"])
        for earlier, later in zip(job_runs, job_runs[1:], strict=False):
            assert later["startedAt"] >= earlier["endedAt"], f"{job} ran twice at once"
        if job == "outbox":
            gaps = [
                (later["startedAt"] - earlier["startedAt"]) / 1000
                for earlier, later in zip(job_runs, job_runs[1:], strict=False)
            ]
            assert min(gaps) >= JOB_SECONDS / 2, f"{job} ran more than once per interval: {gaps}"
            assert max(gaps) <= JOB_SECONDS * 2, f"{job} missed an interval: {gaps}"
            print(job, "every", gaps, "s")
        elif job != "templates":  # (started last, its second run may have come)
            assert len(job_runs) == 1, f"{job} ran {len(job_runs)} times at start"
    assert {lease["owner"] for lease in runs["leases"]} <= owners
    pulled = db["lavico/activity"].count_documents({})
    assert pulled == len(PROMOTIONS)  # every coupon activity of the standalone CRM
    assert all(worker.poll() is None for worker in workers)
