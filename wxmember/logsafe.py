"""Log lines never carry a secret, phone number, card number or openid in clear.

Our own log calls mask what they print with ``mask``. ``RedactingFilter`` is the
net under that: installed on the handlers, it also cleans what libraries log
(urllib3 prints request URLs with ``access_token`` and ``secret`` at DEBUG).
"""

import logging
import re

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_DIGIT_RUN = re.compile(r"(?<![\d.])\d{7,}(?![\d.])")
_SECRET_PARAM = re.compile(
    r"((?:secret|access_token|api_key|appsecret|token|password|code|signature)=)[^&\s\"']+",
    re.I,
)
_IDENTITY_PARAM = re.compile(r"((?:openid|mobile|wxid)=)([^&\s\"']+)", re.I)
_IDENTITY_PATH = re.compile(r"(/customers/)([^/?\s\"']+)")  # /api/customers/<openid>


def mask(value):
    """Keep the first three and last two characters: ``13812345678`` → ``138***78``."""
    text = str(value)
    if len(text) <= 8:
        return "*" * len(text)
    return f"{text[:3]}***{text[-2:]}"


def redact(text):
    """``text`` with secrets and signatures, openids and long digit runs masked."""
    text = _SECRET_PARAM.sub(r"\1***", text)
    text = _IDENTITY_PARAM.sub(lambda m: m.group(1) + mask(m.group(2)), text)
    text = _IDENTITY_PATH.sub(lambda m: m.group(1) + mask(m.group(2)), text)
    return _DIGIT_RUN.sub(lambda m: mask(m.group()), text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message and traceback through ``redact``."""

    _formatter = logging.Formatter()

    def filter(self, record):
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self._formatter.formatException(record.exc_info))
        return True


def configure_logging(level=logging.INFO, stream=None):
    """Give the root logger a handler (if it has none) and redact on every root handler."""
    root = logging.getLogger()
    if stream is not None or not root.handlers:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # our runs log themselves
    logging.getLogger("pymongo").setLevel(logging.WARNING)  # its DEBUG lines carry documents
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
