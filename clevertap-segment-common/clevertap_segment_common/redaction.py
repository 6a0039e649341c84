"""Keep passcodes and write keys out of logs, errors and files."""

from __future__ import annotations

import base64
import logging
import threading
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterable

MASK = "***"


class SecretScrubber:
    """Replaces every known secret (and its HTTP Basic encoding) with a mask."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._values: list[str] = []
        self._bytes: list[bytes] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str | None]) -> None:
        """Mask these secrets too."""
        values = set(self._values)
        for secret in secrets:
            if secret and len(secret) >= 4:
                values.add(secret)
                values.add(base64.b64encode(f"{secret}:".encode()).decode())
                values.add(base64.b64encode(secret.encode()).decode())
        self._use(values)

    def include(self, other: SecretScrubber) -> None:
        """Mask everything the other scrubber masks too."""
        self._use({*self._values, *other._values})

    def _use(self, values: set[str]) -> None:
        # Longest first so a secret that contains another is masked whole.
        self._values = sorted(values, key=len, reverse=True)
        self._bytes = [v.encode() for v in self._values]

    def __bool__(self) -> bool:
        return bool(self._values)

    def scrub(self, text: str) -> str:
        """Mask secrets in a string."""
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def scrub_bytes(self, data: bytes) -> bytes:
        """Mask secrets in bytes."""
        for value in self._bytes:
            if value in data:
                data = data.replace(value, MASK.encode())
        return data


class ScrubbingFilter(logging.Filter):
    """A logging filter that masks secrets in the final message, including exception text."""

    def __init__(self, scrubber: SecretScrubber) -> None:
        super().__init__()
        self.scrubber = scrubber

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        message = record.getMessage()
        scrubbed = self.scrubber.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.scrubber.scrub(text)
            record.exc_info = None
        return True


#: One filter per process, masking the secrets of every target created in it (several targets
#: can run in one process: tests, orchestrators), never only the first one's.
_PROCESS_FILTER = ScrubbingFilter(SecretScrubber())
_PROCESS_FILTER_LOCK = threading.Lock()


def install_log_scrubbing(scrubber: SecretScrubber) -> None:
    """Mask these secrets in every record the root logger's handlers (the SDK's) write."""
    if not scrubber:
        return
    with _PROCESS_FILTER_LOCK:
        _PROCESS_FILTER.scrubber.include(scrubber)
        root = logging.getLogger()
        for handler in root.handlers:
            if _PROCESS_FILTER not in handler.filters:
                handler.addFilter(_PROCESS_FILTER)
        if _PROCESS_FILTER not in root.filters:
            root.addFilter(_PROCESS_FILTER)
