"""``/console``: the staff web console (server-rendered, Simplified Chinese).

``auth`` (sign-in, sessions, CSRF, roles, ``log_change``), ``pages`` (home, logs and
their exports, audit), ``customers``, ``dashboard`` (charts), ``activities`` (shake),
``announcements`` (公告), ``jobs``, ``decisions`` (drift, withdrawals), ``rules`` (point
rules, grades, recharge promotions), ``coupons`` (the brand's coupons; their form in
``coupon_form``), ``offers`` (积分兑换 items), ``checkout`` (结算规则, 试算),
``staff_accounts``; ``forms`` and ``present`` read forms and show values in Chinese;
``api_access`` (who may call ``/api``). Templates and static files live beside them
(ECharts vendored under ``static/vendor``); nothing is loaded from another site.
"""


def register(app):
    """Mount the console on ``app`` (``/console``; ``/`` and ``/admin`` lead there)."""
    from wxmember.web.console import (  # noqa: F401 - routes
        activities,
        announcements,
        auth,
        checkout,
        coupons,
        customers,
        dashboard,
        decisions,
        jobs,
        offers,
        pages,
        rules,
        staff_accounts,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(auth.root)
