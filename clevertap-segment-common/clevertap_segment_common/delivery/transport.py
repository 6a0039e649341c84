"""What a vendor API must tell the delivery engine: how to build a request and read its answer."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from enum import Enum

if t.TYPE_CHECKING:
    import requests


@dataclass(slots=True)
class Item:
    """One record on its way to the API: its serialized payload and who it came from."""

    payload: bytes
    stream: str
    record: dict[str, t.Any]
    key: str | None = None
    meta: dict[str, t.Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Serialized size in bytes."""
        return len(self.payload)


class Verdict(Enum):
    """What to do with a whole batch after one HTTP exchange."""

    DONE = "done"  # every item is settled (delivered or rejected, see BatchAnswer)
    RETRY = "retry"  # transient: send the same batch again later
    SPLIT = "split"  # the batch as a whole was refused: bisect to isolate the bad item(s)
    FAIL = "fail"  # permanent for the whole batch: stop the run, nothing is rejected silently


@dataclass(slots=True)
class Rejection:
    """Why the API (or a local rule) refused one item."""

    reason: str
    rule: str
    code: int | str | None = None
    field: str | None = None
    #: More fields for the rejected-records line (what a later check needs, e.g. the upload).
    details: dict[str, t.Any] | None = None


@dataclass(slots=True)
class BatchAnswer:
    """The engine-facing reading of an HTTP answer."""

    verdict: Verdict
    message: str = ""
    retry_after: float | None = None
    rejections: dict[int, Rejection] = field(default_factory=dict)  # 0-based index -> why


class Transport(t.Protocol):
    """A vendor's batch endpoint. Implementations must be safe to call from several threads.

    Optional attribute ``retry_count_header`` (str): when set, the engine adds that header with the
    retry number (1, 2, ...) to every retry of a batch (Segment's ``X-Retry-Count``).
    """

    url: str  #: where batches go (proxy settings are chosen for it)
    max_items: int
    max_bytes: int

    def build_body(self, items: t.Sequence[Item]) -> tuple[bytes, dict[str, str]]:
        """Request body and extra headers for one batch."""
        ...

    def send(
        self, session: requests.Session, body: bytes, headers: dict[str, str]
    ) -> requests.Response:
        """POST the body; may raise ``requests`` exceptions."""
        ...

    def read_answer(self, response: requests.Response, items: t.Sequence[Item]) -> BatchAnswer:
        """Classify an HTTP response for the whole batch and, when DONE, per item."""
        ...

    def single_item_refusal(self, answer: BatchAnswer) -> Rejection:
        """How to report an item that is refused on its own after bisection."""
        ...
