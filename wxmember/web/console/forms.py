"""Reading console forms: each value checked with a Chinese message naming the field.

A form that cannot be used raises ``FormRefused`` before anything is written; the
view shows the form again with what was typed and the message. What the forms
send on is then checked again by the same domain code the staff API calls.
"""

import math
import re
import uuid

from flask import render_template, request

from wxmember.refusals import Refused
from wxmember.timeparse import LAST_SHOWN_MS, to_ms

MAX_WHOLE = 2**53 - 1
MAX_YUAN = 10_000_000
YUAN = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?")
CODE_SEPARATORS = re.compile(r"[\s,，、;；]+")


class FormRefused(Refused):
    """A console form with a value that cannot be used (400, Chinese message)."""

    default_status = 400

    def __init__(self, message):
        super().__init__("invalid_form", message)


class Form:
    """The fields of one submitted form (``request.form``), read one by one."""

    def __init__(self, values):
        self.values = values

    def raw(self, name):
        return (self.values.get(name) or "").strip()

    def text(self, name, label, required=True, longest=100):
        """The trimmed text of ``name``; refused when empty (if required) or too long."""
        value = self.raw(name)
        if required and not value:
            raise FormRefused(f"请填写{label}。")
        if len(value) > longest:
            raise FormRefused(f"{label}不能超过{longest}个字。")
        return value

    def whole(self, name, label, minimum=0, maximum=MAX_WHOLE, default=None):
        """A whole number from ``minimum`` to ``maximum`` (``default`` when left empty)."""
        value = self.raw(name)
        if not value and default is not None:
            return default
        if not re.fullmatch(r"-?[0-9]{1,16}", value):
            raise FormRefused(f"{label}须为整数。")
        number = int(value)
        if not minimum <= number <= maximum:
            raise FormRefused(f"{label}须在{minimum:,}到{maximum:,}之间。")
        return number

    def decimal(self, name, label, minimum=0.0, maximum=100.0, default=None):
        """A number (decimals allowed) from ``minimum`` to ``maximum``."""
        value = self.raw(name)
        if not value and default is not None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise FormRefused(f"{label}须为数字。") from None
        if not math.isfinite(number) or not minimum <= number <= maximum:
            raise FormRefused(f"{label}须在{minimum:g}到{maximum:g}之间。")
        return int(number) if number.is_integer() else number

    def yuan(self, name, label, positive=True):
        """An amount of yuan with at most two decimals (as a number: the API's unit)."""
        value = self.raw(name)
        if not YUAN.fullmatch(value) or float(value) > MAX_YUAN:
            raise FormRefused(f"{label}须为不超过{MAX_YUAN:,}元的金额，最多两位小数。")
        number = float(value)
        if positive and number <= 0:
            raise FormRefused(f"{label}须大于0。")
        return int(number) if number.is_integer() else number

    def moment(self, name, label):
        """A date and time typed in Shanghai time (``2026-11-01T08:00``) as epoch ms."""
        value = self.raw(name)
        if not value:
            raise FormRefused(f"请填写{label}。")
        try:
            ms = to_ms(value)
        except ValueError:
            raise FormRefused(f"{label}格式不正确，请按 2026-11-01 08:00 的格式填写。") from None
        if not 0 <= ms <= LAST_SHOWN_MS:
            raise FormRefused(f"{label}超出范围。")
        return ms

    def codes(self, name, label, longest=2000):
        """Codes (product ids, coupon numbers) typed apart by spaces, commas or 、."""
        typed = self.text(name, label, required=False, longest=longest)
        return [code for code in CODE_SEPARATORS.split(typed) if code]

    def choice(self, name, label, choices):
        """One of ``choices`` (a dict or a sequence of allowed values)."""
        value = self.raw(name)
        if value not in choices:
            raise FormRefused(f"请选择{label}。")
        return value

    def checked(self, name):
        return self.raw(name) in ("1", "on", "true")


def form_id_of(values):
    """The ``formId`` a page put in its form (a new one if none): a second submit of the
    same form is the same change, made once."""
    return (values.get("formId") or "").strip()[:100] or new_form_id()


def new_form_id():
    """A ``formId`` for a form about to be shown."""
    return f"console-{uuid.uuid4().hex}"


def form_page(template, notices, status=200, error="", **context):
    """``(html, status)`` of a console page with a form: the notice of the change just
    made (``?done=`` a key of ``notices``) and the error of a refused form."""
    notice = notices.get(request.args.get("done", ""), "")
    return render_template(template, error=error, notice=notice, **context), status
