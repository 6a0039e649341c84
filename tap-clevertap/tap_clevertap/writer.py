"""Singer message writer on orjson: one serialisation per record and no flush per record."""

from __future__ import annotations

import datetime as dt
import decimal
import sys
import typing as t

import orjson
from clevertap_segment_common import json_text
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage

_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z


def _default(value: t.Any) -> t.Any:
    """Values orjson does not know: Decimals stay exact JSON numbers, the rest become strings."""
    if isinstance(value, decimal.Decimal):
        return orjson.Fragment(str(value)) if value.is_finite() else None
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


class OrjsonSingerWriter(GenericSingerWriter[bytes, Message]):
    """Writes each message as one JSON line to stdout.

    RECORD lines stay in the stdout buffer; every other message (SCHEMA, STATE, ...) flushes, so a
    STATE never reaches the target before the records it covers, and a killed tap loses only
    records whose STATE was never written.
    """

    def serialize_message(self, message: Message) -> bytes:
        """Serialise one message to a JSON line (bytes, newline included)."""
        if isinstance(message, RecordMessage):
            payload: dict[str, t.Any] = {
                "type": "RECORD",
                "stream": message.stream,
                "record": message.record,
            }
            if message.version is not None:
                payload["version"] = message.version
            if message.time_extracted is not None:
                payload["time_extracted"] = message.time_extracted
        else:
            payload = message.to_dict()
        return json_text.dumps(payload, default=_default, option=_OPTIONS)

    def write_message(self, message: Message) -> None:
        """Write one message; flush unless it is a RECORD."""
        line = self.serialize_message(message)
        out = sys.stdout
        buffer = getattr(out, "buffer", None)
        if buffer is None:
            out.write(line.decode("utf-8"))
        else:
            buffer.write(line)
        if not isinstance(message, RecordMessage):
            (buffer or out).flush()
