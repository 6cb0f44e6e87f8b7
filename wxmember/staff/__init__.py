"""Staff: accounts with roles, their API tokens and console sessions, and the audit trail.

``Staff`` bundles the four stores over one database; ``wxmember.composition``
builds it once (``services.staff``), the console and the staff API use it.
"""

from dataclasses import dataclass

from wxmember.clock import SYSTEM_CLOCK
from wxmember.staff.accounts import ROLES, StaffAccounts, StaffRefused, role_allows
from wxmember.staff.actor import MACHINE, Actor
from wxmember.staff.audit import AuditLog
from wxmember.staff.export_progress import ExportProgress
from wxmember.staff.sessions import ConsoleSessions
from wxmember.staff.tokens import StaffTokens

__all__ = [
    "MACHINE",
    "ROLES",
    "Actor",
    "AuditLog",
    "ExportProgress",
    "ConsoleSessions",
    "Staff",
    "StaffAccounts",
    "StaffRefused",
    "StaffTokens",
    "role_allows",
]


@dataclass
class Staff:
    """Accounts, tokens, console sessions and the audit log of one database."""

    accounts: StaffAccounts
    tokens: StaffTokens
    sessions: ConsoleSessions
    audit: AuditLog
    exports: ExportProgress

    @classmethod
    def build(cls, database, console_config=None, clock=SYSTEM_CLOCK):
        """The stores over ``database``, their indexes made; session lengths from ``console``."""
        console_config = console_config or {}
        staff = cls(
            StaffAccounts(database, clock),
            StaffTokens(database, clock),
            ConsoleSessions(
                database,
                idle_s=int(console_config.get("session_idle_minutes", 30) * 60),
                absolute_s=int(console_config.get("session_hours", 12) * 3600),
                clock=clock,
            ),
            AuditLog(database, clock),
            ExportProgress(database, clock),
        )
        for store in (staff.accounts, staff.tokens, staff.sessions, staff.audit, staff.exports):
            store.ensure_indexes()
        return staff

    def disable(self, username, actor):
        """Disable the account and end its console sessions (its tokens stop working too)."""
        account = self.accounts.disable(username)
        self.sessions.close_all(username)
        self.audit.record(actor, "staff.disable", f"staff:{username}", {})
        return account

    def add(self, username, role, password, actor):
        """Create or update an account; a changed password ends its sessions."""
        account, created = self.accounts.add(username, role, password)
        if not created:
            self.sessions.close_all(username)
        action = "staff.create" if created else "staff.update"
        self.audit.record(actor, action, f"staff:{username}", {"role": role})
        return account, created
