"""WeChat event handlers, one module per event family, registered in one table.

A handler is a plain function. Its first parameter is the ``WeChatMessage``; every
other parameter names a dependency that ``wxmember.composition`` provides
(``customers``, ``feeds``, ``replies``, ``profiles``, ...). It returns an
``Outcome``; the dispatcher writes the log record and renders the reply.
"""

from handlers import cards, follow, location, menu, messages, shake, unknown

HANDLERS = {
    "event.subscribe": follow.on_subscribe,
    "event.unsubscribe": follow.on_unsubscribe,
    "event.scan": follow.on_scan,
    "event.click": menu.on_click,
    "event.view": menu.on_view,
    "event.location": location.on_location,
    "event.shakearoundusershake": shake.on_shake,
    "event.user_get_card": cards.on_card_event,
    "event.user_del_card": cards.on_user_del_card,
    "event.user_consume_card": cards.on_card_event,
    "event.submit_membercard_user_info": cards.on_card_activation,
    "event.update_member_card": cards.on_card_event,
    "text": messages.on_text,
    "image": messages.on_media,
    "voice": messages.on_media,
    "video": messages.on_media,
    "shortvideo": messages.on_media,
    "location": messages.on_media,
    "link": messages.on_media,
}

FALLBACK = unknown.on_unknown
