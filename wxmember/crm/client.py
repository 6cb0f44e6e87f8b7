"""The store CRM client: ``wxmember/crm/openapi.yaml`` over ``requests``.

Explicit timeouts on every call; reads are retried a bounded number of times with
backoff, changes are not (each carries an ``Idempotency-Key``, so the caller can
safely try again later, e.g. from the outbox). Log lines carry the method, the
path with member ids masked, the status and the time, never a body or the key.
"""

import hashlib
import logging
import re
import time
import uuid

import requests
import urllib3

from wxmember.crm.errors import (
    CRMError,
    CRMProtocolError,
    CRMRejected,
    CRMUnavailable,
    outcome_unknown,
)
from wxmember.logsafe import mask

log = logging.getLogger(__name__)

_RETRYABLE_STATUS = {429, 502, 503, 504}
QUICK_S = 1.5  # a read a member's page waits for: one try, at most this long
_NUMBER_IN_PATH = re.compile(r"/(\d{5,})")
_HEADER_SAFE_KEY = re.compile(r"[\x20-\x7e]{1,200}")  # printable ASCII, as the contract's limit


def once_more_if_lost(change):
    """Call ``change`` (a CRM change under a fixed idempotency key), again if its answer was lost.

    A timeout or a 5xx leaves the outcome unknown; asked again under the same key,
    the CRM answers what it did (or does it now), never twice.
    """
    try:
        return change()
    except CRMError as error:
        if not outcome_unknown(error):
            raise
        log.info("CRM answer lost (%s): asking again under the same key", error)
        return change()


def idempotency_key(*parts):
    """A header-safe key that is the same whenever ``parts`` are."""
    text = "|".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def header_safe(key):
    """``key`` as it is when a header can carry it (printable ASCII, ≤ 200), else its digest.

    Either way it is the same on every attempt; a key with other characters (a shake's
    nonce is the member's own text) made ``requests`` fail before sending: a 500.
    """
    return key if _HEADER_SAFE_KEY.fullmatch(key) else idempotency_key(key)


class CRMClient:
    """Calls the store CRM; every failure is a ``CRMError``."""

    def __init__(self, base_url, api_key="", timeout_s=3.0, retries=2, backoff_s=0.2):
        self.base_url = base_url.rstrip("/") + "/v1"
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.session = requests.Session()
        if api_key:
            self.session.headers["X-Api-Key"] = api_key

    # -- transport -------------------------------------------------------------

    def _get(self, path, **params):
        params = {k: v for k, v in params.items() if v is not None}
        for attempt in range(self.retries + 1):
            try:
                return self._send("GET", path, params=params)
            except CRMUnavailable:
                if attempt == self.retries:
                    raise
                time.sleep(self.backoff_s * 2**attempt)
        raise AssertionError("unreachable")

    def _post(self, path, body, idempotency_key=None):
        headers = {"Idempotency-Key": header_safe(idempotency_key or uuid.uuid4().hex)}
        return self._send("POST", path, json=body, headers=headers)

    def _send(self, method, path, timeout_s=None, **kwargs):
        started = time.monotonic()
        shown = _NUMBER_IN_PATH.sub(lambda m: "/" + mask(m.group(1)), path)
        timeout_s = timeout_s or self.timeout_s
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=timeout_s, **kwargs
            )
        except requests.Timeout as exc:
            log.warning("CRM %s %s timed out after %.1fs", method, shown, timeout_s)
            unsent = isinstance(exc, requests.ConnectTimeout)
            raise CRMUnavailable(f"{method} {shown}: timeout", unsent=unsent) from None
        except requests.RequestException as exc:
            log.warning("CRM %s %s failed: %s", method, shown, type(exc).__name__)
            detail = f"{method} {shown}: {type(exc).__name__}"
            raise CRMUnavailable(detail, unsent=_never_connected(exc)) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        log.info("CRM %s %s -> %s in %.0f ms", method, shown, response.status_code, elapsed_ms)
        return _decode(response, f"{method} {shown}")

    # -- members -----------------------------------------------------------------

    def health(self, timeout_s=1.0):
        """True when the CRM answers within ``timeout_s`` (one try: for health probes)."""
        try:
            return bool(
                self._send("GET", "/health", timeout_s=min(timeout_s, self.timeout_s)).get(
                    "success"
                )
            )
        except CRMError:
            return False

    def check_mobile(self, mobile):
        """``{exists, MEMBER_ID, checked, openid}`` for a mobile number."""
        answer = self._post("/members/check-mobile", {"mobile": mobile})
        _require(answer, "exists")
        return answer

    def bind_card(self, openid, mobile, name=None, card_number=None, idempotency_key=None):
        """Bind the card of ``mobile`` to ``openid``: ``{MEMBER_ID, MEM_CARD_NO, LEVEL}``."""
        body = {
            "openid": openid,
            "MOBILE_TELEPHONE_NO": mobile,
            "MEM_PSN_CNAME": name,
            "MEM_OLDCARD_NO": card_number,
        }
        answer = self._post("/members/bind", _drop_none(body), idempotency_key)
        return _require(answer, "MEMBER_ID", "MEM_CARD_NO", "LEVEL")

    def open_card(self, openid, name, mobile, sex=None, birthday=None, idempotency_key=None):
        """Open a new card for ``openid``: ``{MEMBER_ID, MEM_CARD_NO, LEVEL}``."""
        body = {
            "openid": openid,
            "MEM_PSN_CNAME": name,
            "MOBILE_TELEPHONE_NO": mobile,
            "MEM_PSN_SEX": sex,
            "MEM_PSN_BIRTHDAY": birthday,
        }
        answer = self._post("/members/apply", _drop_none(body), idempotency_key)
        return _require(answer, "MEMBER_ID", "MEM_CARD_NO", "LEVEL")

    def unbind(self, openid, member_id, idempotency_key=None):
        """Tell the CRM ``openid`` no longer holds ``member_id``."""
        body = {"openid": openid, "MEMBER_ID": member_id}
        return self._post("/members/unbind", body, idempotency_key)

    def member(self, member_id):
        """Member/Info with level and bound openid (``WX_OPENID``)."""
        return _require(self._get(f"/members/{int(member_id)}"), "info")["info"]

    def level(self, member_id):
        """The card level: "01" white, "02" VIP, "03" platinum VIP."""
        return _require(self._get(f"/members/{int(member_id)}/level"), "level")["level"]

    def points(self, member_id):
        """The member's points on the CRM (-1 for an unknown member)."""
        return _require(self._get(f"/members/{int(member_id)}/points"), "point")["point"]

    def changes(self, after=0, limit=100):
        """``(rows, next)``: member field changes with keys above ``after``, ascending."""
        answer = _require(self._get("/changes", after=after, limit=limit), "list")
        rows = answer["list"]
        if not isinstance(rows, list) or not all(_is_change(row) for row in rows):
            raise CRMProtocolError("GET /changes: malformed rows")
        return rows, answer.get("next")

    def point_log(self, member_id, page=1, per_page=20, month=None):
        """``(rows, total)``: the member's point changes on the CRM."""
        answer = self._get(
            f"/members/{int(member_id)}/points/log", pageNum=page, perPage=per_page, month=month
        )
        return _require(answer, "log", "total")["log"], answer["total"]

    def change_points(self, member_id, qty, memo, idempotency_key=None):
        """Add (or with a negative ``qty`` take) points; the new balance."""
        body = {"memberId": int(member_id), "qty": int(qty), "memo": memo}
        return _require(self._post("/points/change", body, idempotency_key), "point")["point"]

    def purchases(self, member_id, page=1, per_page=20):
        """``(rows, total)``: the member's store purchases."""
        answer = self._get(f"/members/{int(member_id)}/spending", pageNum=page, perPage=per_page)
        return _require(answer, "log", "total")["log"], answer["total"]

    def save_info(self, member_id, fields, idempotency_key=None):
        """Ask the CRM to change the member's details (it reviews them)."""
        return self._post(f"/members/{int(member_id)}/info", fields, idempotency_key)

    def tag(self, member_id, tag, remove=False, idempotency_key=None):
        """Add (or remove) a tag on the member."""
        action = "remove" if remove else "add"
        return self._post(f"/members/{int(member_id)}/tags/{action}", {"tag": tag}, idempotency_key)

    def transactions(self, after=0, limit=100):
        """``(rows, next)``: store transactions with keys above ``after``, ascending."""
        answer = _require(self._get("/transactions", after=after, limit=limit), "list")
        rows = answer["list"]
        if not isinstance(rows, list) or not all(
            isinstance(r, dict) and isinstance(r.get("PK_TRANSACTION"), int) for r in rows
        ):
            raise CRMProtocolError("GET /transactions: malformed rows")
        return rows, answer.get("next")

    # -- coupons, stores, SMS, prepaid ----------------------------------------------

    def promotions(self, page=1, per_page=50):
        """``(activities, total)``: one page of coupon activities."""
        answer = _require(self._get("/promotions", pageNum=page, perPage=per_page), "list", "total")
        return answer["list"], answer["total"]

    def fetch_coupon(self, openid, promotion_code, memo="", idempotency_key=None):
        """Issue one coupon of ``promotion_code``; its ``coupon_no``. CRMRejected ``sold_out``."""
        body = {"openid": openid, "PROMOTION_CODE": promotion_code, "memo": memo}
        answer = self._post("/coupons/fetch", body, idempotency_key)
        return _require(answer, "coupon_no")["coupon_no"]

    def coupons(self, member_id=None, openid=None, status=None, page=1, per_page=20, quick=False):
        """``(coupons, total)`` of a member, or of a follower without a card.

        ``quick``: one try within ``QUICK_S`` (a page waits for it), instead of the retries.
        """
        params = {
            "memberId": member_id,
            "openid": openid,
            "status": status,
            "pageNum": page,
            "perPage": per_page,
        }
        if quick:
            params = {k: v for k, v in params.items() if v is not None}
            timeout_s = min(QUICK_S, self.timeout_s)
            answer = self._send("GET", "/coupons", timeout_s=timeout_s, params=params)
        else:
            answer = self._get("/coupons", **params)
        return _require(answer, "list", "total")["list"], answer["total"]

    def shops(self, city=None, page=1, per_page=50):
        """``(stores, total)``."""
        answer = self._get("/shops", city=city, pageNum=page, perPage=per_page)
        return _require(answer, "list", "total")["list"], answer["total"]

    def prepaid(self, mobile, quick=False):
        """Store-registered customers with their prepaid records for a phone number.

        ``quick``: one try within ``QUICK_S`` (a page waits for it), instead of the retries.
        """
        if quick:
            timeout_s = min(QUICK_S, self.timeout_s)
            answer = self._send("GET", "/prepaid", timeout_s=timeout_s, params={"mobile": mobile})
        else:
            answer = self._get("/prepaid", mobile=mobile)
        return _require(answer, "list")["list"]

    def send_sms(self, mobile, content, idempotency_key=None):
        """Send a text message through the CRM's SMS gateway."""
        return self._post("/sms", {"mobile": mobile, "content": content}, idempotency_key)


def _decode(response, what):
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 500 or response.status_code in _RETRYABLE_STATUS:
        # 503 and 429 say the request was not handled; any other 5xx may come after the work
        unsent = response.status_code in (429, 503)
        raise CRMUnavailable(f"{what}: HTTP {response.status_code}", unsent=unsent)
    if not isinstance(body, dict):
        raise CRMProtocolError(f"{what}: HTTP {response.status_code}, answer is not a JSON object")
    if response.status_code >= 400 or body.get("success") is False:
        raise CRMRejected(response.status_code, body.get("code"), body.get("error"))
    return body


def _never_connected(exc):
    """True when the connection itself failed (refused, no route): nothing was sent."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(
        reason, urllib3.exceptions.NewConnectionError
    )


def _require(answer, *fields):
    missing = [field for field in fields if field not in answer]
    if missing:
        raise CRMProtocolError(f"answer lacks {', '.join(missing)}")
    return answer


def _drop_none(body):
    return {k: v for k, v in body.items() if v is not None}


def _is_change(row):
    return (
        isinstance(row, dict)
        and isinstance(row.get("PK_PUB_FIELD_CHANGEHIS"), int)
        and isinstance(row.get("FIELD_NAME"), str)
        and row.get("RK_VALUE") is not None
    )
