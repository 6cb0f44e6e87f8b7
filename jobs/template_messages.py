"""Template message delivery: the queued WeChat template messages (grade changes…) sent.

Messages wait in ``wxmember/template_messages`` until the account has a template id
for their kind (``wechat.grade_template_id``) and an appsecret. Each is taken by
one atomic state change before it is sent, so two workers never send it twice;
a failure is retried on the next run, three times at most.
See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
"""

import logging

from wechatpy.exceptions import WeChatException

from wxmember.logsafe import mask
from wxmember.wechat.templates import TemplateQueue

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
TEMPLATE_SETTINGS = {"grade_change": "grade_template_id"}


def run(context):
    """Send what can be sent; return counts."""
    services = context.services
    client = services.wechat_client
    queue = TemplateQueue(services.database, services.clock)
    counts = {"sent": 0, "failed": 0, "waiting": queue.waiting()}
    if client is None:
        return counts  # no appsecret: nothing can be sent yet
    tried = []  # a message that fails waits for the next run
    for template, setting in TEMPLATE_SETTINGS.items():
        template_id = services.config["wechat"][setting]
        while template_id:
            message = queue.take(template, tried)
            if message is None:
                break
            tried.append(message["_id"])
            outcome = _send(client, queue, message, template_id)
            counts[outcome] += 1
    counts["waiting"] = queue.waiting()
    return counts


def _send(client, queue, message, template_id):
    data = {name: {"value": value} for name, value in message["data"].items()}
    try:
        client.message.send_template(message["openid"], template_id, data)
    except (WeChatException, OSError, ValueError) as exc:
        queue.not_sent(message, type(exc).__name__, retry=message["attempts"] < MAX_ATTEMPTS)
        log.warning(
            "template message to %s failed: %s", mask(message["openid"]), type(exc).__name__
        )
        return "failed"
    queue.sent(message)
    return "sent"
