"""Passive replies (被动回复): the XML answer to a delivery, encrypted in safe mode.

See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
"""

import secrets
import time

from wechatpy.replies import TextReply

from wxmember.wechat.signature import sign

SUCCESS = "success"

ENVELOPE = (
    "<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
    "<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
    "<TimeStamp>{timestamp}</TimeStamp>"
    "<Nonce><![CDATA[{nonce}]]></Nonce></xml>"
)


def text_reply(message, content):
    """The XML of a text reply to ``message``."""
    return TextReply(source=message.account, target=message.openid, content=content).render()


def encrypt_reply(xml, crypto, token, nonce=None):
    """Wrap a reply in the signed, encrypted envelope safe mode expects."""
    timestamp = str(int(time.time()))
    nonce = nonce or secrets.token_hex(8)
    encrypted = crypto.encrypt(xml)
    signature = sign(token, timestamp, nonce, encrypted)
    return ENVELOPE.format(encrypt=encrypted, signature=signature, timestamp=timestamp, nonce=nonce)
