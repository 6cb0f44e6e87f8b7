"""Member-card events: a card taken, deleted, used, activated or changed.

See https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
"""

from wxmember.outcome import Outcome

CARD_FIELDS = ("CardId", "UserCardCode", "OuterStr", "IsGiveByFriend", "ConsumeSource")


def _card(message):
    return {name: message.fields[name] for name in CARD_FIELDS if message.fields.get(name)}


def on_card_event(message, customers):
    """Record the card, its code and where it came from under the event's name."""
    customers.ensure(message.openid)
    return Outcome(message.event, {"card": _card(message)})


def on_user_del_card(message, customers, binding):
    """The member deleted the member card from WeChat: the binding ends too."""
    customers.ensure(message.openid)
    unbound = binding.end_binding(message.openid, "user_del_card")
    return Outcome(message.event, {"card": _card(message), "unbound": unbound})
