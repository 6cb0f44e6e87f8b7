"""How the member pages write figures: yuan with two decimals, times in Asia/Shanghai."""

from datetime import datetime

from wxmember.timeparse import SHANGHAI


def yuan(amount: float | int | None, signed: bool = False) -> str:
    """``¥1,234.50`` (``+¥…``/``-¥…`` when ``signed``)."""
    amount = amount or 0
    sign = ("+" if amount > 0 else "-" if amount < 0 else "") if signed else ""
    return f"{sign}¥{abs(amount):,.2f}" if signed else f"¥{amount:,.2f}"


def when(ms: int | None, day_only: bool = False) -> str:
    """``2026-11-30 15:59`` (or the day alone) in China's time; empty for none."""
    if not ms:
        return ""
    moment = datetime.fromtimestamp(ms / 1000, SHANGHAI)
    return moment.strftime("%Y-%m-%d" if day_only else "%Y-%m-%d %H:%M")
