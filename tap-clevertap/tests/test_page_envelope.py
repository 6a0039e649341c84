"""Reading a data page's cursor without parsing its records, and falling back when unsure."""

from __future__ import annotations

import orjson
from tap_clevertap.client import page_envelope

RECORDS = [{"event_props": {"status": "success"}, "pad": "x" * 200}] * 20


def test_the_observed_layout_is_read_from_its_ends():
    body = orjson.dumps({"next_cursor": "a%2Bb%3D", "records": RECORDS, "status": "success"})
    assert page_envelope(body) == {
        "status": "success",
        "next_cursor": "a%2Bb%3D",
        "records": [True],
    }


def test_whitespace_and_an_empty_page():
    body = b'{ "next_cursor" : "c1" , "records" : [ ] , "status" : "success" }\n'
    assert page_envelope(body + b" " * 0) is None  # small bodies are simply parsed
    padded = b'{ "next_cursor" : "c1" , "records" : [' + b" " * 4000 + b'] , "status" : "success" }'
    assert page_envelope(padded) == {"status": "success", "next_cursor": "c1", "records": []}


def test_anything_else_is_left_to_the_full_parse():
    other_order = orjson.dumps({"records": RECORDS, "next_cursor": "c", "status": "success"})
    failed = orjson.dumps({"next_cursor": "c", "records": RECORDS, "status": "fail"})
    nested_tail = orjson.dumps({"next_cursor": "c", "records": RECORDS, "x": {"status": "success"}})
    escaped_cursor = orjson.dumps({"next_cursor": 'c"d', "records": RECORDS, "status": "success"})
    truncated = orjson.dumps({"next_cursor": "c", "records": RECORDS, "status": "success"})[:-5]
    for body in (other_order, failed, nested_tail, escaped_cursor, truncated):
        assert page_envelope(body) is None
