"""The HTTP surface: WeChat webhook, staff and member APIs, member pages and sessions."""
