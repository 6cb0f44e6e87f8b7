"""Request signatures: SHA1 over the sorted token, timestamp, nonce (and ciphertext).

See https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
"""

import hashlib
import hmac

from wxmember.wechat.errors import InvalidSignature


def sign(*parts):
    """WeChat's signature of ``parts``: sha1 of their sorted concatenation."""
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode()).hexdigest()


def verify(signature, *parts):
    """Raise InvalidSignature unless ``signature`` signs ``parts`` (constant time)."""
    if not signature or not all(parts):
        raise InvalidSignature("missing signature parameters")
    if not hmac.compare_digest(sign(*parts).encode(), str(signature).encode()):
        raise InvalidSignature("signature mismatch")
