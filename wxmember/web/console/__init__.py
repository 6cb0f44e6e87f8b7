"""``/console``: the staff web console (server-rendered, Simplified Chinese).

``auth`` (sign-in, sessions, CSRF, roles), ``pages`` (home, logs and their
exports, customers, audit), ``api_access`` (who may call ``/api``). Templates and
static files live beside them; nothing is loaded from another site.
"""


def register(app):
    """Mount the console on ``app`` (``/console``; ``/`` and ``/admin`` lead there)."""
    from wxmember.web.console import auth, customers, pages  # noqa: F401 - routes

    app.register_blueprint(auth.bp)
    app.register_blueprint(auth.root)
