"""orjson serialization for records whose keys are almost always text.

Records read from JSON have text keys; orjson's ``OPT_NON_STR_KEYS`` costs on every dict (~8 us on
a 10 KB record, ~1.3 us on a Segment message) but is needed only when a key is a number, date or
the like. So serialize without it and retry with it when orjson refuses a key.
"""

from __future__ import annotations

import typing as t

import orjson


def dumps(value: t.Any, *, option: int, default: t.Callable[[t.Any], t.Any] | None = None) -> bytes:
    """``orjson.dumps``; keys that are not text are written as text (as json.dumps writes them)."""
    try:
        return orjson.dumps(value, default=default, option=option)
    except orjson.JSONEncodeError:
        return orjson.dumps(value, default=default, option=option | orjson.OPT_NON_STR_KEYS)
