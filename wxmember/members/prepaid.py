"""Prepaid records (seed 001): the brand's store-registered prepaid cards and their balances,
linked to a WeChat user by the mobile the member verified when binding.

One mobile is linked to one WeChat user and one WeChat user to one mobile: a link is one
document per mobile (``_id``) in ``member/prepaid_links``, naming the bound customer
(``openid``, ``memberID``), with a copy of what the CRM last said (``customers`` with
their ``records``) and when. The records are shown only to the member bound with that
mobile now; when the binding ends the link says ``unlinked``, and the next member to bind
the mobile takes it over. Staff see the link and its state.
"""

import logging

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.crm import CRMClient, CRMError
from wxmember.db.collections import PREPAID_LINKS
from wxmember.logsafe import mask
from wxmember.records.customers import CustomerStore
from wxmember.records.member_card import bound_member_id

log = logging.getLogger(__name__)

KINDS = {"cash": "现金预存", "card": "储值卡", "transfer": "转账预存"}


class PrepaidLinks:
    """Links verified mobiles to the CRM's prepaid records, and reads them for the member."""

    def __init__(
        self,
        database: Database,
        customers: CustomerStore,
        crm: CRMClient,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.collection = database[PREPAID_LINKS]
        self.customers, self.crm, self.clock = customers, crm, clock

    def ensure_indexes(self) -> None:
        """One linked mobile per WeChat user (a mobile is one document: its ``_id``)."""
        self.collection.create_index(
            "openid", unique=True, partialFilterExpression={"linkStatus": "linked"}
        )
        self.collection.create_index("memberID")

    def of_customer(self, customer: dict) -> dict:
        """The bound customer's prepaid records (linked now), as the CRM says them or, when it
        does not answer, as it last said them (``fresh`` False)."""
        mobile, member_id = customer.get("mobile"), bound_member_id(customer)
        if not mobile or member_id is None:
            return {"linked": False, "customers": [], "balance": 0, "checkedAt": None}
        try:
            found = self.crm.prepaid(mobile, quick=True)
        except CRMError as error:
            log.info("prepaid of %s not read from the CRM: %s", mask(customer["wechatid"]), error)
            found = None
        link = self._link(customer, mobile, member_id, found)
        return _shown(link, fresh=found is not None)

    def _link(self, customer, mobile, member_id, found):
        """Link ``mobile`` to the customer (taking it over from one no longer bound with it)."""
        now = self.clock.now_ms()
        fields = {"openid": customer["wechatid"], "memberID": member_id, "linkStatus": "linked"}
        if found is not None:
            fields.update(customers=_customers(found), checkedAt=now)
        self._unlink_others(customer["wechatid"], mobile)
        try:
            return self.collection.find_one_and_update(
                {"_id": mobile},
                {"$set": fields, "$setOnInsert": {"linkTime": now}},
                upsert=True,
                return_document=True,
            )
        except DuplicateKeyError:  # a concurrent first look linked it: read what it wrote
            return self.collection.find_one({"_id": mobile})

    def _unlink_others(self, openid, mobile):
        """The member's earlier mobile (bound again with another) is no longer theirs."""
        self.collection.update_many(
            {"openid": openid, "_id": {"$ne": mobile}, "linkStatus": "linked"},
            {"$set": {"linkStatus": "unlinked", "unlinkTime": self.clock.now_ms()}},
        )

    def for_staff(self, member_id: int) -> dict:
        """What staff see of a member's link: the mobile's link (checked against the binding
        now, and refreshed from the CRM for a bound member) or none."""
        customer = self.customers.bound_to_member(member_id)
        if customer is not None:
            self.of_customer(customer)
        link = self.collection.find_one({"memberID": member_id}, sort=[("linkTime", -1)])
        if link is None:
            return {"link": None}
        holder = self.customers.bound_to("mobile", link["_id"])
        linked = holder is not None and holder["wechatid"] == link["openid"]
        if not linked and link["linkStatus"] == "linked":
            self.collection.update_one(
                {"_id": link["_id"], "openid": link["openid"]},
                {"$set": {"linkStatus": "unlinked", "unlinkTime": self.clock.now_ms()}},
            )
        return {
            "link": {
                "mobile": link["_id"],
                "openid": link["openid"],
                "memberID": link["memberID"],
                "linkStatus": "linked" if linked else "unlinked",
                "linkTime": link.get("linkTime"),
                "checkedAt": link.get("checkedAt"),
            },
            **_shown(link, fresh=True),
        }


def _customers(found):
    rows = []
    for customer in found if isinstance(found, list) else []:
        if not isinstance(customer, dict):
            continue
        records = [r for r in customer.get("records") or [] if isinstance(r, dict)]
        rows.append(
            {
                "customerId": str(customer.get("customerId") or ""),
                "customerName": str(customer.get("customerName") or ""),
                "records": [
                    {
                        "id": str(r.get("_id") or ""),
                        "amount": _yuan(r.get("amount")),
                        "balance": _yuan(r.get("balance")),
                        "type": str(r.get("type") or ""),
                        "typeName": KINDS.get(r.get("type"), "预存"),
                        "time": r.get("createTime")
                        if isinstance(r.get("createTime"), int)
                        else None,
                    }
                    for r in records
                ],
            }
        )
    return rows


def _yuan(value):
    return round(float(value), 2) if isinstance(value, (int, float)) else 0.0


def _shown(link, fresh):
    customers = (link or {}).get("customers", [])
    balance = sum(r["balance"] for c in customers for r in c["records"])
    return {
        "linked": True,
        "customers": customers,
        "balance": round(balance, 2),
        "checkedAt": (link or {}).get("checkedAt"),
        "fresh": fresh,
    }
