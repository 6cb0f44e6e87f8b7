"""Binding from WeChat's member-card activation form (``submit_membercard_user_info``).

WeChat has verified the mobile by SMS in its own form, so no code of ours is
needed: the form is read from WeChat's API, the card is bound (or opened) on the
CRM, and the WeChat card is activated with the CRM card number. This runs in the
background, never on the reply path.
See https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
"""

import logging

from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatException

from wxmember.binding.service import BindingRefused, BindingService
from wxmember.logsafe import mask
from wxmember.records.logs import LogStore

log = logging.getLogger(__name__)

MOBILE_FIELD = "USER_FORM_INFO_FLAG_MOBILE"
NAME_FIELD = "USER_FORM_INFO_FLAG_NAME"


class CardActivation:
    """Reads an activation form and binds the member it names."""

    def __init__(
        self, wechat_client: WeChatClient | None, binding: BindingService, logs: LogStore
    ) -> None:
        self.wechat_client, self.binding, self.logs = wechat_client, binding, logs

    @property
    def available(self) -> bool:
        """Activation needs WeChat's API (``wechat.appsecret``)."""
        return self.wechat_client is not None

    def activate(self, openid: str, card_id: str, code: str) -> dict | None:
        """Bind ``openid`` from its activation form; failures become a log record."""
        try:
            form = self._form(card_id, code)
            result = self.binding.bind_verified(
                openid, form.get(MOBILE_FIELD), form.get(NAME_FIELD)
            )
        except BindingRefused as refused:
            self._failed(openid, refused.code, refused.message)
            return None
        except (WeChatException, OSError, ValueError) as exc:
            self._failed(openid, "wechat_unavailable", type(exc).__name__)
            return None
        self._activate_wechat_card(openid, code, result["member"]["cardNumber"])
        return result

    def _form(self, card_id, code):
        answer = self.wechat_client.card.get_membercard_user_info(card_id, code)
        fields = (answer.get("user_info") or {}).get("common_field_list") or []
        return {item.get("name"): item.get("value") for item in fields if isinstance(item, dict)}

    def _activate_wechat_card(self, openid, code, card_number):
        try:
            self.wechat_client.card.activate_membercard(card_number, code)
        except (WeChatException, OSError, ValueError) as exc:
            log.warning(
                "WeChat card activation failed for %s: %s", mask(openid), type(exc).__name__
            )

    def _failed(self, openid, reason, detail):
        log.warning("card activation of %s failed: %s", mask(openid), reason)
        self.logs.append(
            openid,
            "bind_failed",
            {"source": "card_activation", "reason": reason, "message": detail},
        )
