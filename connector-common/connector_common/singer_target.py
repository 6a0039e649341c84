"""What target-segment and target-clevertap share on top of the SDK: delivery, rejects, summary.

The SDK emits STATE at ``drain_all`` right after calling every sink's ``process_batch``; our sinks
hand records to the delivery engine as they arrive and ``process_batch`` waits until everything
handed over so far is confirmed or rejected. So STATE is never ahead of delivery, while uploads
overlap with reading. Sinks never report themselves full: the engine applies backpressure instead,
and the SDK still drains (and emits STATE) every few minutes and at the end of input.
"""

from __future__ import annotations

import abc
import threading
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator

from connector_common.delivery import DeliveryEngine, DeliveryError, Item, Rejection, RetryPolicy
from connector_common.property_names import PropertyNameNormalizer
from connector_common.redaction import SecretScrubber, install_log_scrubbing
from connector_common.rejected_records import RejectedRecordsWriter
from connector_common.singer_reader import TolerantSingerReader

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from connector_common.delivery import Transport

MELTANO_TEST_STREAM = "meltano_test_stream"


def common_target_settings(
    *,
    plugin: str,
    default_concurrency: int,
    max_concurrency: int,
    default_batch_rows: int,
    max_batch_rows: int,
) -> list[th.Property[t.Any]]:
    """Settings with the same name and meaning in both targets."""
    return [
        th.Property(
            "property_names",
            th.StringType,
            default="none",
            allowed_values=["none", "segment", "lodash", "to-snake-case", "go-snakecase"],
            title="Property name convention",
            description=(
                "How property and trait names are rewritten before loading. `none` keeps them as "
                "they are; `segment` reproduces Segment's CleverTap destination (lodash snakeCase: "
                "'Industry Of Traits' -> 'industry_of_traits')."
            ),
        ),
        th.Property(
            "normalize_nested_keys",
            th.BooleanType,
            default=False,
            description="Also rewrite keys inside nested objects (property_names other than none).",
        ),
        th.Property(
            "collision_policy",
            th.StringType,
            default="error",
            allowed_values=["error", "first_wins", "last_wins"],
            description=(
                "When two names in one record normalize to the same key: `error` rejects the "
                "record naming both keys (nothing lost silently); `first_wins`/`last_wins` keep "
                "one value."
            ),
        ),
        th.Property(
            "max_concurrency",
            th.IntegerType,
            default=default_concurrency,
            description=f"Requests in flight at once (1-{max_concurrency}).",
        ),
        th.Property(
            "batch_size_rows",
            th.IntegerType,
            default=default_batch_rows,
            description=f"Records per API request (1-{max_batch_rows}).",
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            description="Validate and map everything but store nothing at the vendor.",
        ),
        th.Property(
            "rejected_records_path",
            th.StringType,
            default=f"output/{plugin}-rejected.jsonl",
            description="JSONL file receiving every rejected record with its reason.",
        ),
        th.Property(
            "on_rejected",
            th.StringType,
            default="continue",
            allowed_values=["continue", "fail"],
            description=(
                "`continue` writes rejected records to rejected_records_path and loads the rest; "
                "`fail` stops the run at the first rejected record (after writing it there)."
            ),
        ),
        th.Property(
            "summary_path",
            th.StringType,
            description="Optional JSON file receiving the run summary (counts by outcome).",
        ),
        th.Property(
            "request_timeout",
            th.NumberType,
            default=60,
            description="Seconds to wait for one API response.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=10,
            description="Retries of one batch on network errors, 429 and 5xx before the run fails.",
        ),
    ]


class RecordRejectedError(Exception):
    """Raised by a sink's ``prepare`` when a record breaks a rule; it goes to the rejects output."""

    def __init__(
        self,
        rule: str,
        reason: str,
        *,
        field: str | None = None,
        code: int | str | None = None,
    ) -> None:
        super().__init__(reason)
        self.rejection = Rejection(reason=reason, rule=rule, code=code, field=field)


@dataclass
class RunSummary:
    """What happened to every record this run: received = delivered + rejected + skipped."""

    received: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, bucket: dict[str, int], key: str, n: int = 1) -> None:
        """Increment a counter (lanes and the reader update counters concurrently)."""
        with self._lock:
            bucket[key] = bucket.get(key, 0) + n


class _RejectingValidator(BaseJSONSchemaValidator):
    """Schema validation that reports instead of raising, so invalid records become rejections."""

    def __init__(self, inner: BaseJSONSchemaValidator, sink: DeliverySink) -> None:
        super().__init__(inner.schema)
        self._inner = inner
        self._sink = sink

    def validate(self, record: dict[str, t.Any]) -> None:
        try:
            self._inner.validate(record)
        except InvalidRecord as exc:
            self._sink.mark_invalid(record, exc.error_message)


class DeliveryTarget(Target):
    """Base of our HTTP targets: owns the engine, the rejects output and the summary."""

    message_reader_class = TolerantSingerReader
    secret_settings: t.ClassVar[tuple[str, ...]] = ()
    max_concurrency_limit: t.ClassVar[int] = 15
    max_batch_rows: t.ClassVar[int] = 1000

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.scrubber = SecretScrubber(self.config.get(name) for name in self.secret_settings)
        install_log_scrubbing(self.scrubber)
        self.summary = RunSummary()
        self._engine: DeliveryEngine | None = None
        self._rejects: RejectedRecordsWriter | None = None
        self._checkpoint_lock = threading.Lock()
        self._fail_on_reject = self.config.get("on_rejected", "continue") == "fail"
        self._reject_error: str | None = None
        self.normalizer = PropertyNameNormalizer(
            strategy=self.config.get("property_names", "none"),
            normalize_nested=bool(self.config.get("normalize_nested_keys", False)),
            collision_policy=self.config.get("collision_policy", "error"),
        )
        if isinstance(self.message_reader, TolerantSingerReader):
            self.message_reader.on_bad_line = self._reject_line

    # -- to implement --------------------------------------------------------------------------

    @abc.abstractmethod
    def build_transport(self) -> Transport:
        """The vendor endpoint records are delivered to."""

    def on_delivered(self, items: Sequence[Item]) -> None:
        """Called (under a lock) once the vendor confirmed these items."""

    def before_send(self, items: Sequence[Item]) -> None:
        """Called right before a batch goes out (the CleverTap journal marks it pending)."""

    def extra_summary(self) -> dict[str, t.Any]:
        """Target-specific numbers for the run summary."""
        return {}

    # -- delivery ------------------------------------------------------------------------------

    @property
    def rejects(self) -> RejectedRecordsWriter:
        """The rejected-records output, opened on first use."""
        if self._rejects is None:
            self._rejects = RejectedRecordsWriter(
                self.config.get("rejected_records_path") or f"output/{self.name}-rejected.jsonl",
                self.scrubber,
            )
        return self._rejects

    @property
    def engine(self) -> DeliveryEngine:
        """The delivery engine, started on first use."""
        if self._engine is None:
            concurrency = int(self.config.get("max_concurrency") or 1)
            batch_rows = int(self.config.get("batch_size_rows") or self.max_batch_rows)
            if not 1 <= concurrency <= self.max_concurrency_limit:
                msg = (
                    f"max_concurrency must be between 1 and {self.max_concurrency_limit}, "
                    f"got {concurrency}."
                )
                raise ValueError(msg)
            if not 1 <= batch_rows <= self.max_batch_rows:
                msg = f"batch_size_rows must be 1-{self.max_batch_rows}, got {batch_rows}."
                raise ValueError(msg)
            self._engine = DeliveryEngine(
                self.build_transport(),
                max_concurrency=concurrency,
                batch_items=batch_rows,
                on_delivered=self.on_delivered,
                on_rejected=self._on_rejected,
                before_send=self.before_send,
                retry=RetryPolicy(max_retries=int(self.config.get("max_retries", 10))),
                timeout=float(self.config.get("request_timeout", 60)),
                logger=self.logger,
            )
        return self._engine

    def submit(self, item: Item) -> None:
        """Hand one prepared record to the engine."""
        self._raise_if_rejected()
        self.engine.submit(item)

    def reject(self, stream: str, record: t.Any, rejection: Rejection) -> None:
        """Write a record that broke a local rule to the rejects output."""
        self._on_rejected_record(stream, record, rejection)
        self._raise_if_rejected()

    def checkpoint(self) -> None:
        """Block until everything handed over is settled and durable; raise if anything failed."""
        with self._checkpoint_lock:
            if self._engine is not None:
                try:
                    self._engine.wait_idle()
                except DeliveryError as exc:
                    msg = (
                        f"{exc}. No STATE was emitted past the undelivered records; "
                        "re-run to resume."
                    )
                    raise DeliveryError(self.scrubber.scrub(msg)) from None
            if self._rejects is not None:
                self._rejects.flush()
            self._raise_if_rejected()

    def _on_rejected(self, item: Item, rejection: Rejection) -> None:
        self._on_rejected_record(item.stream, item.record, rejection)

    def _on_rejected_record(self, stream: str, record: t.Any, rejection: Rejection) -> None:
        self.rejects.write(
            stream=stream,
            record=record,
            rule=rejection.rule,
            reason=rejection.reason,
            field=rejection.field,
            code=rejection.code,
        )
        self.summary.count(self.summary.rejected, rejection.rule)
        if self._fail_on_reject and self._reject_error is None:
            self._reject_error = (
                f"A record of stream '{stream}' was rejected "
                f"({rejection.rule}: {rejection.reason}). "
                f"It is in {self.rejects.path}. on_rejected is 'fail', so the run stops here; fix "
                "the record or set on_rejected to 'continue'."
            )

    def _raise_if_rejected(self) -> None:
        if self._reject_error is not None:
            if self._rejects is not None:
                self._rejects.close()  # the rejected record must be on disk before the run stops
            raise RuntimeError(self._reject_error)

    def _reject_line(self, number: int, line: str, reason: str) -> None:
        self.summary.count(self.summary.received, "<unparseable>")
        self._on_rejected_record(
            "<unknown>",
            {"line_number": number, "line": line[:10_000]},
            Rejection(reason=reason, rule="malformed_input_line"),
        )
        self._raise_if_rejected()

    # -- end of run ----------------------------------------------------------------------------

    def process_endofpipe(self) -> None:
        """Drain (the SDK emits the final STATE after our checkpoint), then report."""
        try:
            super().process_endofpipe()
        finally:
            if self._engine is not None:
                self._engine.close()
            if self._rejects is not None:
                self._rejects.close()
        self.write_summary()

    def summary_dict(self) -> dict[str, t.Any]:
        """Every counter of the run in one JSON-serializable mapping."""
        delivery = self._engine.stats.snapshot() if self._engine is not None else {}
        summary = self.summary
        return {
            "target": self.name,
            "dry_run": bool(self.config.get("dry_run", False)),
            "received": sum(summary.received.values()),
            "received_by_stream": dict(summary.received),
            "delivered": int(delivery.get("delivered", 0)),
            "rejected": sum(summary.rejected.values()),
            "rejected_by_rule": dict(summary.rejected),
            "skipped": sum(summary.skipped.values()),
            "skipped_by_reason": dict(summary.skipped),
            "rejected_records_path": str(self._rejects.path) if self._rejects else None,
            "requests": delivery.get("requests", 0),
            "retries": delivery.get("retries", 0),
            "batch_splits": delivery.get("splits", 0),
            "property_names": self.normalizer.stats.snapshot(),
            "seconds": round(time.monotonic() - self.summary.started, 3),
            **self.extra_summary(),
        }

    def write_summary(self) -> None:
        """Log the summary, and save it when ``summary_path`` is set."""
        summary = self.summary_dict()
        text = self.scrubber.scrub(orjson.dumps(summary).decode())
        self.logger.info("Run summary: %s", text)
        if path := self.config.get("summary_path"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text + "\n", encoding="utf-8")


class DeliverySink(BatchSink):
    """Maps each record to one API item (or a rejection) and hands it to the target's engine."""

    def __init__(
        self,
        target: DeliveryTarget,
        stream_name: str,
        schema: dict[str, t.Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        self.target = target
        self._invalid: str | None = None
        super().__init__(target, stream_name, schema, key_properties)
        self.setup_mapping()

    @property
    def is_full(self) -> bool:
        """Never: the engine batches and applies backpressure; see the module docstring."""
        return False

    @property
    def include_sdc_metadata_properties(self) -> bool:
        """Vendor APIs get the record's own fields only."""
        return False

    def setup_mapping(self) -> None:
        """Prepare per-stream mapping state (called once per sink)."""

    @abc.abstractmethod
    def prepare(self, record: dict[str, t.Any]) -> Item | None:
        """Map a record to an API item; None to skip it; raise RecordRejectedError to reject it."""

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """Schema violations become rejections with the validator's message."""
        inner = super().get_validator()
        return None if inner is None else _RejectingValidator(inner, self)

    def mark_invalid(self, record: dict[str, t.Any], message: str) -> None:
        """Remember why the record being processed breaks its schema."""
        _ = record
        self._invalid = message

    def preprocess_record(
        self, record: dict[str, t.Any], context: dict[str, t.Any]
    ) -> dict[str, t.Any]:
        """Turn a missing key property into a rejection rather than a crash of the whole run."""
        missing = [key for key in self.key_properties if key not in record]
        if missing and self._invalid is None:
            self._invalid = (
                f"missing key propert{'y' if len(missing) == 1 else 'ies'} "
                f"{', '.join(repr(k) for k in missing)} declared in the stream's SCHEMA"
            )
        if missing:
            record = {**record, **dict.fromkeys(missing)}
        return record

    def process_record(self, record: dict[str, t.Any], context: dict[str, t.Any]) -> None:
        """Route one record: ignored, rejected, or submitted for delivery."""
        summary = self.target.summary
        summary.count(summary.received, self.stream_name)
        if self.stream_name == MELTANO_TEST_STREAM:
            summary.count(summary.skipped, "meltano_test_stream")
            return
        if self._invalid is not None:
            reason, self._invalid = self._invalid, None
            self.target.reject(
                self.stream_name,
                record,
                Rejection(
                    reason=f"record does not match its stream schema: {reason}", rule="schema"
                ),
            )
            return
        try:
            item = self.prepare(record)
        except RecordRejectedError as exc:
            self.target.reject(self.stream_name, record, exc.rejection)
            return
        if item is None:
            return
        self.target.submit(item)

    def process_batch(self, context: dict[str, t.Any]) -> None:
        """Called by the SDK right before it emits STATE: wait for confirmation."""
        _ = context
        self.target.checkpoint()
