"""wxmember: the member platform behind a brand's WeChat official account.

``create_app`` is loaded on first use, so that importing a small module of the
core (``wxmember.clock``, ``wxmember.crm``…) does not pull in the whole web app.
"""

__all__ = ["create_app"]


def __getattr__(name):
    if name == "create_app":
        from wxmember.composition import create_app

        return create_app
    raise AttributeError(f"module 'wxmember' has no attribute {name!r}")
