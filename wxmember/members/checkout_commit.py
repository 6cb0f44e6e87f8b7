"""A checkout: the quote of seed 003 §七 (``wxmember.members.checkout``), and its commit."""

from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import CHECKOUTS
from wxmember.members.checkout import CheckoutSettings, Quote, Quoting


class Checkout:
    """Quotes orders and commits them."""

    def __init__(self, database: Database, quoting: Quoting, clock: Clock = SYSTEM_CLOCK) -> None:
        self.collection = database[CHECKOUTS]
        self.quoting, self.clock = quoting, clock

    @property
    def settings(self) -> CheckoutSettings:
        """积分抵扣比例 and the 优惠规则 order."""
        return self.quoting.settings

    def quote(self, body: object) -> Quote:
        """What the order of ``body`` costs, step by step; nothing is written."""
        return self.quoting.quote(body)
