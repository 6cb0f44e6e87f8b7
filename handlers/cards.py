"""Member-card events: a card taken, deleted, used, activated or changed.

See https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
"""

from wxmember.outcome import Outcome

CARD_FIELDS = ("CardId", "UserCardCode", "OuterStr", "IsGiveByFriend", "ConsumeSource")


def on_card_event(message, customers):
    """Record the card, its code and where it came from under the event's name."""
    customers.ensure(message.openid)
    card = {name: message.fields[name] for name in CARD_FIELDS if message.fields.get(name)}
    return Outcome(message.event, {"card": card})
