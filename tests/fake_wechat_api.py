"""A stand-in for api.weixin.qq.com over real HTTP: token and user/info."""

import threading

from flask import Flask, jsonify, request

from wxmember.httpserver import BackgroundServer


class FakeWeChatAPI:
    """Answers ``token`` and ``user/info``; can be held back or made to fail."""

    def __init__(self):
        self.release = threading.Event()
        self.release.set()
        self.token_requests = 0
        self.info_requests = []
        self.fail = False
        app = Flask("fake-wechat")
        app.add_url_rule("/cgi-bin/token", view_func=self.token)
        app.add_url_rule("/cgi-bin/user/info", view_func=self.user_info)
        app.add_url_rule("/sns/oauth2/access_token", view_func=self.oauth_token)
        app.add_url_rule(
            "/cgi-bin/message/template/send", methods=["POST"], view_func=self.send_template
        )
        app.add_url_rule(
            "/card/membercard/userinfo/get", methods=["POST"], view_func=self.card_form
        )
        app.add_url_rule(
            "/card/membercard/activate", methods=["POST"], view_func=self.card_activate
        )
        self.server = BackgroundServer(app).start()
        self.base_url = f"{self.server.url}/cgi-bin/"
        self.sns_base_url = f"{self.server.url}/sns/"
        self.oauth_codes = {}  # code -> openid, each usable once
        self.card_forms = {}  # card code -> {field name: value}
        self.activated = []  # (membership_number, code)
        self.templates = []  # template messages sent
        self.template_failures = 0  # answer this many sends with an error first

    def token(self):
        self.token_requests += 1
        return jsonify({"access_token": "ACCESS_TOKEN", "expires_in": 7200})

    def user_info(self):
        self.release.wait(10)
        self.info_requests.append(request.args["openid"])
        if self.fail:
            return jsonify({"errcode": 40003, "errmsg": "invalid openid"})
        return jsonify(
            {
                "subscribe": 1,
                "openid": request.args["openid"],
                "nickname": "小蓝",
                "sex": 2,
                "language": "zh_CN",
                "city": "广州",
                "province": "广东",
                "country": "中国",
                "headimgurl": "http://thirdwx.qlogo.cn/mmopen/abc/132",
                "subscribe_time": 1700000000,
            }
        )

    def oauth_token(self):
        openid = self.oauth_codes.pop(request.args.get("code"), None)
        if openid is None or request.args.get("grant_type") != "authorization_code":
            return jsonify({"errcode": 40029, "errmsg": "invalid code"})
        return jsonify(
            {
                "access_token": "WEB_TOKEN",
                "expires_in": 7200,
                "openid": openid,
                "scope": "snsapi_base",
            }
        )

    def send_template(self):
        if self.template_failures:
            self.template_failures -= 1
            return jsonify({"errcode": 43004, "errmsg": "require subscribe"})
        self.templates.append(request.get_json(force=True))
        return jsonify({"errcode": 0, "errmsg": "ok", "msgid": len(self.templates)})

    def card_form(self):
        body = request.get_json(force=True)
        form = self.card_forms.get(body.get("code"))
        if form is None:
            return jsonify({"errcode": 40056, "errmsg": "invalid code"})
        fields = [{"name": name, "value": value} for name, value in form.items()]
        return jsonify({"errcode": 0, "openid": "x", "user_info": {"common_field_list": fields}})

    def card_activate(self):
        body = request.get_json(force=True)
        self.activated.append((body["membership_number"], body["code"]))
        return jsonify({"errcode": 0, "errmsg": "ok"})

    def stop(self):
        self.release.set()
        self.server.stop()
