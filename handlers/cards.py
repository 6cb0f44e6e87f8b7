"""Member-card events: a card taken, deleted, used, activated or changed.

See https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
"""

from wxmember.events.outcome import Outcome

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


def on_card_activation(message, customers, activation, background):
    """The member filled WeChat's activation form: bind in the background."""
    customers.ensure(message.openid)
    card = _card(message)
    if not activation.available:
        return Outcome(message.event, {"card": card, "activation": "needs wechat.appsecret"})
    background.submit(
        activation.activate, message.openid, card.get("CardId"), card.get("UserCardCode")
    )
    return Outcome(message.event, {"card": card, "activation": "queued"})
