"""Follower profiles from WeChat's ``user/info`` API, fetched off the reply path.

The access token lives in MongoDB (``wxmember/kv``) so several processes share one
instead of invalidating each other's.
See https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
"""

import logging
from datetime import timedelta

from pymongo.database import Database
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatException
from wechatpy.session import SessionStorage

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import WECHAT_KV
from wxmember.logsafe import mask
from wxmember.records.customers import CustomerStore

log = logging.getLogger(__name__)


class MongoSessionStorage(SessionStorage):
    """wechatpy token storage in a MongoDB collection with a TTL."""

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.collection = database[WECHAT_KV]
        self.clock = clock
        self.collection.create_index("expireAt", expireAfterSeconds=0)

    def get(self, key: str, default: object = None) -> object:
        doc = self.collection.find_one({"_id": key})
        if not doc or (doc.get("expireAt") and doc["expireAt"] <= self.clock.utcnow()):
            return default
        return doc["value"]

    def set(self, key: str, value: object, ttl: int | None = None) -> None:
        expire = self.clock.utcnow() + timedelta(seconds=ttl) if ttl else None
        self.collection.replace_one({"_id": key}, {"value": value, "expireAt": expire}, upsert=True)

    def delete(self, key: str) -> None:
        self.collection.delete_one({"_id": key})


class ProfileFetcher:
    """Fetches a follower's profile and stores it on the customer."""

    def __init__(self, client: WeChatClient, customers: CustomerStore) -> None:
        self.client = client
        self.customers = customers

    def refresh(self, openid: str) -> bool:
        """Fetch and store; failures are logged, never raised (this runs in the background)."""
        try:
            info = self.client.user.get(openid)
        except (WeChatException, OSError, ValueError) as exc:
            log.warning("profile fetch failed for %s: %s", mask(openid), type(exc).__name__)
            return False
        if not isinstance(info, dict):
            log.warning("profile fetch for %s: answer is not JSON", mask(openid))
            return False
        return self.customers.update_profile(openid, info)


OFFICIAL_ROOT = "https://api.weixin.qq.com/"


class AccountClient(WeChatClient):
    """wechatpy's client with every URL, the token's and the card API's included, moved
    under the configured ``api_base_url`` (so a proxy or a test double can stand in)."""

    def __init__(self, *args, api_base_url, **kwargs):
        super().__init__(*args, **kwargs)
        self.API_BASE_URL = api_base_url
        self.api_root = api_base_url.rsplit("cgi-bin/", 1)[0]

    def _request(self, method, url_or_endpoint, **kwargs):
        base = kwargs.get("api_base_url")
        if base and base.startswith(OFFICIAL_ROOT):
            kwargs["api_base_url"] = self.api_root + base[len(OFFICIAL_ROOT) :]
        return super()._request(method, url_or_endpoint, **kwargs)

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def build_client(
    config: dict, database: Database, clock: Clock = SYSTEM_CLOCK
) -> AccountClient | None:
    """A wechatpy client for the account, or None when no appsecret is configured."""
    wechat = config["wechat"]
    if not wechat["appsecret"]:
        return None
    return AccountClient(
        wechat["appid"],
        wechat["appsecret"],
        session=MongoSessionStorage(database, clock),
        timeout=wechat["api_timeout_s"],
        api_base_url=wechat["api_base_url"],
    )
