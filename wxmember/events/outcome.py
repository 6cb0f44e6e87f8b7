"""What a WeChat handler tells the dispatcher: the log record to write and the reply."""

from dataclasses import dataclass, field


@dataclass
class Outcome:
    """``action``/``data`` go to ``lavico/user/logs``; ``reply`` (text) goes back to WeChat."""

    action: str
    data: dict = field(default_factory=dict)
    reply: str | None = None
