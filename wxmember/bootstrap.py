"""Builds every dependency once (database, stores, WeChat client) and hands them out."""

from dataclasses import dataclass

import handlers
from wxmember import db
from wxmember.dispatch import Dispatcher
from wxmember.profiles import ProfileRequests
from wxmember.records import Records, open_records
from wxmember.replies import ReplyRules
from wxmember.wechat.crypto import MessageCrypto
from wxmember.wechat.profile import ProfileFetcher, build_client


@dataclass
class Services:
    """What the web app, the CLI and the jobs work with."""

    config: dict
    database: object
    records: Records
    dispatcher: Dispatcher
    profiles: ProfileRequests
    crypto: MessageCrypto | None

    def close(self):
        """Stop background work."""
        self.profiles.shutdown()


def bootstrap(config, database=None, wechat_client=None):
    """Wire the services for ``config``; tests may pass their own database or client."""
    database = database if database is not None else _connect(config)
    records = open_records(database, config["wechat"]["dedup_ttl_s"])
    client = wechat_client if wechat_client is not None else build_client(config, database)
    profiles = ProfileRequests(ProfileFetcher(client, records.customers) if client else None)
    dependencies = {
        "records": records,
        "customers": records.customers,
        "feeds": records.feeds,
        "logs": records.logs,
        "replies": ReplyRules.from_config(config),
        "profiles": profiles,
    }
    dispatcher = Dispatcher(handlers.HANDLERS, handlers.FALLBACK, dependencies)
    return Services(config, database, records, dispatcher, profiles, _crypto(config))


def _connect(config):
    return db.connect(config["mongo"]["uri"], config["mongo"]["database"])


def _crypto(config):
    wechat = config["wechat"]
    if not wechat["encoding_aes_key"]:
        return None
    return MessageCrypto(wechat["encoding_aes_key"], wechat["appid"])
