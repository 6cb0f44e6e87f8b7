"""The member system of seeds 002/003: ledger, points, money, grades, transactions."""

from dataclasses import dataclass

from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.crm import CRMClient
from wxmember.members.checkout_commit import Checkout
from wxmember.members.coupon_grants import CouponGrants
from wxmember.members.coupons import CouponDefinitions
from wxmember.members.grades import Grades
from wxmember.members.ledger import Ledger
from wxmember.members.money import Money, Withdrawals
from wxmember.members.offers import add_offers
from wxmember.members.points import ExpiryPolicy, PointRules, Points
from wxmember.members.redemption import Redemptions
from wxmember.members.transactions import MAX_ID, TransactionHistory, Transactions
from wxmember.members.wallet import CouponWallet
from wxmember.records import Records
from wxmember.records.customers import CustomerStore
from wxmember.wechat.templates import TemplateQueue


@dataclass
class MemberSystem:
    """Everything that moves a member's points, money and grade."""

    ledger: Ledger
    points: Points
    money: Money
    withdrawals: Withdrawals
    grades: Grades
    transactions: Transactions
    customers: CustomerStore | None = None  # who is bound to a member id
    coupons: CouponDefinitions | None = None  # seed 003 §四: the brand's coupon definitions
    wallet: CouponWallet | None = None  # the coupons members hold (wallet.of_member)
    checkout: Checkout | None = None  # seed 003 §七: quote and commit with coupons and points
    redemptions: Redemptions | None = None  # 积分兑换: items for points
    grants: CouponGrants | None = None  # birthday and grade-upgrade coupons (their jobs)

    @classmethod
    def build(
        cls,
        config: dict,
        database: Database,
        records: Records,
        crm: CRMClient,
        clock: Clock = SYSTEM_CLOCK,
    ) -> "MemberSystem":
        """The member system over ``database``, its indexes made."""
        ledger = Ledger(database, clock)
        ledger.ensure_indexes()
        expiry = ExpiryPolicy(config["member"]["points_expiry"])
        points = Points(ledger, PointRules(database), crm, expiry, clock)
        money = Money(ledger, database)
        grades = Grades(
            database,
            records.feeds,
            records.logs,
            records.customers,
            TransactionHistory(database),
            TemplateQueue(database, clock),
            clock,
        )
        grades.ensure_indexes()
        transactions = Transactions(database, points, money, grades, clock)
        withdrawals = Withdrawals(ledger, database, clock)
        system = cls(ledger, points, money, withdrawals, grades, transactions, records.customers)
        add_offers(system, database, records.logs, clock)  # seed 003: coupons, checkout…
        return system

    def knows(self, member_id: int) -> bool:
        """True for a member bound on WeChat or with ledger rows; a typo is not a member."""
        if not 0 < member_id < MAX_ID:
            return False
        if self.ledger.has_account(member_id):
            return True
        return self.customers is not None and self.customers.bound_to_member(member_id) is not None

    def balances(self, member_id: int) -> dict:
        """Points, and the money ledgers in yuan: what the member's views show beside the
        grade they read themselves."""
        balances = self.ledger.balances(member_id)
        return {
            "points": balances["points"],
            "money": balances["money"] / 100,
            "frozen": balances["frozen"] / 100,
            "earnings": balances["earnings"] / 100,
        }

    def summary(self, member_id: int) -> dict:
        """Points, balances and grade, for staff."""
        level = self.grades.level(member_id)
        grade = self.grades.get(level) if level is not None else None
        return {
            "memberID": member_id,
            **self.balances(member_id),
            "grade": {"level": level, "name": grade["name"], "discount": grade["discount"]}
            if grade
            else None,
        }
