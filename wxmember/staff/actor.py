"""Who is acting: a staff account (console, API token, CLI) or the shared machine token."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The author of a change, as the audit log and the ledgers' ``CreateUser`` record it."""

    username: str
    user_id: int  # CreateUser / operator of the rows written; 0 = the system or a machine
    role: str
    via: str  # "console", "api" or "cli"
    machine: bool = False

    @property
    def masked(self):
        """Viewers see mobiles and card numbers masked."""
        return self.role == "viewer"


# The shared ``console.api_token``: machines (POS bridges, scripts), with every right.
MACHINE = Actor("api-token", 0, "admin", "api", machine=True)


def cli_actor():
    """Whoever runs the ``wxmember`` command on this machine."""
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(f"cli:{user}", 0, "admin", "cli", machine=True)
