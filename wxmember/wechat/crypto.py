"""Safe mode (安全模式): AES-256-CBC over ``random(16) + len(4) + xml + appid``.

Strict where WeChat's reference code is lax: bad base64, a ciphertext that is not
whole blocks, bad PKCS#7 padding, a length that overruns, text that is not UTF-8
and a foreign appid all raise the same InvalidMessage.
See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
"""

import base64
import binascii
import logging
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wxmember.wechat.errors import InvalidMessage

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16
UNDECRYPTABLE = "Encrypt cannot be decrypted for this account"
log = logging.getLogger(__name__)


class MessageCrypto:
    """Encrypts replies and decrypts deliveries for one official account."""

    def __init__(self, encoding_aes_key, appid):
        self.key = base64.b64decode(encoding_aes_key + "=")
        self.appid = appid.encode()

    def _cipher(self):
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, text):
        """Base64 ciphertext of ``text`` for this account."""
        body = text.encode()
        plain = os.urandom(16) + struct.pack(">I", len(body)) + body + self.appid
        padding = BLOCK - len(plain) % BLOCK
        plain += bytes([padding]) * padding
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, ciphertext):
        """The XML inside ``ciphertext``; InvalidMessage if anything is off.

        Every failure is the same refusal, whatever went wrong: answers that told a
        bad padding from an overrunning length would make a padding oracle.
        """
        try:
            return self._open(ciphertext)
        except _Undecryptable as error:
            log.debug("safe-mode body refused: %s", error)
            raise InvalidMessage(UNDECRYPTABLE) from None

    def _open(self, ciphertext):
        try:
            raw = base64.b64decode(ciphertext, validate=True)
        except (binascii.Error, ValueError):
            raise _Undecryptable("Encrypt is not base64") from None
        if not raw or len(raw) % 16:
            raise _Undecryptable("ciphertext is not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        plain = _unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < 20:
            raise _Undecryptable("ciphertext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        body, appid = plain[20 : 20 + length], plain[20 + length :]
        if len(body) != length:
            raise _Undecryptable("declared length overruns the ciphertext")
        if appid != self.appid:
            raise _Undecryptable("message is for another appid")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise _Undecryptable("decrypted text is not UTF-8") from None


class _Undecryptable(Exception):
    """Why a ciphertext was refused (for the debug log only)."""


def _unpad(plain):
    padding = plain[-1]
    if not 1 <= padding <= BLOCK or plain[-padding:] != bytes([padding]) * padding:
        raise _Undecryptable("bad padding")
    return plain[:-padding]
