"""How the console shows things: Shanghai times, Chinese names of actions, masked numbers."""

import json
import re
from datetime import datetime

from wxmember.timeparse import SHANGHAI

ACTION_NAMES = {
    "subscribe": "关注",
    "unsubscribe": "取消关注",
    "scan": "扫码",
    "click": "点击菜单",
    "view": "菜单跳转",
    "location": "上报位置",
    "text": "文本消息",
    "image": "图片消息",
    "voice": "语音消息",
    "video": "视频消息",
    "shortvideo": "小视频",
    "link": "链接消息",
    "shake": "摇一摇周边",
    "shake_win": "摇中奖品",
    "shake_miss": "未摇中",
    "bind": "绑定会员卡",
    "unbind": "解除绑定",
    "bind_failed": "绑卡失败",
    "binding_repair": "绑定修复",
    "binding_drift": "绑定差异",
    "grade_change": "等级变更",
    "user_get_card": "领取卡券",
    "user_del_card": "删除卡券",
    "user_consume_card": "核销卡券",
    "submit_membercard_user_info": "激活会员卡",
    "update_member_card": "会员卡变动",
    "unknown": "其他事件",
}
CARD_TYPES = {1: "白卡", 2: "VIP卡", 3: "白金VIP卡"}
LEDGER_NAMES = {"points": "积分", "money": "余额", "frozen": "冻结金额", "earnings": "收益"}
# Keys whose values are mobiles or card/coupon numbers: masked for viewers.
SENSITIVE_KEY = re.compile(r"mobile|phone|tel|card(number|no|code)|cardnum|usercardcode", re.I)
MOBILE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


def when(ms):
    """Epoch ms as ``2026-11-01 08:00:00`` in Shanghai time ("" for none)."""
    if ms is None or isinstance(ms, bool) or not isinstance(ms, (int, float)):
        return ""
    return datetime.fromtimestamp(ms / 1000, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def when_s(seconds):
    """Epoch seconds (``followTime``) the same way."""
    return when(seconds * 1000) if isinstance(seconds, (int, float)) else ""


def action_name(action):
    return ACTION_NAMES.get(action, action)


def mask_number(value):
    """``13912340000`` → ``139****0000``; a card number keeps its first and last 4."""
    text = str(value)
    if len(text) <= 4:
        return "*" * len(text)
    if len(text) <= 8:
        return text[:2] + "*" * (len(text) - 4) + text[-2:]
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_data(value, key=""):
    """``value`` with mobiles and card numbers masked (any depth), for viewers."""
    if isinstance(value, dict):
        return {k: mask_data(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_data(v, key) for v in value]
    if key and SENSITIVE_KEY.search(key) and value not in (None, ""):
        return mask_number(value)
    if isinstance(value, str):
        return MOBILE.sub(r"\1****\2", value)
    return value


def fields(data):
    """A log record's ``data`` as ``[(key, text)]`` (nested values as compact JSON)."""
    out = []
    for key, value in (data or {}).items():
        if isinstance(value, (dict, list)):
            text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        else:
            text = "" if value is None else str(value)
        out.append((key, text))
    return out
