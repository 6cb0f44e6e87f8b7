"""``/m/redemptions``, 积分商城 (seed 003): the member's points, the items on offer and the
member's own redemptions, on the member blueprint. What it shows is what
``/m/api/redemptions`` answers (``redemption_api.redemptions_for_member``); the 兑换 button
posts to that API. The coupons to claim are the 领券 tab of ``/m/coupons`` (center_pages).
"""

from wxmember.web.center_pages import _bound_page
from wxmember.web.member_pages import bp
from wxmember.web.member_session import page_or_login
from wxmember.web.redemption_api import redemptions_for_member


@bp.get("/redemptions")
def redemptions_page():
    """积分商城: points at the top, the items on offer, the member's redemptions below."""

    def build(openid):
        return _bound_page(lambda c: redemptions_for_member(c.bound_member(openid)[1]), openid)

    return page_or_login("redemptions.html", build)
