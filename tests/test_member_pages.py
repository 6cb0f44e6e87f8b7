"""The member pages' frame: WeUI vendored as pinned, no title bar of their own, phone inputs."""

import hashlib
import re
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "wxmember" / "web"
WEUI = WEB / "static" / "vendor" / "weui"


def test_weui_is_the_pinned_release_with_its_licence():
    base = (WEB / "templates" / "base.html").read_text(encoding="utf-8")
    pin = re.search(r"WeUI (\d+\.\d+\.\d+) \(npm weui@\1.*?sha256 ([0-9a-f]{64})", base, re.S)
    assert pin, "base.html names the WeUI version and its sha256"
    version, digest = pin.groups()
    css = (WEUI / "weui.min.css").read_bytes()
    assert hashlib.sha256(css).hexdigest() == digest
    assert css.startswith(f"/*!\n * WeUI v{version} ".encode())
    assert "MIT License" in (WEUI / "LICENSE.txt").read_text(encoding="utf-8")
    assert f"weui.min.css') }}}}?v={version}" in base


def test_pages_load_weui_from_here_and_have_no_header_of_their_own(client):
    client.get("/m/dev/login?openid=oFrame")
    for path in ("/m/bind", "/m/shake"):
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "/m/static/vendor/weui/weui.min.css?v=" in html
        assert "<header" not in html and 'name="viewport"' in html
        assert page.headers["Cache-Control"] == "no-store"
        assert "https://" not in html.split("</head>")[0]  # nothing from another site
    css = client.get("/m/static/vendor/weui/weui.min.css")
    assert css.status_code == 200 and css.mimetype == "text/css"


def test_mobile_and_code_fields_open_the_numeric_keypad(client):
    client.get("/m/dev/login?openid=oFrame")
    html = client.get("/m/bind").get_data(as_text=True)
    for field in ("mobile", "code", "unbind-code"):
        tag = re.search(rf'<input id="{field}"[^>]*>', html).group()
        assert 'inputmode="numeric"' in tag and 'pattern="[0-9]*"' in tag, tag
    assert 'type="tel"' in re.search(r'<input id="mobile"[^>]*>', html).group()
