"""The one HTTP delivery engine both targets use.

Records are spread over ``max_concurrency`` lanes. A lane fills one batch while it sends the
previous one, so at most ``max_concurrency`` requests are in flight and the reader is only slowed
down when every lane is busy (backpressure, memory stays flat). Records with the same key (a user
id) always take the same lane during a run, so two updates of one profile can never overtake each
other.

Every item ends in exactly one of two places: delivered (the API confirmed it) or rejected (the API,
after bisection, refused it alone; its reason goes to ``on_rejected``). A batch that cannot be
delivered after the retry budget stops the run: ``wait_idle`` raises and the caller must not emit
STATE, so a re-run sends it again.

Network errors are of two kinds. One that stops a request before the server could read it (no
connection) is retried freely, and a batch that only ever failed that way is reported with
``on_unsent`` (the CleverTap journal forgets it). One where the request went out and no answer came
back (read timeout, broken answer, a reset after the whole request was sent) may have been
processed: ``unsafe_to_resend`` names the items of the batch a repeat could double (non-idempotent
CleverTap events); those are settled as rejected with rule ``delivery_uncertain`` instead of being
sent again, the rest are retried.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import typing as t
from dataclasses import dataclass, field

from clevertap_segment_common.delivery.retry import RetryPolicy
from clevertap_segment_common.delivery.transport import (
    BatchAnswer,
    Item,
    Rejection,
    Transport,
    Verdict,
)
from clevertap_segment_common.http import (
    CONNECTION_IDLE_SECONDS,
    NETWORK_ERRORS,
    ThreadSessions,
    maybe_processed,
    never_sent,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

_STOP = object()
UNCERTAIN_RULE = "delivery_uncertain"


class _UncertainItems(Exception):
    """Items of a batch that may have been processed and must not be sent again."""

    def __init__(self, indices: list[int], message: str) -> None:
        super().__init__(message)
        self.indices = indices
        self.message = message


class DeliveryError(RuntimeError):
    """A batch could not be delivered; nothing after the last STATE may be considered sent."""


@dataclass
class DeliveryStats:
    """Counters for progress logs and the run summary (mutated under the engine lock)."""

    submitted: int = 0
    delivered: int = 0
    rejected: int = 0
    requests: int = 0
    retries: int = 0
    splits: int = 0
    bytes_sent: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)

    def snapshot(self) -> dict[str, t.Any]:
        """A copy safe to serialize."""
        return {
            "submitted": self.submitted,
            "delivered": self.delivered,
            "rejected": self.rejected,
            "requests": self.requests,
            "retries": self.retries,
            "splits": self.splits,
            "bytes_sent": self.bytes_sent,
            "rejected_by_reason": dict(self.rejected_by_reason),
        }


class _Lane:
    """One sequential sender: a batch being filled and a queue of batches to send."""

    def __init__(self, first_batch: int) -> None:
        self.items: list[Item] = []
        self.size = 0
        self.limit = first_batch  # items in the batch being filled
        self.outbox: queue.Queue[list[Item] | object] = queue.Queue(maxsize=1)
        self.thread: threading.Thread | None = None


class DeliveryEngine:
    """Batches items, sends them concurrently with retries, settles every item exactly once."""

    def __init__(
        self,
        transport: Transport,
        *,
        max_concurrency: int,
        batch_items: int,
        on_delivered: Callable[[Sequence[Item]], None] | None = None,
        on_rejected: Callable[[Item, Rejection], None] | None = None,
        before_send: Callable[[Sequence[Item]], None] | None = None,
        on_unsent: Callable[[Sequence[Item]], None] | None = None,
        unsafe_to_resend: Callable[[Sequence[Item]], list[int]] | None = None,
        resend_hint: str = "load this record again",
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        connection_idle_seconds: float = CONNECTION_IDLE_SECONDS,
        logger: logging.Logger | None = None,
        progress_interval: float = 10.0,
    ) -> None:
        if max_concurrency < 1 or batch_items < 1:
            msg = (
                "max_concurrency and batch_items must be at least 1, got "
                f"{max_concurrency} and {batch_items}"
            )
            raise ValueError(msg)
        self.transport = transport
        self._resend_hint = resend_hint
        self.batch_items = min(batch_items, transport.max_items)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.logger = logger or logging.getLogger(__name__)
        self.stats = DeliveryStats()
        self._on_delivered = on_delivered
        self._on_rejected = on_rejected
        self._before_send = before_send
        self._on_unsent = on_unsent
        self._unsafe_to_resend = unsafe_to_resend
        self._lock = threading.Lock()
        # Lanes fill at the same pace; first batches of different sizes (1/n, 2/n, ... of a full
        # one) spread their sends over time instead of sending n requests at once and waiting.
        self._lanes = [
            _Lane(max(1, self.batch_items * (number + 1) // max_concurrency))
            for number in range(max_concurrency)
        ]
        self._next_lane = 0
        self._error: DeliveryError | None = None
        self._in_flight = 0
        self._progress_interval = progress_interval
        self._last_progress = time.monotonic()
        self._started = time.monotonic()
        self._sessions = ThreadSessions(transport.url, connection_idle_seconds)
        self._closed = False

    # -- producer side ---------------------------------------------------------------------------

    def submit(self, item: Item) -> None:
        """Queue one item; blocks while its lane is busy. Raises once any batch has failed."""
        if self._error is not None:
            raise self._error
        # orjson's bytes keep 4-8 KB of spare capacity whatever their length, and thousands of
        # items wait in the lanes: keep an exact-size copy (100k payloads: 27 MB instead of 412).
        payload = item.payload = memoryview(item.payload).tobytes()
        size = len(payload)
        key = item.key
        lane = self._lanes[hash(key) % len(self._lanes)] if key is not None else self._next_free()
        if lane.items and (
            len(lane.items) >= lane.limit or lane.size + size > self.transport.max_bytes
        ):
            self._dispatch(lane)
        lane.items.append(item)
        lane.size += size
        self.stats.submitted += 1
        if len(lane.items) >= lane.limit:
            self._dispatch(lane)
        if time.monotonic() - self._last_progress >= self._progress_interval:
            self._log_progress()

    def wait_idle(self) -> None:
        """Send partial batches and wait until every submitted item is settled."""
        for lane in self._lanes:
            if lane.items:
                self._dispatch(lane)
        for lane in self._lanes:
            if lane.thread is not None:
                lane.outbox.join()
        self._raise_if_failed()

    def settle_queued(self, timeout: float) -> bool:
        """Wait until every batch already queued is settled (False if ``timeout`` ran out).

        Safe in a signal handler: it takes no lock the interrupted producer might hold.
        """
        deadline = time.monotonic() + timeout
        while any(lane.outbox.unfinished_tasks for lane in self._lanes if lane.thread):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        """Stop the lane threads (after ``wait_idle`` for a clean shutdown)."""
        if self._closed:
            return
        self._closed = True
        for lane in self._lanes:
            if lane.thread is not None:
                lane.outbox.put(_STOP)
                lane.thread.join(timeout=5)

    def _next_free(self) -> _Lane:
        """Items without a key fill the lanes in turn."""
        lane = self._lanes[self._next_lane]
        if len(lane.items) + 1 >= lane.limit:
            self._next_lane = (self._next_lane + 1) % len(self._lanes)
        return lane

    def _dispatch(self, lane: _Lane) -> None:
        batch, lane.items, lane.size, lane.limit = lane.items, [], 0, self.batch_items
        if lane.thread is None:
            lane.thread = threading.Thread(target=self._run_lane, args=(lane,), daemon=True)
            lane.thread.start()
        while True:
            try:
                lane.outbox.put(batch, timeout=0.5)
                return
            except queue.Full:
                self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    # -- sender side -----------------------------------------------------------------------------

    def _run_lane(self, lane: _Lane) -> None:
        while True:
            batch = lane.outbox.get()
            try:
                if batch is _STOP:
                    return
                if self._error is None:
                    self._deliver(t.cast("list[Item]", batch))
            except DeliveryError as exc:
                with self._lock:
                    self._error = self._error or exc
            except Exception as exc:  # a bug must stop the run, not lose the batch silently
                self.logger.exception("Delivery lane crashed")
                with self._lock:
                    self._error = self._error or DeliveryError(f"delivery lane crashed: {exc!r}")
            finally:
                lane.outbox.task_done()

    def _deliver(self, items: list[Item]) -> None:
        try:
            answer = self._exchange(items)
        except _UncertainItems as uncertain:
            unsafe = set(uncertain.indices)
            reason = (
                f"sent to the API, which gave no answer ({uncertain.message}); it may have "
                "stored it, so it is not sent again to avoid a duplicate. If the API does not "
                f"have it, {self._resend_hint}."
            )
            listed = [items[i] for i in sorted(unsafe)]
            self._settle(listed, {n: Rejection(reason, UNCERTAIN_RULE) for n in range(len(listed))})
            rest = [item for i, item in enumerate(items) if i not in unsafe]
            if rest:
                self._deliver(rest)
            return
        if answer.verdict is Verdict.SPLIT:
            if len(items) == 1:
                self._settle(items, {0: self.transport.single_item_refusal(answer)})
                return
            with self._lock:
                self.stats.splits += 1
            middle = len(items) // 2
            self._deliver(items[:middle])
            self._deliver(items[middle:])
            return
        self._settle(items, answer.rejections)

    def _exchange(self, items: list[Item]) -> BatchAnswer:
        """Send until the answer is final (DONE or SPLIT); raise DeliveryError otherwise."""
        body, headers = self.transport.build_body(items)
        if self._before_send is not None:
            self._before_send(items)
        started = time.monotonic()
        # Optional transport attribute: a header telling the server which retry this is.
        retry_header: str | None = getattr(self.transport, "retry_count_header", None)
        attempt = failures = 0
        reached = False  # whether any attempt may have reached the server
        while True:
            attempt += 1
            with self._lock:
                self.stats.requests += 1
                self._in_flight += 1
            sent_headers = (
                {**headers, retry_header: str(attempt - 1)}
                if retry_header and attempt > 1
                else headers
            )
            try:
                response = self.transport.send(self._sessions.get(), body, sent_headers)
                answer = self.transport.read_answer(response, items)
            except NETWORK_ERRORS as exc:
                answer = BatchAnswer(Verdict.RETRY, f"network error: {type(exc).__name__}")
                reached = reached or not never_sent(exc)
                if self._unsafe_to_resend is not None and maybe_processed(exc):
                    unsafe = self._unsafe_to_resend(items)
                    if unsafe:
                        raise _UncertainItems(unsafe, answer.message) from None
            else:
                reached = True
            finally:
                with self._lock:
                    self._in_flight -= 1
            if answer.verdict in (Verdict.DONE, Verdict.SPLIT):
                with self._lock:
                    self.stats.bytes_sent += len(body)
                return answer
            if answer.verdict is Verdict.FAIL:
                msg = f"batch of {len(items)} record(s) refused: {answer.message}"
                raise DeliveryError(msg)
            elapsed = time.monotonic() - started
            # Server-provided waits do not use up the retry budget (analytics-python 2.4); they
            # are bounded by max_total_seconds only.
            if answer.retry_after is None:
                failures += 1
            if failures > self.retry.max_retries or elapsed > self.retry.max_total_seconds:
                if not reached and self._on_unsent is not None:
                    self._on_unsent(items)
                msg = (
                    f"batch of {len(items)} record(s) not delivered after {attempt} attempt(s) "
                    f"over {elapsed:.0f} s: {answer.message}"
                )
                raise DeliveryError(msg)
            wait = (
                answer.retry_after
                if answer.retry_after is not None
                else self.retry.backoff(failures)
            )
            with self._lock:
                self.stats.retries += 1
            self.logger.warning(
                "Retrying a batch of %d record(s) in %.1f s (attempt %d): %s",
                len(items),
                wait,
                attempt + 1,
                answer.message,
            )
            if wait:
                time.sleep(wait)

    def _settle(self, items: list[Item], rejections: dict[int, Rejection]) -> None:
        delivered = (
            [item for i, item in enumerate(items) if i not in rejections] if rejections else items
        )
        with self._lock:
            self.stats.delivered += len(delivered)
            self.stats.rejected += len(rejections)
            for rejection in rejections.values():
                by_reason = self.stats.rejected_by_reason
                by_reason[rejection.rule] = by_reason.get(rejection.rule, 0) + 1
            if self._on_rejected is not None:
                for index, rejection in sorted(rejections.items()):
                    self._on_rejected(items[index], rejection)
            if self._on_delivered is not None and delivered:
                self._on_delivered(delivered)

    def _log_progress(self) -> None:
        now = time.monotonic()
        self._last_progress = now
        stats = self.stats
        rate = stats.delivered / max(now - self._started, 1e-9)
        self.logger.info(
            "Progress: %d submitted, %d delivered, %d rejected, %d in flight, "
            "%d retries, %.0f records/s",
            stats.submitted,
            stats.delivered,
            stats.rejected,
            self._in_flight,
            stats.retries,
            rate,
        )
