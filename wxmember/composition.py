"""The composition root: builds every service once, and the web app and scheduler on them.

The only module of ``wxmember`` that knows ``handlers/`` (the dispatcher's table) and
``jobs/`` (``services.jobs``, the scheduler); the rest of the core gets both through
the services it is handed.
"""

import contextlib
import secrets
from dataclasses import dataclass, field

from apscheduler.schedulers.base import BaseScheduler
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError
from wechatpy import WeChatClient

import handlers
from jobs import scheduler
from jobs.control import Jobs
from jobs.lease import new_owner
from jobs.runs import JobRuns
from wxmember import db
from wxmember.background import Background
from wxmember.binding.card_activation import CardActivation
from wxmember.binding.drift import DriftLog
from wxmember.binding.outbox import Outbox
from wxmember.binding.ratelimit import RateLimiter
from wxmember.binding.service import BindingService
from wxmember.binding.sms import SmsCodes
from wxmember.clock import Clock
from wxmember.config import ConfigError, is_embedded, load_config
from wxmember.crm import CRMClient, connect_crm
from wxmember.db.collections import SETTINGS
from wxmember.db.engine import EngineError
from wxmember.events.dispatch import Dispatcher
from wxmember.events.profiles import ProfileRequests
from wxmember.events.replies import ReplyRules
from wxmember.httpserver import BackgroundServer
from wxmember.members.center import MemberCenter
from wxmember.members.messages import MemberMessages
from wxmember.members.prepaid import PrepaidLinks
from wxmember.members.profile import MemberProfiles
from wxmember.members.system import MemberSystem
from wxmember.records import Records, open_records
from wxmember.scheduling import JobControl
from wxmember.shake.activities import ShakeActivities
from wxmember.shake.draws import ShakeDraws
from wxmember.staff import Staff
from wxmember.web.app import make_app
from wxmember.wechat.crypto import MessageCrypto
from wxmember.wechat.profile import ProfileFetcher, build_client


@dataclass
class Services:
    """What the web app, the CLI and the jobs work with."""

    config: dict
    database: Database
    records: Records
    dispatcher: Dispatcher
    crypto: MessageCrypto | None  # None in plain mode (no encoding_aes_key)
    crm: CRMClient
    outbox: Outbox
    binding: BindingService
    background: Background
    wechat_client: WeChatClient | None = None  # None without appid/secret
    session_secret: str = ""
    crm_simulator: BackgroundServer | None = None  # with crm.base_url: simulator
    drift: DriftLog | None = None
    members: MemberSystem | None = None
    shake_activities: ShakeActivities | None = None
    shakes: ShakeDraws | None = None
    owner: str = field(default_factory=new_owner)  # this process, in leases and job runs
    jobs: JobControl | None = None
    scheduler: BaseScheduler | None = None  # when this process runs the jobs
    clock: Clock = field(default_factory=Clock)  # the one clock of every store and service
    staff: Staff | None = None  # staff accounts, API tokens, console sessions, audit log
    center: MemberCenter | None = None  # the member's own view of the membership (/m/)

    def close(self):
        """Stop the scheduler, background work and the in-process CRM simulator."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.background.shutdown()
        if self.crm_simulator is not None:
            self.crm_simulator.stop()


def bootstrap(config, database=None, wechat_client=None, clock=None):
    """Wire the services for ``config``; tests may pass their own database, WeChat client
    or clock."""
    clock = clock if clock is not None else Clock()
    database = database if database is not None else _connect(config)
    records = _open_records(database, config, clock)
    client = wechat_client if wechat_client is not None else build_client(config, database, clock)
    crm, simulator = connect_crm(config)
    background = Background()
    secret = config["console"]["session_secret"] or _development_secret(database)
    outbox, drift = Outbox(database, crm, clock), DriftLog(database, clock)
    for store in (outbox, drift, JobRuns(database, clock)):
        store.ensure_indexes()
    members = MemberSystem.build(config, database, records, crm, clock)
    binding = _binding(database, records, crm, outbox, background, secret, members, clock)
    shake_activities = ShakeActivities(database, records.coupons, clock)
    shake_activities.ensure_indexes()
    shakes = ShakeDraws(
        database,
        shake_activities,
        records.customers,
        members.ledger,
        crm,
        records.feeds,
        records.logs,
        clock=clock,
    )
    shakes.ensure_indexes()
    profiles = MemberProfiles(database, records.customers, outbox, background, clock)
    messages = MemberMessages(database, members.grades, clock)
    prepaid = PrepaidLinks(database, records.customers, crm, clock)
    for store in (messages, prepaid):
        store.ensure_indexes()
    center = MemberCenter(records.customers, members, crm, clock, profiles, messages, prepaid)
    fetcher = ProfileFetcher(client, records.customers) if client else None
    dependencies = {  # what handlers may name as parameters
        "records": records,
        "customers": records.customers,
        "feeds": records.feeds,
        "logs": records.logs,
        "replies": ReplyRules.from_config(config),
        "profiles": ProfileRequests(fetcher, background),
        "binding": binding,
        "activation": CardActivation(client, binding, records.logs),
        "background": background,
        "members": members,
        "shakes": shakes,
        "center": center,
    }
    services = Services(
        config=config,
        database=database,
        records=records,
        dispatcher=Dispatcher(handlers.HANDLERS, handlers.FALLBACK, dependencies),
        crypto=_crypto(config),
        crm=crm,
        outbox=outbox,
        binding=binding,
        background=background,
        wechat_client=client,
        session_secret=secret,
        crm_simulator=simulator,
        drift=drift,
        members=members,
        shake_activities=shake_activities,
        shakes=shakes,
        clock=clock,
        staff=Staff.build(database, config["console"], clock),
        center=center,
    )
    services.jobs = Jobs(services)
    return services


JOB_NAMES = Jobs.names


def create_app(config_path=None, *, config=None, services=None):
    """The web app for ``config_path`` (or a loaded ``config``, or ready ``services``).

    Built from a config, the embedded default also runs the jobs in this process;
    production runs them in ``wxmember worker``.
    """
    if services is None:
        services = bootstrap(config if config is not None else load_config(config_path))
        if services.config["scheduler"]["enabled"] and is_embedded(services.config):
            start_scheduler(services)
    return make_app(services)


def start_scheduler(services, blocking=False):
    """Schedule every job on ``services``; a blocking scheduler returns when stopped."""
    services.scheduler = scheduler.build(services.jobs, blocking=blocking)
    services.scheduler.start()


def _binding(database, records, crm, outbox, background, secret, members, clock):
    limiter = RateLimiter(database, clock)
    sms = SmsCodes(database, crm, limiter, secret, clock)
    limiter.ensure_indexes()
    sms.ensure_indexes()
    return BindingService(
        records.customers,
        records.feeds,
        records.logs,
        crm,
        sms,
        outbox,
        background,
        on_bound=members.points.open_from_crm,  # the CRM's points become the opening row
    )


def _development_secret(database):
    """A random secret kept in the database, so every process of the machine shares it.

    Only the embedded default gets here (config validation asks for
    ``console.session_secret`` anywhere else): sessions and SMS codes signed by one
    process must be good in the others.
    """
    settings = database[SETTINGS]
    with contextlib.suppress(DuplicateKeyError):  # another process's upsert won the race
        settings.update_one(
            {"_id": "session_secret"},
            {"$setOnInsert": {"value": secrets.token_hex(32)}},
            upsert=True,
        )
    return settings.find_one({"_id": "session_secret"})["value"]


def _connect(config):
    try:
        return db.connect(config["mongo"])
    except EngineError as error:
        raise ConfigError("mongo.data_dir", str(error)) from None


def _open_records(database, config, clock):
    """The record stores; the first touch of the database, so its failure is named here."""
    try:
        return open_records(database, config["wechat"]["dedup_ttl_s"], clock)
    except PyMongoError as error:
        where = db.describe(config["mongo"]).get("hosts") or config["mongo"]["uri"]
        raise ConfigError(
            "mongo.uri", f"the database at {where} does not answer ({type(error).__name__})"
        ) from None


def _crypto(config):
    wechat = config["wechat"]
    if not wechat["encoding_aes_key"]:
        return None
    return MessageCrypto(wechat["encoding_aes_key"], wechat["appid"])
