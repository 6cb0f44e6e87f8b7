"""Builds every dependency once (database, stores, CRM, WeChat client) and hands them out."""

import contextlib
import secrets
from dataclasses import dataclass, field

from pymongo.errors import DuplicateKeyError, PyMongoError

import handlers
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
from wxmember.config import ConfigError
from wxmember.crm import connect_crm
from wxmember.db.engine import EngineError
from wxmember.events.dispatch import Dispatcher
from wxmember.events.profiles import ProfileRequests
from wxmember.events.replies import ReplyRules
from wxmember.members.system import MemberSystem
from wxmember.records import Records, open_records
from wxmember.shake.activities import ShakeActivities
from wxmember.shake.draws import ShakeDraws
from wxmember.staff import Staff
from wxmember.wechat.crypto import MessageCrypto
from wxmember.wechat.profile import ProfileFetcher, build_client

SETTINGS = "wxmember/settings"


@dataclass
class Services:
    """What the web app, the CLI and the jobs work with."""

    config: dict
    database: object
    records: Records
    dispatcher: Dispatcher
    crypto: MessageCrypto | None
    crm: object
    outbox: Outbox
    binding: BindingService
    background: Background
    wechat_client: object = None
    session_secret: str = ""
    crm_simulator: object = None
    drift: DriftLog = None
    members: object = None  # MemberSystem: ledger, points, money, grades, transactions
    shake_activities: ShakeActivities = None
    shakes: ShakeDraws = None
    owner: str = field(default_factory=new_owner)
    scheduler: object = None
    staff: Staff = None  # staff accounts, API tokens, console sessions, audit log

    def close(self):
        """Stop the scheduler, background work and the in-process CRM simulator."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.background.shutdown()
        if self.crm_simulator is not None:
            self.crm_simulator.stop()


def bootstrap(config, database=None, wechat_client=None):
    """Wire the services for ``config``; tests may pass their own database or WeChat client."""
    database = database if database is not None else _connect(config)
    records = _open_records(database, config)
    client = wechat_client if wechat_client is not None else build_client(config, database)
    crm, simulator = connect_crm(config)
    background = Background()
    secret = config["console"]["session_secret"] or _development_secret(database)
    outbox, drift = Outbox(database, crm), DriftLog(database)
    for store in (outbox, drift, JobRuns(database)):
        store.ensure_indexes()
    members = MemberSystem.build(config, database, records, crm)
    binding = _binding(database, records, crm, outbox, background, secret, members)
    shake_activities = ShakeActivities(database)
    shake_activities.ensure_indexes()
    shakes = ShakeDraws(
        database,
        shake_activities,
        records.customers,
        members.ledger,
        crm,
        records.feeds,
        records.logs,
    )
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
    }
    return Services(
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
        staff=Staff.build(database, config["console"]),
    )


def _binding(database, records, crm, outbox, background, secret, members):
    limiter = RateLimiter(database)
    sms = SmsCodes(database, crm, limiter, secret)
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


def _open_records(database, config):
    """The record stores; the first touch of the database, so its failure is named here."""
    try:
        return open_records(database, config["wechat"]["dedup_ttl_s"])
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
