"""The shake sweep: every draw left open is finished, by asking the CRM when it matters.

A draw is open (``drawing``) while its request runs. One still open after
``older_than_ms`` belongs to no live request: a crash, or a CRM whose answer was
lost. Either way:

- it had asked the CRM for a coupon (``issuing`` on the draw): the CRM is asked
  again under the draw's idempotency key. A coupon — issued then or now — is
  recorded as the win it is; a refusal gives back stock, points and allowance;
  no answer leaves the draw for the next sweep. The platform never loses track of
  a coupon the CRM issued, and never keeps points for one it did not.
- it had not: it is closed as interrupted and the points it took are returned
  (a stock unit or an allowance it took stays taken: a unit short beats a coupon
  given twice).
"""

import logging

from wxmember.crm import CRMError, outcome_unknown
from wxmember.members.ledger import Entry
from wxmember.records.member_card import card_of
from wxmember.shake.activities import ShakeActivities
from wxmember.shake.draws import ShakeDraws

log = logging.getLogger(__name__)

INTERRUPTED = {"code": "interrupted", "message": "摇奖中断，积分已退回"}


class ShakeRecovery:
    """Finishes open draws with the shake service's own steps."""

    def __init__(self, draws: ShakeDraws, activities: ShakeActivities) -> None:
        self.draws, self.activities = draws, activities

    def sweep(self, older_than_ms: int = 120_000, now: int | None = None) -> dict[str, int]:
        """Finish every stale open draw; how many were won, returned, interrupted, left open."""
        now = now or self.draws.clock.now_ms()
        counts = {"won": 0, "returned": 0, "interrupted": 0, "open": 0}
        for draw in self.draws.open_before(now - older_than_ms):
            outcome = self._ask_again(draw) if draw.get("issuing") else self._interrupted(draw)
            if outcome:
                counts[outcome] += 1
        return counts

    def _ask_again(self, draw):
        activity = self.activities.get(draw["aid"])
        customer = self.draws.customers.get(draw["openid"])
        issuing = draw["issuing"]
        prize = next(
            p for p in activity["prizes"] if p["promotion_code"] == issuing["promotion_code"]
        )
        try:
            coupon_no = self.draws.issue(
                draw["_id"], draw["openid"], issuing["promotion_code"], activity["name"]
            )
        except CRMError as error:
            if outcome_unknown(error):
                return "open"  # still no answer: the next sweep asks again
            refused = self.draws.refusal_for(error, draw["openid"])
            self.draws.give_back(draw["_id"], activity["_id"], issuing, refused)
            return "returned"
        result = self.draws.record_win(
            customer, activity, prize, coupon_no, issuing["cost"], draw["createDate"]
        )
        self.draws.finish(draw["_id"], "done", result, prize["promotion_code"])
        log.info("open draw %s finished: the CRM had the coupon", draw["_id"])
        return "won"

    def _interrupted(self, draw):
        closed = self.draws.interrupt(draw["_id"], INTERRUPTED)
        if closed is None:
            return None  # the request itself, or another sweeper, finished it
        card = card_of(self.draws.customers.get(draw["openid"]))
        if card:
            self._return_points(card.member_id, draw["_id"])
        return "interrupted"

    def _return_points(self, member_id, key):
        ledger = self.draws.ledger
        ledger.repair(member_id)  # a row the crash left in the journal
        cost = ledger.row("points", f"shake:{key}:cost")
        if cost is not None:
            entry = Entry(key, "摇一摇", "摇奖中断积分退回")
            ledger.post("points", cost["MemberID"], -cost["Integral"], entry, f"shake:{key}:refund")
