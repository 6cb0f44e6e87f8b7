"""Our signature and AES code agree with wechatpy's independent implementation."""

import pytest
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from tests import samples
from tests.conftest import AES_KEY, APPID, TOKEN
from wxmember.wechat import signature
from wxmember.wechat.crypto import MessageCrypto
from wxmember.wechat.errors import InvalidSignature
from wxmember.wechat.reply import encrypt_reply


def test_signature_matches_wechatpy():
    ours = signature.sign(TOKEN, "1409304348", "xxxxxx")
    check_signature(TOKEN, ours, "1409304348", "xxxxxx")  # raises if wechatpy disagrees
    with pytest.raises(InvalidSignatureException):
        check_signature(TOKEN, ours, "1409304348", "yyyyyy")


def test_verify_refuses_a_signature_off_by_one_character():
    good = signature.sign(TOKEN, "1", "2")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    signature.verify(good, TOKEN, "1", "2")
    with pytest.raises(InvalidSignature):
        signature.verify(bad, TOKEN, "1", "2")


def test_wechatpy_encrypted_delivery_decrypts_with_ours():
    xml = samples.fill(samples.TEXT, content="中文内容 & <符号>")
    envelope = WeChatCrypto(TOKEN, AES_KEY, APPID).encrypt_message(xml, "nonce", "1700000000")
    encrypted = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    assert MessageCrypto(AES_KEY, APPID).decrypt(encrypted) == xml


def test_our_encrypted_reply_decrypts_with_wechatpy():
    reply = "<xml><Content><![CDATA[你好]]></Content></xml>"
    envelope = encrypt_reply(reply, MessageCrypto(AES_KEY, APPID), TOKEN, nonce="n1")
    fields = {
        tag: envelope.split(f"<{tag}>")[1].split(f"</{tag}>")[0].removeprefix("<![CDATA[")
        for tag in ("MsgSignature", "TimeStamp", "Nonce")
    }
    decrypted = WeChatCrypto(TOKEN, AES_KEY, APPID).decrypt_message(
        envelope, fields["MsgSignature"].removesuffix("]]>"), fields["TimeStamp"], "n1"
    )
    assert decrypted == reply
