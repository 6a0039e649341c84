"""A Singer message reader that turns a malformed input line into a rejection instead of a crash."""

from __future__ import annotations

import sys
import typing as t
from collections import Counter, defaultdict

import orjson
from singer_sdk.io_base import GenericSingerReader

if t.TYPE_CHECKING:
    from collections.abc import Callable


class TolerantSingerReader(GenericSingerReader[str]):
    """Reads JSON lines with orjson; lines that are not Singer messages go to ``on_bad_line``.

    Without a handler a bad line stops the run, as the SDK's own reader does.
    """

    def __init__(self) -> None:
        super().__init__()
        self.on_bad_line: Callable[[int, str, str], None] | None = None

    @property
    def default_input(self) -> t.IO[str]:
        """Standard input, as the SDK readers use."""
        return sys.stdin

    def deserialize_json(self, line: str) -> dict[str, t.Any]:
        """Parse one line; raise ValueError with a readable reason when it is not an object."""
        value = orjson.loads(line)
        if not isinstance(value, dict):
            msg = f"expected a JSON object, got {type(value).__name__}"
            raise TypeError(msg)
        return value

    def process_lines(
        self,
        file_input: t.IO[str] | None,
        callbacks: dict[str, Callable[[dict[str, t.Any]], None]],
    ) -> t.Counter[str]:
        """Dispatch every line to its callback; bad lines are reported with their line number."""
        stats: dict[t.Any, int] = defaultdict(int)
        loads = orjson.loads
        for number, line in enumerate(file_input or self.default_input, start=1):
            try:
                message = loads(line)
            except orjson.JSONDecodeError as exc:
                if line.strip():  # blank lines are skipped, as the SDK's reader does
                    self._bad_line(number, line, f"line is not valid JSON: {exc}")
                continue
            if message.__class__ is not dict:
                reason = f"expected a JSON object, got {type(message).__name__}"
                self._bad_line(number, line, f"line is not valid JSON: {reason}")
                continue
            kind = message.get("type")
            callback = callbacks.get(kind) if kind.__class__ is str else None
            if callback is None:
                self._bad_line(
                    number, line, "line is not a Singer message (missing or unknown `type`)"
                )
                continue
            callback(message)
            stats[kind] += 1
        return Counter(**stats)

    def _bad_line(self, number: int, line: str, reason: str) -> None:
        if self.on_bad_line is None:
            msg = f"Input line {number}: {reason}. Fix the tap or the file feeding this target."
            raise ValueError(msg)
        self.on_bad_line(number, line, reason)
