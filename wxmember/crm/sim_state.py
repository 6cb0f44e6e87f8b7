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
PRODUCTS = ["羊毛西装", "纯棉衬衫", "休闲夹克", "修身西裤", "真丝领带", "羊绒大衣"]
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
        self.point_log = {}
        self.spending = {}
        self.tags = {}
        self.info_requests = []
        self.transactions = []
        self.shops = self._seed_shops()
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
        self.prepaid = self._seed_prepaid()

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

    # -- points, coupons, purchases, stores, prepaid ------------------------------

    def change_points(self, member_id, qty, memo):
        """Add ``qty`` (±) to the member's points; None when that would go below zero."""
        balance = self.points.get(member_id, 0) + qty
        if balance < 0:
            return None
        self.points[member_id] = balance
        self.point_log.setdefault(member_id, []).append(
            {"value": qty, "time": _now_ms(), "memo": memo or "", "source": "03"}
        )
        return balance

    def fetch_coupon(self, openid, code, memo):
        """Issue one coupon of activity ``code`` to ``openid``; (coupon, error code)."""
        promotion = self.promotions.get(code)
        if promotion is None:
            return None, "not_found"
        if promotion["USED"] >= promotion["TOTAL"]:
            return None, "sold_out"
        promotion["USED"] += 1
        member = self.by_openid(openid)
        now = _now_ms()
        coupon = {
            "COUPON_NO": f"AV{len(self.coupons) + 1404016103:010d}",
            "PROMOTION_CODE": code,
            "PROMOTION_NAME": promotion["PROMOTION_NAME"],
            "COUPON_STATUS": "02",
            "COUPON_TYPE": promotion["TYPE"],
            "COUPON_QTY": promotion["QTY"],
            "BEGIN_DATE": now,
            "END_DATE": now + 30 * 86400 * 1000,
            "USED_DATE": None,
            "MEMBER_ID": member["MEMBER_ID"] if member else None,
            "openid": openid,
            "memo": memo or "",
        }
        self.coupons.append(coupon)
        return coupon, None

    def add_transaction(
        self,
        member_id,
        kind,
        amount,
        form_id=None,
        refund_of=None,
        items=None,
        points_used=0,
        balance_used=0,
    ):
        """Record a store transaction in the feed (TYPE 01 purchase, 02 recharge, 03 refund)."""
        key = len(self.transactions) + 1
        row = {
            "PK_TRANSACTION": key,
            "FORM_ID": form_id or f"T{key:08d}",
            "MEMBER_ID": member_id,
            "TYPE": kind,
            "AMT": amount,
            "REFUND_OF": refund_of,
            "ITEMS": items or [],
            "POINT_USED": points_used,
            "BALANCE_USED": balance_used,
            "INPUT_DATE": _now_ms(),
        }
        self.transactions.append(row)
        return row

    def purchases(self, member_id):
        """The member's store purchases, made up once and then kept."""
        if member_id not in self.spending:
            rng = random.Random(member_id)
            self.spending[member_id] = [
                {
                    "AMT": round(rng.uniform(199, 3999), 2),
                    "date": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}",
                    "time": _now_ms() - rng.randint(1, 300) * 86400 * 1000,
                    "POINT": rng.randint(100, 4000),
                    "SHOP_NAME": rng.choice(self.shops)["NAME"],
                    "PRODUCT_NAME": rng.choice(PRODUCTS),
                    "GOODSNO": f"HL{rng.randint(100000, 999999)}",
                    "STYLE_NAME": rng.choice(list(["简约大方", "时尚潮流", "商务正装"])),
                    "CLASS_NAME": rng.choice(["上装", "下装", "外套", "配饰"]),
                }
                for _ in range(rng.randint(0, 6))
            ]
        return self.spending[member_id]

    def _seed_shops(self):
        return [
            {
                "CODE": f"S{n:04d}",
                "NAME": f"{city}{district}店",
                "ADDR": f"{city}市{district}路{n * 7}号",
                "TEL": f"021-6{n:07d}",
                "CITY": city,
                "PROVINCE": province,
                "LAT": round(31.0 + n * 0.37 % 8, 6),
                "LOG": round(118.0 + n * 0.53 % 6, 6),
                "PICURL": f"https://img.example.com/shops/{n}.jpg",
            }
            for n, ((province, city), district) in enumerate(
                zip(
                    CITIES,
                    ["南京西", "王府井", "天河", "福田", "西湖", "新街口", "春熙", "江汉"],
                    strict=True,
                ),
                start=1,
            )
        ]

    def _seed_prepaid(self):
        """Store-registered customers with prepaid records (seed 001), by phone."""
        prepaid = {}
        for member in list(self.members.values())[::5]:
            phone = member["MOBILE_TELEPHONE_NO"]
            amount = self.random.choice([500, 1000, 2000, 5000])
            prepaid[phone] = [
                {
                    "customerId": f"C{member['MEMBER_ID']}",
                    "customerName": member["MEM_PSN_CNAME"],
                    "customerPhone": phone,
                    "records": [
                        {
                            "_id": f"P{member['MEMBER_ID']}",
                            "amount": amount,
                            "balance": amount - self.random.randint(0, amount // 2),
                            "type": "cash",
                            "createTime": _now_ms(),
                        }
                    ],
                }
            ]
        return prepaid

    def public_member(self, info):
        return {field: info.get(field) for field in ("MEMBER_ID", *MEMBER_FIELDS)}
