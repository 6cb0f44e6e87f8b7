"""Helpers of the console's page tests (the role fixtures ``viewer``, ``operator`` and
``admin`` are in conftest.py)."""


def audit_actions(app, via="console"):
    """The audit log's actions made through ``via``, oldest first (sign-ins left out)."""
    rows = app.extensions["wxmember"].staff.audit.collection.find({"via": via})
    rows = rows.sort([("time", 1), ("_id", 1)])  # the order they were written
    return [row["action"] for row in rows if row["action"] != "staff.login"]
