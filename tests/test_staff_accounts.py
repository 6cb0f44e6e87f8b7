"""Staff accounts, their API tokens and the ``wxmember staff`` commands."""

import pytest

from tests.conftest import database_of, write_config
from tests.console_helpers import PASSWORD, add_staff
from wxmember.cli import cli
from wxmember.staff import StaffRefused
from wxmember.staff.actor import cli_actor


@pytest.fixture
def staff(app):
    return app.extensions["wxmember"].staff


def test_a_password_is_stored_as_an_argon2id_hash_and_verified(app, staff):
    add_staff(app, "alice", "operator")
    stored = database_of(app)["wxmember/staff"].find_one({"_id": "alice"})
    assert stored["passwordHash"].startswith("$argon2id$")
    assert PASSWORD not in str(stored)
    assert staff.accounts.verify("alice", PASSWORD)["role"] == "operator"
    assert staff.accounts.verify("alice", "wrong password") is None
    assert staff.accounts.verify("nobody", PASSWORD) is None


def test_add_twice_updates_role_and_password_and_keeps_the_id(app, staff):
    first = add_staff(app, "Alice", "viewer")
    again, created = staff.add("alice", "admin", "another-password", cli_actor())
    assert not created
    assert (again["_id"], again["userId"], again["role"]) == ("alice", first["userId"], "admin")
    assert staff.accounts.verify("alice", PASSWORD) is None
    assert staff.accounts.verify("alice", "another-password") is not None
    assert add_staff(app, "bob", "viewer")["userId"] == first["userId"] + 1


def test_a_disabled_account_cannot_sign_in(app, staff):
    add_staff(app, "alice", "admin")
    staff.disable("alice", cli_actor())
    assert staff.accounts.verify("alice", PASSWORD) is None
    with pytest.raises(StaffRefused):
        staff.disable("nobody", cli_actor())


@pytest.mark.parametrize("username", ["a", "has space", "x" * 40, "中文名", "../etc"])
def test_bad_usernames_are_refused(staff, username):
    with pytest.raises(StaffRefused) as refused:
        staff.add(username, "viewer", PASSWORD, cli_actor())
    assert refused.value.code == "invalid_username"


@pytest.mark.parametrize(("role", "password"), [("root", PASSWORD), ("viewer", "short")])
def test_bad_roles_and_short_passwords_are_refused(staff, role, password):
    with pytest.raises(StaffRefused):
        staff.add("alice", role, password, cli_actor())


def test_a_token_is_stored_only_as_its_hash(app, staff):
    add_staff(app, "alice", "viewer")
    token = staff.tokens.issue("alice")
    stored = database_of(app)["wxmember/staff_tokens"].find_one()
    assert token not in str(stored)
    assert staff.tokens.username_for(token) == "alice"
    assert staff.tokens.username_for(token + "x") is None
    assert staff.tokens.revoke_all("alice") == 1
    assert staff.tokens.username_for(token) is None


def test_the_audit_log_module_only_ever_inserts():
    import inspect

    from wxmember.staff import audit

    source = inspect.getsource(audit)
    for verb in ("update_one", "update_many", "replace_one", "delete_", "find_one_and_"):
        assert verb not in source


# -- the CLI -------------------------------------------------------------------------
# The command opens the configured database itself: one the app shares (never mongomock's
# private one), so these run on the engine.


def _invoke(tmp_path, *args, stdin=None):
    from click.testing import CliRunner

    config = write_config(tmp_path)
    return CliRunner().invoke(cli, ["--config", str(config), *args], input=stdin, obj={})


@pytest.mark.mongo
def test_cli_add_reads_the_password_from_stdin_then_list_and_disable(tmp_path, app, staff):
    added = _invoke(
        tmp_path,
        "staff",
        "add",
        "admin",
        "--role",
        "admin",
        "--password-stdin",
        stdin="s3cret-pw1\n",
    )
    assert added.exit_code == 0, added.output
    assert "created admin (admin, id 1)" in added.output
    assert staff.accounts.verify("admin", "s3cret-pw1") is not None

    updated = _invoke(
        tmp_path,
        "staff",
        "add",
        "admin",
        "--role",
        "operator",
        "--password-stdin",
        stdin="pw-two-22",
    )
    assert "updated admin (operator" in updated.output

    listed = _invoke(tmp_path, "staff", "list")
    assert listed.exit_code == 0
    assert "admin" in listed.output and "operator" in listed.output and "active" in listed.output

    disabled = _invoke(tmp_path, "staff", "disable", "admin")
    assert disabled.exit_code == 0
    assert "disabled" in _invoke(tmp_path, "staff", "list").output
    assert staff.accounts.verify("admin", "pw-two-22") is None
    actions = [row["action"] for row in database_of(app)["wxmember/audit"].find()]
    assert actions == ["staff.create", "staff.update", "staff.disable"]
    assert database_of(app)["wxmember/audit"].find_one()["who"].startswith("cli:")


@pytest.mark.mongo
def test_cli_refuses_a_short_password_and_an_unknown_account(tmp_path, app):
    short = _invoke(
        tmp_path, "staff", "add", "x1", "--role", "viewer", "--password-stdin", stdin="a"
    )
    assert short.exit_code != 0
    assert "密码长度" in short.output
    assert _invoke(tmp_path, "staff", "disable", "ghost").exit_code != 0
    assert _invoke(tmp_path, "staff", "token", "ghost").exit_code != 0


@pytest.mark.mongo
def test_cli_token_prints_a_token_the_api_accepts_once_issued(tmp_path, app, staff):
    add_staff(app, "reader", "viewer")
    issued = _invoke(tmp_path, "staff", "token", "reader")
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip()
    assert token.startswith("wxs_")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/logs", headers=headers).status_code == 200
    assert "revoked 1 tokens" in _invoke(tmp_path, "staff", "revoke-tokens", "reader").output
    assert client.get("/api/logs", headers=headers).status_code == 401
