"""json_text.dumps: orjson without the non-text-keys option unless a record needs it."""

from __future__ import annotations

import datetime as dt
import json

import orjson
import pytest
from clevertap_segment_common import json_text

OPTION = orjson.OPT_UTC_Z | orjson.OPT_SORT_KEYS


def test_text_keys_give_the_same_bytes_as_with_the_option():
    value = {"b": [1, {"y": None, "x": "é"}], "a": dt.datetime(2026, 11, 19, tzinfo=dt.UTC)}
    assert json_text.dumps(value, option=OPTION) == orjson.dumps(
        value, option=OPTION | orjson.OPT_NON_STR_KEYS
    )


def test_other_keys_are_written_as_text_as_json_dumps_writes_them():
    value = {"by_day": {20261119: 3, 7: 4}, "flag": {True: 1}}
    written = json_text.dumps(value, option=orjson.OPT_SORT_KEYS)
    assert json.loads(written) == json.loads(json.dumps(value, sort_keys=True))


def test_a_value_that_cannot_be_written_still_raises():
    def refuse(value: object) -> object:
        raise TypeError(f"no JSON for {type(value).__name__}")

    with pytest.raises(TypeError):
        json_text.dumps({1: object()}, option=0, default=refuse)
