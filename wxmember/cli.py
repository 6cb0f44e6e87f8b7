"""The ``wxmember`` command: serve, simulate WeChat, query logs."""

import csv
import io
import json
import sys
import time
from datetime import datetime

import click
import requests

from wxmember.composition import JOB_NAMES, bootstrap, create_app, start_scheduler
from wxmember.config import ConfigError, load_config
from wxmember.logsafe import configure_logging
from wxmember.scheduling import JobBusy
from wxmember.staff_commands import staff
from wxmember.timeparse import SHANGHAI
from wxmember.wechat import simulator
from wxmember.wechat.crypto import MessageCrypto


def _load(ctx):
    try:
        return load_config(ctx.obj["config_path"])
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def staff_api_options(command):
    """``--url`` of a running server and ``--token`` of its staff API."""
    command = click.option(
        "--token",
        envvar="WXMEMBER_CONSOLE_API_TOKEN",
        help="Staff API token (default: console.api_token of the config).",
    )(command)
    return click.option(
        "--url",
        default="http://127.0.0.1:5000",
        show_default=True,
        help="Base URL of a running wxmember.",
    )(command)


@click.group()
@click.option(
    "--config",
    "config_path",
    envvar="WXMEMBER_CONFIG",
    type=click.Path(),
    help="Path of config.yaml (default: the one at the repository root).",
)
@click.pass_context
def cli(ctx, config_path):
    """wxmember: the member platform behind a WeChat official account."""
    ctx.ensure_object(dict)["config_path"] = config_path
    configure_logging()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
def serve(ctx, host, port):
    """Run the web service (development server; production: gunicorn 'wxmember:create_app()')."""
    from werkzeug.serving import run_simple

    app = create_app(config=_load(ctx))
    run_simple(host, port, app, threaded=True)


@cli.command()
@click.argument("event")
@click.option("--openid", required=True, help="The follower's openid (FromUserName).")
@click.option("--url", default="http://127.0.0.1:5000/wechat", show_default=True)
@click.option("--safe", is_flag=True, help="Encrypt as in safe mode (needs encoding_aes_key).")
@click.option("--key", help="EventKey of click / view.")
@click.option("--scene", help="QR scene of subscribe / scan.")
@click.option("--content", help="Text of a text message.")
@click.option("--card-code", help="UserCardCode of a member-card event.")
@click.option("--create-time", type=int, help="CreateTime to send (to replay a delivery).")
@click.option(
    "--repeat",
    default=1,
    show_default=True,
    type=click.IntRange(1, 10),
    help="Deliver the same message this many times, as WeChat's retries do.",
)
@click.pass_context
def simulate(ctx, event, openid, url, safe, key, scene, content, card_code, create_time, repeat):
    """Send EVENT (subscribe, text, click, shake, user_get_card, …) as WeChat would."""
    config = _load(ctx)
    wechat = config["wechat"]
    crypto = None
    if safe:
        if not wechat["encoding_aes_key"]:
            raise click.ClickException("--safe needs wechat.encoding_aes_key in the config")
        crypto = MessageCrypto(wechat["encoding_aes_key"], wechat["appid"])
    fields = simulator.message_fields(
        event,
        openid,
        create_time=create_time,
        key=key,
        scene=scene,
        content=content,
        card_code=card_code,
    )
    xml = simulator.to_xml(fields)
    for _ in range(repeat):
        query, body = simulator.signed_request(xml, wechat["token"], crypto)
        try:
            response = requests.post(url, params=query, data=body.encode(), timeout=10)
        except requests.RequestException as exc:
            raise click.ClickException(f"cannot reach {url}: {type(exc).__name__}") from None
        click.echo(f"HTTP {response.status_code}")
        if response.status_code != 200:
            click.echo(response.text)
            sys.exit(1)
        reply = simulator.open_reply(response.text, wechat["token"], crypto)
        click.echo(reply.get("Content", "success") if reply else "success")


@cli.command()
@staff_api_options
@click.option("--wxid", help="Only this follower's records.")
@click.option("--action", help="Only this action (subscribe, text, click, …).")
@click.option("--since", help="From this time (epoch ms or ISO date, Asia/Shanghai).")
@click.option("--until", help="Before this time (epoch ms or ISO date, Asia/Shanghai).")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1, 500), help="Records per page."
)
@click.option(
    "--pages",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="How many pages to fetch, following the cursor.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row.")
@click.pass_context
def logs(ctx, url, token, wxid, action, since, until, limit, pages, as_json, as_csv):
    """Query lavico/user/logs through the staff API, newest first."""
    token = token or _load(ctx)["console"]["api_token"]
    params = {
        k: v
        for k, v in dict(wxid=wxid, action=action, since=since, until=until, limit=limit).items()
        if v
    }
    items = list(_fetch_logs(f"{url.rstrip('/')}/api/logs", token, params, pages))
    if as_json:
        for item in items:
            click.echo(json.dumps(item, ensure_ascii=False))
    elif as_csv:
        _write_csv(items)
    else:
        _write_table(items)


def _api_get(endpoint, token, params):
    """GET a staff API page; a ClickException with the server's message on failure."""
    headers = {"Authorization": f"Bearer {token}"}
    try:
        response = requests.get(endpoint, params=params, headers=headers, timeout=10)
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach {endpoint}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise click.ClickException(f"HTTP {response.status_code}: {_message(response)}")
    return response.json()


def _fetch_logs(endpoint, token, params, pages):
    for _ in range(pages):
        page = _api_get(endpoint, token, params)
        yield from page["items"]
        if not page.get("next"):
            return
        params = {**params, "cursor": page["next"]}


def _message(response):
    try:
        return response.json().get("message", response.text)
    except ValueError:
        return response.text[:200]


def _row(item):
    when = datetime.fromtimestamp(item["createTime"] / 1000, SHANGHAI)
    data = json.dumps(item.get("data", {}), ensure_ascii=False, sort_keys=True)
    return [when.strftime("%Y-%m-%d %H:%M:%S"), item["wxid"], item["action"], data]


HEADER = ["time", "wxid", "action", "data"]


def _write_csv(items):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(_row(item) for item in items)
    click.echo(buffer.getvalue(), nl=False)


def _write_table(items):
    rows = [_row(item) for item in items]
    for row in rows:
        row[3] = row[3] if len(row[3]) <= 60 else row[3][:57] + "..."
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(HEADER)]
    for row in [HEADER, ["-" * w for w in widths], *rows]:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    click.echo(f"({len(rows)} records)")


@cli.command()
@staff_api_options
@click.option("--job", type=click.Choice(list(JOB_NAMES)), help="Only this job's runs.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.pass_context
def jobs(ctx, url, token, job, limit):
    """The latest job runs of a running server: start, end, counts, error."""
    token = token or _load(ctx)["console"]["api_token"]
    params = {"limit": limit, **({"job": job} if job else {})}
    body = _api_get(f"{url.rstrip('/')}/api/jobs", token, params)
    for run in body["items"]:
        click.echo(_run_line(run))
    click.echo(f"({len(body['items'])} runs)")


def _run_line(run):
    started = datetime.fromtimestamp(run["startedAt"] / 1000, SHANGHAI)
    took = f"{(run['endedAt'] - run['startedAt']) / 1000:.1f}s" if run.get("endedAt") else "…"
    counts = " ".join(f"{k}={v}" for k, v in (run.get("counts") or {}).items())
    error = f"  error: {run['error']}" if run.get("error") else ""
    return (
        f"{started:%Y-%m-%d %H:%M:%S}  {run['job']:<10} {run['state']:<8} {took:>7}  "
        f"{counts}{error}"
    )


@cli.command()
@click.argument("job", type=click.Choice(list(JOB_NAMES)))
@click.option(
    "--url",
    help="Run it in the wxmember serving at this URL instead of here (needed for jobs "
    "that talk to the built-in CRM simulator, which lives in that process).",
)
@click.option(
    "--token",
    envvar="WXMEMBER_CONSOLE_API_TOKEN",
    help="Staff API token for --url (default: console.api_token of the config).",
)
@click.pass_context
def sync(ctx, job, url, token):
    """Run one job now (members, activities, reconcile, outbox, …), with progress."""
    if url:
        run = _run_remotely(url.rstrip("/"), token or _load(ctx)["console"]["api_token"], job)
    else:
        _refuse_private_simulator(_load(ctx), job)
        run = _run_here(ctx, job)
    click.echo("", err=True)
    click.echo(_run_line(run))
    if run["error"]:
        sys.exit(1)


# Jobs that compare or change the CRM's state: against a simulator of their own (a fresh
# one in this process) they would record drift that is not there.
CRM_STATE_JOBS = ("members", "reconcile", "outbox", "transactions")


def _refuse_private_simulator(config, job):
    if config["crm"]["base_url"] == "simulator" and job in CRM_STATE_JOBS:
        raise click.ClickException(
            f"{job} works with the CRM, and the built-in CRM simulator lives in the serving "
            "process: run it there with --url http://127.0.0.1:5000"
        )


def _run_here(ctx, job):
    services = bootstrap(_load(ctx))
    try:
        return services.jobs.run(job, trigger="cli", progress=_progress(job))
    except JobBusy:
        raise click.ClickException(f"{job} is running in another process; try later") from None
    finally:
        services.close()


def _run_remotely(url, token, job):
    headers = {"Authorization": f"Bearer {token}"}
    try:
        started = requests.post(f"{url}/api/jobs/{job}", headers=headers, timeout=10)
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach {url}: {type(exc).__name__}") from None
    if started.status_code != 202:
        raise click.ClickException(f"HTTP {started.status_code}: {_message(started)}")
    show = _progress(job)
    while True:
        run = _api_get(f"{url}/api/jobs/runs/{started.json()['runId']}", token, {})["run"]
        if run.get("done") is not None:
            show(run["done"], run.get("total"))
        if run["state"] != "running":
            return run
        time.sleep(0.3)


def _progress(label):
    def show(done, total=None):
        if total:
            filled = int(30 * min(done, total) / total)
            line = f"{label} [{'#' * filled:<30}] {done}/{total}"
        else:
            line = f"{label}: {done} done"
        click.echo(f"\r{line}", nl=False, err=True)

    return show


@cli.command()
@click.option("--repair", is_flag=True, help="First write the rows a crash left unwritten.")
@click.pass_context
def audit(ctx, repair):
    """Recompute every ledger balance from its rows and report any difference."""
    services = bootstrap(_load(ctx))
    try:
        ledger = services.members.ledger
        if repair:
            click.echo(f"repaired {ledger.repair()} rows", err=True)
        differences = ledger.audit(progress=_progress("accounts"))
    finally:
        services.close()
    click.echo("", err=True)
    for difference in differences:
        click.echo(json.dumps(difference, ensure_ascii=False, default=str))
    click.echo(f"{len(differences)} differences")
    if differences:
        sys.exit(1)


@cli.command()
@click.pass_context
def worker(ctx):
    """Run the scheduled jobs (each runs on one worker at a time) until stopped."""
    services = bootstrap(_load(ctx))
    click.echo(f"worker {services.owner}: jobs {', '.join(JOB_NAMES)}", err=True)
    try:
        start_scheduler(services, blocking=True)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        services.close()


@cli.group("db")
def database_engine():
    """The embedded database engine (mongo.uri: embedded://): status, start, stop."""


def _embedded_mongo(ctx):
    from wxmember.config import EMBEDDED_URI

    mongo = _load(ctx)["mongo"]
    if mongo["uri"] != EMBEDDED_URI:
        raise click.ClickException(
            f"mongo.uri is {mongo['uri'].split('://')[0]}://, not embedded://"
        )
    return mongo


@database_engine.command("status")
@click.pass_context
def db_status(ctx):
    """Whether the engine runs, its pid and address, and where the data is."""
    from wxmember.db import engine

    mongo = _embedded_mongo(ctx)
    running = engine.running(mongo["data_dir"])
    if running is None:
        click.echo(f"not running (data in {mongo['data_dir']})")
        sys.exit(3)
    click.echo(json.dumps(running.describe(), ensure_ascii=False))


@database_engine.command("start")
@click.pass_context
def db_start(ctx):
    """Start the engine now (any wxmember process starts it when it needs it)."""
    from wxmember.db import engine

    try:
        running = engine.ensure_running(_embedded_mongo(ctx)["data_dir"])
    except engine.EngineError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(running.describe(), ensure_ascii=False))


@database_engine.command("stop")
@click.pass_context
def db_stop(ctx):
    """Stop the engine; its data stays in the data directory."""
    from wxmember.db import engine

    data_dir = _embedded_mongo(ctx)["data_dir"]
    click.echo("stopped" if engine.stop(data_dir) else f"not running (data in {data_dir})")


@cli.command("crm-simulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=click.IntRange(1, 65535))
@click.option("--members", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--api-key", default="", help="Require this X-Api-Key.")
@click.option("--latency-ms", default=0, show_default=True, type=click.IntRange(0, 60_000))
@click.option("--error-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1))
def crm_simulator(host, port, members, api_key, latency_ms, error_rate):
    """Run the store CRM simulator (the contract in wxmember/crm/openapi.yaml)."""
    from werkzeug.serving import run_simple

    from wxmember.crm.simulator import create_simulator

    app = create_simulator(members, api_key, latency_ms, error_rate)
    click.echo(f"CRM simulator with {members} members", err=True)
    run_simple(host, port, app, threaded=True)


cli.add_command(staff)


def main():
    """Entry point of the ``wxmember`` console script."""
    try:
        cli(obj={})
    except ConfigError as exc:  # e.g. a database that does not answer: one line, no traceback
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
