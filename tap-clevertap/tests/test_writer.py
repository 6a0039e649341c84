"""The orjson writer: same JSON as the SDK's writer, flushes only on non-RECORD messages."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json

from singer_sdk.singerlib.encoding import SimpleSingerWriter
from singer_sdk.singerlib.encoding.simple import RecordMessage, SchemaMessage, StateMessage
from tap_clevertap.writer import OrjsonSingerWriter


def test_record_line_equals_the_sdk_writer_output():
    message = RecordMessage(
        stream="events",
        record={"a": 1, "b": "é", "c": [1.5, None], "d": {"x": True}},
        time_extracted=dt.datetime(2026, 11, 19, 10, 0, 0, 123456, tzinfo=dt.UTC),
    )
    ours = json.loads(OrjsonSingerWriter().serialize_message(message))
    sdk = json.loads(SimpleSingerWriter().serialize_message(message))
    assert ours["record"] == sdk["record"]
    assert ours["type"] == sdk["type"] == "RECORD"
    assert dt.datetime.fromisoformat(ours["time_extracted"]) == dt.datetime.fromisoformat(
        sdk["time_extracted"]
    )


def test_keys_that_are_not_text_are_written_as_the_sdk_writes_them():
    # Records read from JSON have text keys; one built with numbers as keys still serializes.
    message = RecordMessage(stream="counts", record={"by_day": {20261119: 3, 20261120: 4}, "n": 7})
    ours = json.loads(OrjsonSingerWriter().serialize_message(message))
    sdk = json.loads(SimpleSingerWriter().serialize_message(message))
    assert ours["record"] == sdk["record"] == {"by_day": {"20261119": 3, "20261120": 4}, "n": 7}


def test_decimals_stay_exact_numbers():
    line = OrjsonSingerWriter().serialize_message(
        StateMessage(value={"x": decimal.Decimal("12.3400000000000000001")})
    )
    assert line == b'{"type":"STATE","value":{"x":12.3400000000000000001}}\n'


class _CountingBuffer(io.BufferedWriter):
    def __init__(self):
        self.sink = io.BytesIO()
        super().__init__(self.sink)
        self.flushes = 0

    def flush(self):
        self.flushes += 1
        super().flush()


class _Stdout:
    def __init__(self):
        self.buffer = _CountingBuffer()


def test_records_are_buffered_and_state_flushes(monkeypatch):
    out = _Stdout()
    monkeypatch.setattr("sys.stdout", out)
    writer = OrjsonSingerWriter()
    writer.write_message(RecordMessage(stream="s", record={"i": 1}))
    writer.write_message(RecordMessage(stream="s", record={"i": 2}))
    assert out.buffer.flushes == 0
    writer.write_message(SchemaMessage(stream="s", schema={"type": "object"}, key_properties=[]))
    writer.write_message(StateMessage(value={"bookmarks": {}}))
    assert out.buffer.flushes == 2
    lines = out.buffer.sink.getvalue().splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["RECORD", "RECORD", "SCHEMA", "STATE"]
