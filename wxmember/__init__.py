"""wxmember: the member platform behind a brand's WeChat official account."""

from wxmember.app import create_app

__all__ = ["create_app"]
