"""The CRM simulator's data: realistic members of the three card types, coupons, SMS.

Everything lives in memory behind one lock; every change of a member appends a
row to the change feed, as the real CRM's PUB_FIELD_CHANGEHIS does.
"""

import random
import threading
import time

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅晨宇浩然子涵欣怡"
CITIES = [
    ("上海", "上海"),
    ("北京", "北京"),
    ("广东", "广州"),
    ("广东", "深圳"),
    ("浙江", "杭州"),
    ("江苏", "南京"),
    ("四川", "成都"),
    ("湖北", "武汉"),
]
INDUSTRIES = ["IT", "金融", "教育", "医疗", "制造", "零售", "自由职业"]
COLORS = ["黑色", "白色", "藏青", "灰色", "米色", "酒红"]
LEVEL_WEIGHTS = (("01", 60), ("02", 30), ("03", 10))  # white, VIP, platinum VIP
PROMOTIONS = [
    ("CQL201404010004", "返店券", "无限制现金券通用活动", "现金券", "01", 500, 2000),
    ("CQL201405010001", "满1000减100", "单笔满1000元可用", "满减券", "02", 100, 1000),
    ("CQL201406010002", "9折券", "正价商品9折", "折扣券", "03", 90, 500),
    ("CQL201407010003", "生日礼券", "生日当月可用", "现金券", "01", 200, 300),
    ("CQL201408010005", "VIP专享券", "VIP及以上会员可用", "现金券", "01", 300, 100),
]
MEMBER_FIELDS = (
    "MEM_CARD_NO",
    "LEVEL",
    "MEM_PSN_CNAME",
    "MEM_PSN_SEX",
    "MEM_PSN_BIRTHDAY",
    "MOBILE_TELEPHONE_NO",
    "MEM_PSN_EMAIL",
    "MEM_INDUSTRY",
    "PROVINCE",
    "CITY",
    "MEM_PSN_ADDRESS",
    "MEM_PSN_HOPPY",
    "MEM_PSN_COLOR",
    "WX_OPENID",
)
FIRST_MEMBER_ID = 16426780


def _now_ms():
    return int(time.time() * 1000)


class SimulatedCRM:
    """The CRM's tables, seeded deterministically from ``seed``."""

    def __init__(self, members=200, seed=7):
        self.lock = threading.RLock()
        self.random = random.Random(seed)
        self.members = {}  # MEMBER_ID -> info dict
        self.changes = []  # change feed rows, ascending key
        self.sms = {}  # mobile -> [texts]
        self.idempotent = {}  # Idempotency-Key -> (status, body)
        self.coupons = []
        self.points = {}
        self.mobiles = set()
        self.promotions = {
            code: {
                "PROMOTION_CODE": code,
                "PROMOTION_NAME": name,
                "PROMOTION_DESC": desc,
                "TYPE": kind,
                "TYPE_CODE": type_code,
                "QTY": qty,
                "TOTAL": total,
                "USED": 0,
            }
            for code, name, desc, kind, type_code, qty, total in PROMOTIONS
        }
        for _ in range(members):
            self._add_seed_member()

    # -- members -------------------------------------------------------------

    def _add_seed_member(self):
        member_id = FIRST_MEMBER_ID + len(self.members)
        levels, weights = zip(*LEVEL_WEIGHTS, strict=True)
        level = self.random.choices(levels, weights)[0]
        province, city = self.random.choice(CITIES)
        info = {
            "MEMBER_ID": member_id,
            "MEM_CARD_NO": f"{'WVP'[int(level) - 1]}{member_id:010d}",
            "LEVEL": level,
            "MEM_PSN_CNAME": self.random.choice(SURNAMES) + self.random.choice(GIVEN),
            "MEM_PSN_ENAME": "",
            "MEM_PSN_SEX": self.random.choice("MF"),
            "MEM_PSN_BIRTHDAY": f"{self.random.randint(1960, 2003)}-"
            f"{self.random.randint(1, 12):02d}-{self.random.randint(1, 28):02d}",
            "MOBILE_TELEPHONE_NO": self._unused_mobile(),
            "MOBILE_CHECKED": self.random.random() < 0.8,
            "MEM_PSN_EMAIL": f"m{member_id}@example.com",
            "MEM_INDUSTRY": self.random.choice(INDUSTRIES),
            "PROVINCE": province,
            "CITY": city,
            "MEM_PSN_ADDRESS": f"{city}市中山路{self.random.randint(1, 999)}号",
            "MEM_PSN_HOPPY": f"0{self.random.randint(1, 6)}",
            "MEM_PSN_COLOR": self.random.choice(COLORS),
            "WX_OPENID": None,
        }
        self.members[member_id] = info
        self.points[member_id] = self.random.randint(0, 5000)
        return info

    def _unused_mobile(self):
        while True:
            mobile = f"1{self.random.choice('3589')}{self.random.randint(0, 10**9 - 1):09d}"
            if mobile not in self.mobiles:
                self.mobiles.add(mobile)
                return mobile

    def by_mobile(self, mobile):
        return next((m for m in self.members.values() if m["MOBILE_TELEPHONE_NO"] == mobile), None)

    def by_openid(self, openid):
        return next((m for m in self.members.values() if m["WX_OPENID"] == openid), None)

    def change(self, member_id, field, value):
        """Set one field and append its row to the change feed."""
        info = self.members[member_id]
        old = info.get(field)
        if old == value:
            return
        info[field] = value
        self.changes.append(
            {
                "PK_PUB_FIELD_CHANGEHIS": len(self.changes) + 1,
                "TABLE_NAME": "PUB_MEMBER_PSN",
                "FIELD_NAME": field,
                "RK_VALUE": str(member_id),
                "OLD_VALUE": None if old is None else str(old),
                "NEW_VALUE": None if value is None else str(value),
                "INPUT_DATE": _now_ms(),
            }
        )

    def open_card(self, openid, name, mobile, sex=None, birthday=None):
        """A new white card bound to ``openid``."""
        info = self._add_seed_member()
        self.mobiles.add(mobile)
        info.update(
            MOBILE_TELEPHONE_NO=mobile,
            MOBILE_CHECKED=True,
            LEVEL="01",
            MEM_CARD_NO=f"W{info['MEMBER_ID']:010d}",
            MEM_PSN_CNAME=name,
        )
        if sex:
            info["MEM_PSN_SEX"] = sex
        if birthday:
            info["MEM_PSN_BIRTHDAY"] = birthday
        self.points[info["MEMBER_ID"]] = 0
        self.change(info["MEMBER_ID"], "WX_OPENID", openid)
        return info

    def touch_members(self, count):
        """Make ``count`` member changes (for benchmarks and sync trials)."""
        ids = list(self.members)
        for n in range(count):
            member_id = ids[n % len(ids)]
            self.change(member_id, "MEM_PSN_ADDRESS", f"变更地址{len(self.changes) + 1}号")

    def public_member(self, info):
        return {field: info.get(field) for field in ("MEMBER_ID", *MEMBER_FIELDS)}
