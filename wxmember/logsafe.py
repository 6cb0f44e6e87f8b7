"""Masking for log lines: no secret, phone number, card number or openid in clear."""

import re

_DIGIT_RUN = re.compile(r"\d{7,}")


def mask(value):
    """Keep the first three and last two characters: ``13812345678`` → ``138***78``."""
    text = str(value)
    if len(text) <= 8:
        return "*" * len(text)
    return f"{text[:3]}***{text[-2:]}"


def mask_digits(text):
    """Hide every run of seven or more digits (phone, card numbers) inside free text."""
    return _DIGIT_RUN.sub(lambda m: mask(m.group()), str(text))
