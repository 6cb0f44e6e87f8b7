"""Routes a WeChat delivery to its handler exactly once and records what happened.

First delivery: claim its key, run the handler, write the log record (with the
reply, which marks the delivery done). A retry, concurrent or late, does not run
the handler again: it waits a bounded time for the first delivery's record and
answers with the same reply, so the member sees one answer whichever delivery
WeChat keeps. A first delivery that failed (its handler raised, its record could
not be written, its process died) is taken over by the next retry, which handles
the message: nothing WeChat delivered is lost.

A retry is answered only with the record there (or by handling the message
itself): one that finds the claim neither recorded, nor failed, nor stale is
refused (DeliveryPending, 503) and WeChat delivers it again. A plain ``success``
there would tell WeChat the message was taken when perhaps nothing recorded it:
a claim whose first delivery died with the engine (its claim or its record
written, the answer lost, no way to mark it failed) is silent until it is stale.
"""

import functools
import inspect
import logging
import time

from pymongo.errors import PyMongoError

from wxmember.logsafe import mask

log = logging.getLogger(__name__)

HEADER_FIELDS = ("ToUserName", "FromUserName")


class DeliveryPending(Exception):
    """A retry whose first delivery is neither recorded nor known to have failed yet:
    not answered, so that WeChat delivers it again."""


class Dispatcher:
    """Handles messages with the handler table and the injected dependencies."""

    def __init__(
        self, handlers, fallback, dependencies, retry_wait_s=3.0, poll_s=0.05, stale_claim_s=5.0
    ):
        self.handlers = handlers
        self.fallback = fallback
        self.dependencies = dependencies
        self.records = dependencies["records"]
        self.retry_wait_s = retry_wait_s
        self.poll_s = poll_s
        self.stale_claim_s = stale_claim_s  # WeChat itself waits 5 s for an answer
        _check_dependencies([*handlers.values(), fallback], dependencies)

    def handle(self, message, nonce=None):
        """Return the reply text for ``message``, or None for a plain ``success``.

        ``nonce`` is the request's signed ``timestamp|nonce`` (NonceReused when
        another delivery used it). DeliveryPending for a retry that can neither
        repeat the first delivery's reply nor take the delivery over.
        """
        key = message.dedup_key
        deliveries = self.records.deliveries
        if not deliveries.claim(key, nonce):
            reply, recorded = self._reply_of_first_delivery(key)
            if recorded:
                return reply
            if not deliveries.take_over(key, self.stale_claim_s):
                # still running, or died a moment ago: only a later retry can tell
                log.warning("retry of %s: the first delivery has no record yet", mask(key))
                raise DeliveryPending(key)
            log.warning("retry of %s takes over a first delivery that failed", mask(key))
        try:
            return self._handle_claimed(message, key)
        except Exception:
            deliveries.mark_failed(key)  # the next retry handles it
            raise

    def _handle_claimed(self, message, key):
        handler = self.handlers.get(message.kind, self.fallback)
        try:
            outcome = handler(message, **self._arguments_for(handler))
        except PyMongoError:
            raise  # the database failed, not the message: 500, and WeChat's retry handles it
        except Exception:
            log.exception("handler %s failed for %s", message.kind, mask(message.openid))
            self.records.deliveries.mark_failed(key)
            return None
        data = {k: v for k, v in message.fields.items() if k not in HEADER_FIELDS}
        data.update(outcome.data)
        # a record that cannot be written fails the delivery (500): WeChat retries it
        self.records.logs.append(message.openid, outcome.action, data, key, outcome.reply)
        return outcome.reply

    def _arguments_for(self, handler):
        return {name: self.dependencies[name] for name in _dependency_names(handler)}

    def _reply_of_first_delivery(self, key):
        """``(reply, True)`` once the first delivery's record is there; ``(None, False)``
        when it failed or nothing came within ``retry_wait_s``."""
        deadline = time.monotonic() + self.retry_wait_s
        while True:
            record = self.records.logs.reply_for(key)
            if record is not None:
                return record.get("reply"), True
            if self.records.deliveries.failed(key) or time.monotonic() >= deadline:
                return None, False
            time.sleep(self.poll_s)


def _check_dependencies(handlers, dependencies):
    """At start, not at the first message: every handler's parameters name a dependency."""
    for handler in handlers:
        missing = [name for name in _dependency_names(handler) if name not in dependencies]
        if missing:
            raise TypeError(
                f"handler {handler.__module__}.{handler.__name__} asks for {', '.join(missing)}, "
                f"which the composition root does not provide ({', '.join(sorted(dependencies))})"
            )


@functools.cache
def _dependency_names(handler):
    """The parameters of ``handler`` after the message: the dependencies it asks for."""
    return tuple(inspect.signature(handler).parameters)[1:]
