"""Whether a request comes from this machine: the development conveniences stay local.

The embedded default ships a known staff token and a login without WeChat
(``/m/dev/login``); served on a public address they would open the platform to
anyone, so both answer only requests over loopback that no proxy forwarded.
"""

import ipaddress

from flask import request

FORWARDED = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def from_this_machine():
    """True for a request over loopback that carries no proxy's forwarding header."""
    if any(header in request.headers for header in FORWARDED):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
