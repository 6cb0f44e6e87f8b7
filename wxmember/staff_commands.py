"""``wxmember staff add|list|disable|token|revoke-tokens``: staff accounts from the terminal."""

import sys
from datetime import datetime

import click

from wxmember.staff.accounts import ROLES, StaffRefused
from wxmember.staff.actor import cli_actor
from wxmember.timeparse import SHANGHAI


def _services(ctx):
    from wxmember.composition import bootstrap
    from wxmember.config import ConfigError, load_config

    try:
        return bootstrap(load_config(ctx.obj.get("config_path")))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _with_staff(ctx, work):
    services = _services(ctx)
    try:
        return work(services.staff)
    except StaffRefused as refused:
        raise click.ClickException(refused.message) from None
    finally:
        services.close()


@click.group()
def staff():
    """Staff accounts of the console and the staff API (roles: admin, operator, viewer)."""


@staff.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the account may do.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (its first line) instead of a prompt.",
)
@click.pass_context
def add(ctx, username, role, password_stdin):
    """Create USERNAME, or update its role and password (and enable it again)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    account, created = _with_staff(
        ctx, lambda staff: staff.add(username, role, password, cli_actor())
    )
    verb = "created" if created else "updated"
    click.echo(f"{verb} {account['_id']} ({account['role']}, id {account['userId']})")


@staff.command("list")
@click.pass_context
def list_accounts(ctx):
    """Every account: username, id, role, state, last sign-in, API tokens."""

    def rows(staff):
        return [(account, staff.tokens.count(account["_id"])) for account in staff.accounts.all()]

    found = _with_staff(ctx, rows)
    header = ["username", "id", "role", "state", "last login", "tokens"]
    table = [
        [
            account["_id"],
            str(account["userId"]),
            account["role"],
            "disabled" if account.get("disabled") else "active",
            _when(account.get("lastLoginAt")),
            str(tokens),
        ]
        for account, tokens in found
    ]
    widths = [max([len(h)] + [len(r[i]) for r in table]) for i, h in enumerate(header)]
    for row in [header, *table]:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    click.echo(f"({len(table)} accounts)")


def _when(ms):
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, SHANGHAI).strftime("%Y-%m-%d %H:%M")


@staff.command("disable")
@click.argument("username")
@click.pass_context
def disable(ctx, username):
    """Disable USERNAME: its sessions end and its API tokens stop working."""
    _with_staff(ctx, lambda staff: staff.disable(username, cli_actor()))
    click.echo(f"disabled {username.strip().lower()}")


@staff.command("token")
@click.argument("username")
@click.pass_context
def token(ctx, username):
    """Issue a new API token for USERNAME (printed once: keep it)."""

    def issue(staff):
        account = staff.accounts.active(username)
        if account is None:
            raise StaffRefused("unknown_staff", f"no active staff account {username}")
        issued = staff.tokens.issue(account["_id"])
        staff.audit.record(cli_actor(), "staff.token", f"staff:{account['_id']}", {})
        return issued

    click.echo(_with_staff(ctx, issue))


@staff.command("revoke-tokens")
@click.argument("username")
@click.pass_context
def revoke_tokens(ctx, username):
    """Revoke every API token of USERNAME."""

    def revoke(staff):
        name = username.strip().lower()
        count = staff.tokens.revoke_all(name)
        staff.audit.record(cli_actor(), "staff.revoke_tokens", f"staff:{name}", {"count": count})
        return count

    click.echo(f"revoked {_with_staff(ctx, revoke)} tokens")
