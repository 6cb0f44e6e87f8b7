"""The embedded engine's connection settings."""

from pathlib import Path

from pymongo import uri_parser

from wxmember.engine import Engine


def test_engine_uri_journals_writes_and_leaves_retryable_writes_off():
    uri = Engine(pid=1, port=27999, version="0", data_dir=Path("/tmp")).uri
    options = uri_parser.parse_uri(uri)["options"]
    assert options["journal"] is True  # acknowledged = on disk (kill -9 loses nothing)
    # The engine keeps every retryable write's reply and walks them all on each write.
    assert options["retryWrites"] is False
