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


def local_input(ms):
    """Epoch ms as the value of a ``datetime-local`` input (Shanghai time; "" for none)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, SHANGHAI).strftime("%Y-%m-%dT%H:%M")


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


def shown_number(number, masked):
    """A mobile or card number as a staff member sees it: masked for viewers, "" for none."""
    if number in (None, ""):
        return ""
    return mask_number(number) if masked else str(number)


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


# -- jobs, activities, rules: their Chinese names -------------------------------------

JOB_NAMES = {
    "members": ("会员资料同步", "从CRM拉取会员资料的变更，写到已绑定的会员上"),
    "activities": ("券活动同步", "从CRM拉取券活动，作为摇一摇的奖品"),
    "reconcile": ("绑定对账", "逐个核对平台与CRM的绑定关系，修复或记录差异"),
    "outbox": ("CRM通知投递", "把解绑等通知送达CRM"),
    "transactions": ("门店交易同步", "从CRM拉取门店交易，计算积分和余额"),
    "grades": ("会员等级评估", "按升降级规则评估每位会员的等级"),
    "expiry": ("积分过期", "按过期策略扣除到期积分"),
    "shake_sweep": ("摇奖补偿", "确认未完成的摇奖：补记中奖或退回积分和库存"),
    "templates": ("模板消息发送", "发送排队中的微信模板消息（等级变更）"),
    "coupon_expiry": ("优惠券过期", "把过了有效期的优惠券标记为已过期，并完成中断的结算"),
    "birthday_coupons": ("生日券发放", "在会员生日当月发放生日券，每年一次"),
    "grade_coupons": ("升级礼券发放", "给升级到指定等级的会员发放礼券，每次升级一次"),
}
RUN_STATES = {"running": "运行中", "ok": "完成", "failed": "失败"}
TRIGGERS = {"schedule": "定时", "api": "API", "cli": "命令行", "console": "控制台"}
CYCLES = {"day": "每天", "week": "每周", "month": "每月", "all": "整个活动"}
RULE_TYPES = {"consumption": "消费", "recharge": "充值"}
MEASURES = {"spend": "消费金额（元）", "orders": "订单数", "referrals": "推荐会员数"}
WITHDRAWAL_STATES = {0: "待审核", 1: "已通过", 2: "已拒绝"}
DRIFT_STATES = {"open": "待处理", "repaired": "已自动修复", "resolved": "已解决"}
LONG_DIGITS = re.compile(r"\d{8,}")


def job_name(name):
    """The Chinese name of a job (its code when unknown)."""
    return JOB_NAMES.get(name, (name, ""))[0]


def every(seconds):
    """``每 5 分钟``, ``每 30 秒``, ``每 2 小时``."""
    if seconds % 3600 == 0:
        return f"每 {seconds // 3600} 小时"
    if seconds % 60 == 0:
        return f"每 {seconds // 60} 分钟"
    return f"每 {seconds} 秒"


def duration(ms):
    """``1.2 秒``, ``3 分 5 秒`` ("" for none)."""
    if ms is None or ms < 0:
        return ""
    if ms < 60_000:
        return f"{ms / 1000:.1f} 秒"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} 分 {seconds} 秒"


def yuan(fen):
    """Fen as yuan with two decimals and thousands separators."""
    return f"{(fen or 0) / 100:,.2f}"


def mask_digits(text):
    """Every run of 8+ digits (a bank card, a mobile) in ``text`` masked, for viewers."""
    return LONG_DIGITS.sub(lambda found: mask_number(found.group(0)), str(text or ""))


COUNT_NAMES = {  # the counts of a job run
    "activities": "券活动",
    "pages": "页",
    "retired": "下线",
    "changes": "变更",
    "members": "会员",
    "updated": "已更新",
    "drift": "差异",
    "batches": "批次",
    "expired": "过期积分",
    "checked": "已核对",
    "agree": "一致",
    "repaired": "已修复",
    "recorded": "已记录差异",
    "skipped": "跳过",
    "sent": "已发送",
    "failed": "失败",
    "waiting": "等待中",
    "transactions": "交易",
    "applied": "已入账",
    "refused": "被拒",
    "delivered": "已送达",
    "rejected": "被拒收",
    "won": "补记中奖",
    "returned": "已退回",
    "interrupted": "已中止",
    "open": "仍待确认",
    "upgraded": "升级",
    "downgraded": "降级",
}


def counts_text(counts):
    """``券活动 12 · 页 1``: a run's counts in Chinese."""
    return " · ".join(f"{COUNT_NAMES.get(key, key)} {value}" for key, value in counts.items())
