"""The staff and member API as ``openapi.yaml`` declares it, enforced before any handler runs.

Every JSON body and every query parameter of an operation in the document is
checked against its schema (JSON Schema 2020-12, as OpenAPI 3.1 uses it) by one
``before_request`` hook of each API's blueprint, after its authentication: types,
bounds, lengths, patterns, enums. A request that breaks the document is answered
400 with the API's error envelope, and no handler code sees it. The code is the
``x-error`` the document puts on the property (the deepest one on the way to it),
else ``invalid_body`` (``invalid_query`` for a query parameter); the member API
answers the property's ``x-message`` (Chinese, for people).
"""

import functools
import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from flask import request
from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from wxmember.web.jsonerrors import json_error

DOCUMENT = Path(__file__).with_name("openapi.yaml")
URI = "urn:wxmember:openapi"
METHODS = ("get", "post", "put", "patch", "delete")
WHOLE = re.compile(r"-?[0-9]{1,30}")  # ASCII digits only: int() also reads "١٢" and "1_0"
MEMBER_MESSAGE = "请求格式不正确"
TYPE_NAMES = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


@functools.cache
def _compiled(pattern):
    """An ECMA-262 pattern for ``re``: a final ``$`` ends the string, never before a newline."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _multiple_of(validator, step, instance, schema):
    """``multipleOf`` on the number as JSON wrote it: 0.07 is a multiple of 0.01.

    (jsonschema divides binary floats: 0.07 / 0.01 = 7.000000000000001, refused. The
    shortest text of a float, its ``repr``, is the decimal the client sent.)
    """
    if not validator.is_type(instance, "number") or validator.is_type(instance, "boolean"):
        return
    try:
        whole = Decimal(repr(instance)) % Decimal(repr(step)) == 0
    except InvalidOperation:  # far too large to divide exactly: no amount of ours
        whole = False
    if not whole:
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


Validator = validators.extend(
    Draft202012Validator, {"pattern": _pattern, "multipleOf": _multiple_of}
)


class Api:
    """The document's operations, each with its compiled body and query schemas."""

    def __init__(self, document):
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(URI, resource)
        self.operations = [
            Operation(self, method, path, item[method], item.get("parameters", []))
            for path, item in document["paths"].items()
            for method in METHODS
            if method in item
        ]
        # a literal segment wins over a template that also matches
        self.operations.sort(key=lambda op: -len(re.sub(r"\{[^}]*\}", "", op.path)))

    def find(self, method, path):
        """The operation ``method path`` is a request of, or None (HEAD is a GET's)."""
        method = "get" if method.upper() == "HEAD" else method
        for operation in self.operations:
            if operation.method == method.lower() and operation.regex.fullmatch(path):
                return operation
        return None

    def resolve(self, node):
        """``node`` with its ``$ref`` (a pointer into this document) followed."""
        while isinstance(node, dict) and "$ref" in node:
            node = self.at(node["$ref"])
        return node

    def at(self, ref):
        """The part of the document at ``#/a/b`` (a local JSON pointer)."""
        node = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def validator(self, pointer):
        """A validator of the schema at ``pointer`` (its ``$ref``s resolve in this document)."""
        return Validator({"$ref": f"{URI}#{pointer}"}, registry=self.registry)

    def annotation(self, schema, path, key):
        """The deepest ``key`` (``x-error``, ``x-message``) on the way down ``path``."""
        found, node = self._own(schema, key), schema
        for step in path:
            node = self._child(node, step)
            if node is None:
                break
            found = self._own(node, key) or found
        return found

    def _child(self, node, step):
        """The schema of item ``step`` (an int) or property ``step`` of ``node``'s instances."""
        node = self.resolve(node)
        if not isinstance(node, dict):
            return None
        child = node.get("items") if isinstance(step, int) else node.get("properties", {}).get(step)
        return child if isinstance(child, dict) else None

    def _own(self, node, key):
        """``key`` of ``node``, or of what its ``$ref`` points to (the use site wins)."""
        while isinstance(node, dict):
            if key in node:
                return node[key]
            node = self.at(node["$ref"]) if "$ref" in node else None
        return None


def _pointer(*parts):
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


class Operation:
    """One operation: where it is, its JSON body's schema and its query parameters."""

    def __init__(self, api, method, path, spec, shared_parameters):
        self.api, self.method, self.path = api, method, path
        self.member = path.startswith("/m/")
        pieces = re.split(r"\{[^}]*\}", path)
        self.regex = re.compile("[^/]+".join(re.escape(piece) for piece in pieces))
        self.body = self.body_required = None
        body = spec.get("requestBody")
        if body is not None:
            pointer = _pointer("paths", path, method, "requestBody")
            if "$ref" in body:
                pointer, body = body["$ref"].removeprefix("#"), api.resolve(body)
            self.body_required = body.get("required", False)
            self.body_schema = body["content"]["application/json"]["schema"]
            self.body = api.validator(pointer + _pointer("content", "application/json", "schema"))
        self.query = {}
        for parameter in [*shared_parameters, *spec.get("parameters", [])]:
            parameter = api.resolve(parameter)
            if parameter["in"] == "query":
                schema = api.resolve(parameter["schema"])
                self.query[parameter["name"]] = (schema, Validator(schema))

    def check(self):
        """None when the request keeps to the document, else the 400 (or 415) to answer."""
        for name, (schema, validator) in self.query.items():
            raw = request.args.get(name)
            if raw is None:
                continue  # an empty value is a value: "limit=" is no whole number
            value = raw
            if schema.get("type") == "integer":
                if not WHOLE.fullmatch(raw):
                    return self._refuse("invalid_query", f"{name} must be a whole number")
                value = int(raw)
            error = best_match(validator.iter_errors(value))
            if error is not None:
                return self._refuse("invalid_query", f"{name} {_describe(error)}")
        return self._check_body()

    def _check_body(self):
        if self.body is None:
            return None
        raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413
        if not self.body_required and (not raw or not request.is_json):
            return None  # an optional body that is not there
        if not request.is_json and self.member:
            return json_error(415, "json_required", MEMBER_MESSAGE)
        body = request.get_json(silent=True)
        if body is None:
            return self._refuse("invalid_body", "the body must be a JSON object")
        errors = list(self.body.iter_errors(body))
        if not errors:
            return None
        error = min(errors, key=self._rank)
        path = _path(error)
        code = self.api.annotation(self.body_schema, path, "x-error") or "invalid_body"
        if self.member:
            message = self.api.annotation(self.body_schema, path, "x-message")
            return json_error(400, code, message or MEMBER_MESSAGE)
        shown = best_match([error])
        field = _field_name(_path(shown)) or "the body"
        return json_error(400, code, f"{field} {_describe(shown)}")

    def _rank(self, error):
        """Errors in the order of the schema's properties (the body itself first)."""
        properties = list(self.api.resolve(self.body_schema).get("properties", {}))
        path = _path(error)
        if not path:
            return -1
        return properties.index(path[0]) if path[0] in properties else len(properties)

    def _refuse(self, code, message):
        return json_error(400, code, MEMBER_MESSAGE if self.member else message)


def _path(error):
    """Where the error is in the body; a missing property counts as its own place."""
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        path += missing[:1]
    return path


def _field_name(path):
    name = ""
    for step in path:
        name += f"[{step}]" if isinstance(step, int) else (f".{step}" if name else str(step))
    return name


def _describe(error):
    """What is wrong, in a few words (never the value, which may be long)."""
    limit = error.validator_value
    texts = {
        "type": lambda: "must be " + " or ".join(TYPE_NAMES[t] for t in _as_list(limit)),
        "required": lambda: "is required",
        "minimum": lambda: f"must be at least {limit}",
        "maximum": lambda: f"must be at most {limit}",
        "exclusiveMinimum": lambda: f"must be above {limit}",
        "exclusiveMaximum": lambda: f"must be below {limit}",
        "minLength": lambda: f"must have at least {limit} characters",
        "maxLength": lambda: f"must have at most {limit} characters",
        "minItems": lambda: f"must have at least {limit} items",
        "maxItems": lambda: f"must have at most {limit} items",
        "pattern": lambda: "has the wrong format",
        "enum": lambda: "must be one of " + ", ".join(json.dumps(v) for v in limit),
        "const": lambda: f"must be {json.dumps(limit)}",
        "not": lambda: "has a value that is not allowed",
        "multipleOf": lambda: f"must be a multiple of {limit}",
    }
    text = texts.get(error.validator)
    return text() if text else "is not valid"


def _as_list(value):
    return value if isinstance(value, list) else [value]


@functools.cache
def api():
    """The API of ``openapi.yaml`` (read once)."""
    return Api(yaml.safe_load(DOCUMENT.read_text(encoding="utf-8")))


def check_request():
    """``before_request``: refuse a request that breaks the document (None to go on)."""
    operation = api().find(request.method, request.path)
    return None if operation is None else operation.check()
