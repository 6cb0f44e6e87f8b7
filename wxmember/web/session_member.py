"""The bound member of the member pages' session, for the ``/m/api`` routes of seed 003."""

from flask import current_app

from wxmember.records.member_card import bound_member_id
from wxmember.refusals import Refused
from wxmember.web.member_session import current_openid


class NotBound(Refused):
    """The session's WeChat user has no store card bound."""

    default_status = 403

    def __init__(self) -> None:
        super().__init__("not_bound", "请先绑定会员卡")


def bound_member() -> int | None:
    """The member id bound to the session's openid, or None."""
    customer = current_app.extensions["wxmember"].records.customers.get(current_openid())
    return bound_member_id(customer)


def member_or_refuse() -> int:
    """The member id bound to the session's openid; NotBound (403) without one."""
    member_id = bound_member()
    if member_id is None:
        raise NotBound()
    return member_id
