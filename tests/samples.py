"""Deliveries in WeChat's own documented XML format, with ``{openid}`` and ``{time}`` to fill.

Taken from the official-account docs (接收普通消息 / 接收事件推送 / 摇一摇事件通知 /
卡券事件推送), whitespace and all.
"""

HEAD = """<xml>
<ToUserName><![CDATA[gh_toUser]]></ToUserName>
<FromUserName><![CDATA[{openid}]]></FromUserName>
<CreateTime>{time}</CreateTime>
"""

TEXT = (
    HEAD
    + """<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[{content}]]></Content>
<MsgId>{msgid}</MsgId>
</xml>"""
)

IMAGE = (
    HEAD
    + """<MsgType><![CDATA[image]]></MsgType>
<PicUrl><![CDATA[http://mmbiz.qpic.cn/a.jpg]]></PicUrl>
<MediaId><![CDATA[media_id]]></MediaId>
<MsgId>1234567890123457</MsgId>
</xml>"""
)

SUBSCRIBE = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[subscribe]]></Event>
</xml>"""
)

SUBSCRIBE_QRSCENE = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[subscribe]]></Event>
<EventKey><![CDATA[qrscene_123123]]></EventKey>
<Ticket><![CDATA[TICKET]]></Ticket>
</xml>"""
)

UNSUBSCRIBE = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[unsubscribe]]></Event>
</xml>"""
)

SCAN = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[SCAN]]></Event>
<EventKey><![CDATA[SCENE_VALUE]]></EventKey>
<Ticket><![CDATA[TICKET]]></Ticket>
</xml>"""
)

LOCATION = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[LOCATION]]></Event>
<Latitude>23.137466</Latitude>
<Longitude>113.352425</Longitude>
<Precision>119.385040</Precision>
</xml>"""
)

CLICK = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[CLICK]]></Event>
<EventKey><![CDATA[{key}]]></EventKey>
</xml>"""
)

VIEW = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[VIEW]]></Event>
<EventKey><![CDATA[www.qq.com]]></EventKey>
</xml>"""
)

SHAKE = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[ShakearoundUserShake]]></Event>
<ChosenBeacon>
<Uuid><![CDATA[121212121212]]></Uuid>
<Major>1111</Major>
<Minor>1111</Minor>
<Distance>0.057</Distance>
</ChosenBeacon>
<AroundBeacons>
<AroundBeacon>
<Uuid><![CDATA[121212121212]]></Uuid>
<Major>2222</Major>
<Minor>2222</Minor>
<Distance>166.816</Distance>
</AroundBeacon>
<AroundBeacon>
<Uuid><![CDATA[121212121212]]></Uuid>
<Major>3333</Major>
<Minor>3333</Minor>
<Distance>15.013</Distance>
</AroundBeacon>
</AroundBeacons>
</xml>"""
)

SHAKE_ONE_BEACON = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[ShakearoundUserShake]]></Event>
<ChosenBeacon>
<Uuid><![CDATA[121212121212]]></Uuid>
<Major>1111</Major>
<Minor>1111</Minor>
<Distance>0.057</Distance>
</ChosenBeacon>
<AroundBeacons>
<AroundBeacon>
<Uuid><![CDATA[121212121212]]></Uuid>
<Major>2222</Major>
<Minor>2222</Minor>
<Distance>166.816</Distance>
</AroundBeacon>
</AroundBeacons>
</xml>"""
)

USER_GET_CARD = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[user_get_card]]></Event>
<CardId><![CDATA[po2VNuCuRo-8sxxxxxxxxxxx]]></CardId>
<IsGiveByFriend>0</IsGiveByFriend>
<UserCardCode><![CDATA[{code}]]></UserCardCode>
<FriendUserName><![CDATA[]]></FriendUserName>
<OuterId>0</OuterId>
<OldUserCardCode><![CDATA[]]></OldUserCardCode>
<OuterStr><![CDATA[12b]]></OuterStr>
<IsRestoreMemberCard>0</IsRestoreMemberCard>
<IsRecommendByFriend>0</IsRecommendByFriend>
</xml>"""
)

USER_DEL_CARD = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[user_del_card]]></Event>
<CardId><![CDATA[po2VNuCuRo-8sxxxxxxxxxxx]]></CardId>
<UserCardCode><![CDATA[{code}]]></UserCardCode>
</xml>"""
)

USER_CONSUME_CARD = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[user_consume_card]]></Event>
<CardId><![CDATA[po2VNuCuRo-8sxxxxxxxxxxx]]></CardId>
<UserCardCode><![CDATA[{code}]]></UserCardCode>
<ConsumeSource><![CDATA[FROM_API]]></ConsumeSource>
<LocationName><![CDATA[]]></LocationName>
<StaffOpenId><![CDATA[oa8nlwE7_wjgDlZ4bpxxxxxxxxxx]]></StaffOpenId>
<VerifyCode><![CDATA[]]></VerifyCode>
<RemarkAmount><![CDATA[]]></RemarkAmount>
<OuterStr><![CDATA[xxxxx]]></OuterStr>
</xml>"""
)

SUBMIT_MEMBERCARD_USER_INFO = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[submit_membercard_user_info]]></Event>
<CardId><![CDATA[po2VNuCuRo-8sxxxxxxxxxxx]]></CardId>
<UserCardCode><![CDATA[{code}]]></UserCardCode>
</xml>"""
)

UPDATE_MEMBER_CARD = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[update_member_card]]></Event>
<CardId><![CDATA[po2VNuCuRo-8sxxxxxxxxxxx]]></CardId>
<UserCardCode><![CDATA[{code}]]></UserCardCode>
<ModifyBonus>3</ModifyBonus>
<ModifyBalance>0</ModifyBalance>
</xml>"""
)

TEMPLATE_SEND_JOB_FINISH = (
    HEAD
    + """<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>
<MsgID>200163836</MsgID>
<Status><![CDATA[success]]></Status>
</xml>"""
)


def fill(template, openid="oUser0001", time=1700000000, **values):
    """The template with its placeholders filled; sensible defaults for the rest."""
    defaults = {
        "content": "你好",
        "msgid": "1234567890123456",
        "key": "V1001_TODAY_MUSIC",
        "code": "012345678912",
    }
    return template.format(openid=openid, time=time, **{**defaults, **values})
