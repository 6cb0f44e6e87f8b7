"""Every collection the platform uses, by name: the one place a name is written.

Each collection is written by one store (named after the ``#``); everything else
goes through that store. The names of seed 000 (``welab/…``, ``lavico/…``) and
of seeds 002/003 (``member/…``) are the brand's; ``wxmember/…`` are our own.
"""

# -- seed 000: followers, their activity and the brand's records ----------------------
CUSTOMERS = "welab/customers"  # one document per WeChat user and its card (CustomerStore)
FEEDS = "welab/feeds"  # the account's activity stream, 动态 (FeedStore)
LOGS = "lavico/user/logs"  # one record per business action (LogStore)
FEED_CURSORS = "lavico/user/lastId"  # where each CRM feed sync resumes (jobs.cursor)
COUPON_ACTIVITIES = "lavico/activity"  # the CRM's coupon activities, pulled (CouponActivities)

# -- seeds 002/003: the member system -------------------------------------------------
MEMBER_ACCOUNTS = "member/accounts"  # a member's balances and recent journal (Ledger)
POINTS_ROWS = "member/integral"  # Member_Integral: points ledger rows (Ledger)
MONEY_ROWS = "member/money"  # Member_Money: money ledger rows, fen (Ledger)
FROZEN_MONEY_ROWS = "member/frozen_money"  # Member_FrozenMoney: frozen money rows (Ledger)
EARNINGS_ROWS = "member/refund"  # Member_Refund: earnings ledger rows (Ledger)
TRANSACTIONS = "member/transactions"  # store transactions by formId (Transactions)
POINT_RULES = "member/point_rules"  # points earning rules (PointRules)
RECHARGE_PROMOTIONS = "member/recharge_promotions"  # "充100送30" (Money)
WITHDRAWALS = "member/refund_cash"  # Member_RefundCash: withdrawal applications (Withdrawals)
GRADES = "member/grades"  # Member_Config_Grade: grades and their rules (Grades)
MEMBER_DATA = "member/data"  # a member's grade, referrer and permissions (Grades)
MEMBER_LOG = "member/log"  # Member_Log: grade changes (Grades)
MEMBER_PROFILE = "member/profile"  # interests, Member_Address, Member_Invoice (MemberProfiles)
MEMBER_MESSAGES = "member/message"  # Member_Message: announcements, notices (MemberMessages)
PREPAID_LINKS = "member/prepaid_links"  # seed 001: a verified mobile's prepaid (PrepaidLinks)

# -- seed 003: coupons, checkout, points redemption -----------------------------------
COUPONS = "member/coupons"  # 优惠券: definitions, stock, issued/used counts (CouponDefinitions)
MEMBER_COUPONS = "member/member_coupons"  # coupons issued to members, by couponNo (CouponWallet)
COUPON_CLAIMS = "member/coupon_claims"  # 领券关系: claims per coupon per member (CouponWallet)
DISCOUNT_RULES = "member/discount_rules"  # 积分抵扣比例 and 优惠规则 order (CheckoutSettings)
CHECKOUTS = "member/checkouts"  # checkouts committed, once per formId (Checkout)
REDEMPTION_ITEMS = "member/redemption_items"  # 积分兑换: items, points price, stock (Redemptions)
REDEMPTIONS = "member/redemptions"  # each redemption, once per key (Redemptions)

# -- shake (摇一摇) --------------------------------------------------------------------
SHAKE_ACTIVITIES = "shake/activities"  # activities with prizes and stock (ShakeActivities)
SHAKE_DRAWS = "shake/draws"  # one draw per shake key, open until finished (ShakeDraws)
SHAKE_COUNTERS = "shake/counters"  # shakes per member per activity cycle (ShakeDraws)

# -- the platform's own bookkeeping ---------------------------------------------------
DELIVERIES = "wxmember/deliveries"  # WeChat delivery claims, with a TTL (DeliveryLedger)
SMS_CODES = "wxmember/sms_codes"  # hashed SMS verification codes, with a TTL (SmsCodes)
RATE_LIMITS = "wxmember/rate_limits"  # fixed-window counters, with a TTL (RateLimiter)
OUTBOX = "wxmember/outbox"  # notifications the CRM must still get (Outbox)
DRIFT = "wxmember/drift"  # where bindings and the CRM disagree (DriftLog)
TEMPLATE_MESSAGES = "wxmember/template_messages"  # queued WeChat template messages (TemplateQueue)
WECHAT_KV = "wxmember/kv"  # WeChat's access token, shared by all processes (MongoSessionStorage)
SETTINGS = "wxmember/settings"  # the development session secret (composition)
JOB_RUNS = "wxmember/job_runs"  # each run of a job (JobRuns)
JOB_LEASES = "wxmember/job_leases"  # which process may run each job now (Lease)

# -- staff and the console ------------------------------------------------------------
STAFF = "wxmember/staff"  # staff accounts: role, Argon2 hash, numeric userId (StaffAccounts)
STAFF_COUNTERS = "wxmember/staff_counters"  # the next numeric userId (StaffAccounts)
STAFF_TOKENS = "wxmember/staff_tokens"  # SHA-256 of each staff API token (StaffTokens)
STAFF_SESSIONS = "wxmember/staff_sessions"  # console sign-ins, with a TTL (ConsoleSessions)
AUDIT = "wxmember/audit"  # who changed what, append-only (AuditLog)
CONSOLE_EXPORTS = "wxmember/console_exports"  # progress of log exports, with a TTL (exports)
