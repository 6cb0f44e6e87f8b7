"""``/m`` for the member center (seeds 001, 002, 004): the center, the histories, coupons,
prepaid records, the profile and messages, pages and their JSON API, on the member
blueprint (its session check, request document, no-store pages and helpers). The member is
the one of the session; the data comes from ``services.center`` (``MemberCenter``).
"""

from flask import jsonify, request

from wxmember.members.center import InvalidCursor, NotBound
from wxmember.members.ledger import KINDS
from wxmember.members.transactions import MAX_ID
from wxmember.web.coupon_api import claimable_for_member
from wxmember.web.jsonerrors import json_error
from wxmember.web.member_pages import _services, bp
from wxmember.web.member_session import current_openid, json_body, page_or_login

MONEY_KINDS = ("money", "frozen", "earnings")
COUPON_TABS = ("valid", "used", "expired", "claim")  # claim: 领券, those to claim now
MESSAGE_TABS = ("notices", "announcements")

# -- pages ---------------------------------------------------------------------


@bp.get("/")
def center_page():
    """The member center (seed 004): card, grade, points, money, coupons, and every page."""
    return page_or_login("center.html", lambda openid: {"me": _me(openid)})


@bp.get("/points")
def points_page():
    """The points ledger, newest first, a page at a time."""
    return page_or_login("ledger.html", lambda openid: _ledger_page(openid, "points"))


@bp.get("/money")
def money_page():
    """The money ledgers (balance, frozen, earnings), newest first, a page at a time."""
    kind = request.args.get("kind", "money")
    kind = kind if kind in MONEY_KINDS else "money"
    return page_or_login("ledger.html", lambda openid: _ledger_page(openid, kind))


@bp.get("/purchases")
def purchases_page():
    """Purchases, recharges and refunds with their points, newest first."""
    before = request.args.get("before")

    def read(center, openid):
        try:
            return center.purchases(openid, before)
        except InvalidCursor:  # a link edited by hand: the first page
            return center.purchases(openid)

    return page_or_login(
        "purchases.html", lambda openid: _bound_page(lambda c: read(c, openid), openid)
    )


@bp.get("/coupons")
def coupons_page():
    """The member's coupons: valid, used, expired; and those the member may claim now."""
    status = request.args.get("status", "valid")
    status = status if status in COUPON_TABS else "valid"

    def read(center, openid):
        customer, member_id = center.bound_member(openid)
        page = {**center.coupons(customer), "status": status}
        if status == "claim":
            page["claimable"] = claimable_for_member(member_id)
        return page

    def build(openid):
        return _bound_page(lambda c: read(c, openid), openid)

    return page_or_login("coupons.html", build)


def _ledger_page(openid, kind):
    before = request.args.get("before", type=int)
    before = before if before is not None and 0 < before < MAX_ID else None
    return _bound_page(lambda center: center.ledger(openid, kind, before), openid)


def _bound_page(read, openid):
    """The page's data for a bound member, else why there is none (``reason``)."""
    center = _services().center
    try:
        return {"bound": True, "page": read(center)}
    except NotBound:
        return {"bound": False, "reason": center.overview(openid)["reason"]}


@bp.get("/profile")
def profile_page():
    """The member's details and interests (seed 002), and the way to the book and titles."""
    return page_or_login("profile.html", lambda openid: _bound_page(_profile(openid), openid))


@bp.get("/profile/addresses")
def addresses_page():
    """The address book: add, change, make default, delete."""
    return page_or_login("addresses.html", lambda openid: _bound_page(_profile(openid), openid))


@bp.get("/profile/invoices")
def invoices_page():
    """The invoice titles: add, change, delete."""
    return page_or_login("invoices.html", lambda openid: _bound_page(_profile(openid), openid))


def _profile(openid):
    def read(center):
        customer, member_id = center.bound_member(openid)
        return center.profiles.view(customer, member_id)

    return read


@bp.get("/messages")
def messages_page():
    """Announcements and the member's own notices, with what is unread."""
    tab = request.args.get("tab", "notices")
    tab = tab if tab in MESSAGE_TABS else "notices"
    return page_or_login("messages.html", lambda openid: _services().center.inbox(openid, tab))


@bp.get("/prepaid")
def prepaid_page():
    """The prepaid records of the mobile the member verified when binding (seed 001)."""
    return page_or_login(
        "prepaid.html", lambda openid: _bound_page(lambda c: c.prepaid_of(openid), openid)
    )


@bp.get("/api/me")
def me():
    """The member's binding, and the member center's figures (or why there are none)."""
    return jsonify({"ok": True, **_me(current_openid())})


@bp.get("/api/ledgers/<kind>")
def ledger_rows(kind):
    """One of the member's four ledgers, newest first: ``{balance, items, next}``."""
    if kind not in KINDS:
        return json_error(404, "unknown_ledger", "没有这种明细")
    before = request.args.get("before", type=int)
    return jsonify({"ok": True, **_services().center.ledger(current_openid(), kind, before)})


@bp.get("/api/purchases")
def purchases():
    """The member's transactions with their points, newest first: ``{items, next}``."""
    before = request.args.get("before")
    return jsonify({"ok": True, **_services().center.purchases(current_openid(), before)})


@bp.route("/api/profile", methods=["GET", "POST"])
def profile():
    """The member's details, address book and invoice titles; POST changes the details
    (``{name?, gender?, birthday?, favoriteStyle?, favoriteColor?, interests?}``)."""
    center = _services().center
    customer, member_id = center.bound_member(current_openid())
    if request.method == "POST":
        center.profiles.save_details(customer, member_id, json_body())
        customer = center.customers.get(customer["wechatid"])
    return jsonify({"ok": True, **center.profiles.view(customer, member_id)})


@bp.post("/api/addresses")
def save_address():
    """Add an address (or change the one of ``id``): the book as it is now."""
    center = _services().center
    customer, member_id = center.bound_member(current_openid())
    book = center.profiles.save_address(customer, member_id, json_body())
    return jsonify({"ok": True, "addresses": book})


@bp.post("/api/addresses/<address_id>/<any(default, delete):action>")
def change_address(address_id, action):
    """Make an address the default, or delete it: the book as it is now."""
    center = _services().center
    customer, member_id = center.bound_member(current_openid())
    change = (
        center.profiles.set_default_address
        if action == "default"
        else center.profiles.delete_address
    )
    return jsonify({"ok": True, "addresses": change(customer, member_id, address_id)})


@bp.post("/api/invoices")
def save_invoice():
    """Add an invoice title (or change the one of ``id``): the titles as they are now."""
    center = _services().center
    _, member_id = center.bound_member(current_openid())
    return jsonify({"ok": True, "invoices": center.profiles.save_invoice(member_id, json_body())})


@bp.post("/api/invoices/<invoice_id>/delete")
def delete_invoice(invoice_id):
    """Delete an invoice title: the titles as they are now."""
    center = _services().center
    _, member_id = center.bound_member(current_openid())
    return jsonify({"ok": True, "invoices": center.profiles.delete_invoice(member_id, invoice_id)})


@bp.get("/api/messages")
def messages():
    """One tab of the member's messages (``?tab=notices|announcements``), and the unread."""
    tab = request.args.get("tab", "notices")
    return jsonify({"ok": True, **_services().center.inbox(current_openid(), tab)})


@bp.post("/api/messages/read")
def read_messages():
    """``{tab}``: every message of the tab read; the unread counts after it."""
    tab = json_body().get("tab")
    return jsonify({"ok": True, "unread": _services().center.read(current_openid(), tab)})


@bp.get("/api/prepaid")
def prepaid():
    """The member's prepaid records, linked by the verified mobile: ``{customers, balance}``."""
    return jsonify({"ok": True, **_services().center.prepaid_of(current_openid())})


def _me(openid):
    services = _services()
    return {**services.binding.me(openid), **services.center.overview(openid)}
