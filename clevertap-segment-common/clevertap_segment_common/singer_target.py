"""What target-segment and target-clevertap share on top of the SDK: delivery, rejects, summary.

The SDK emits STATE at ``drain_all`` right after calling every sink's ``process_batch``; our sinks
hand records to the delivery engine as they arrive and ``process_batch`` waits until everything
handed over so far is confirmed or rejected. So STATE is never ahead of delivery, while uploads
overlap with reading. Sinks never report themselves full: the engine applies backpressure instead,
and the SDK drains (and emits STATE) every ``state_interval_seconds`` and at the end of input.

The SDK's private hooks are reached only through clevertap_segment_common.sdk_compat:

* ``take_record`` gives plain streams (no stream maps, no flattening: what almost every run has)
  a direct path to their sink. It does the SDK's per-record steps that apply (metadata columns
  removed, validation, date parsing, key-property check, tallies) and skips the ones that cannot
  apply there (a copy of the record, the identity transform, an empty context, a DEBUG log line
  per record). The record-count metric and the record-age check (which drains and emits STATE)
  run at most every second instead of per record. Other streams take the SDK's own path.
* ``parse_dates`` parses only the fields the schema types as date-like (listed once per stream)
  and turns a value that does not parse into a rejection: the SDK raises, which stops the whole
  run on one bad record.
* ``set_drain_interval`` sets how often the SDK drains and emits STATE while input keeps coming
  (``state_interval_seconds``; the SDK's constant is 5 minutes).
* ``on_signal`` (SIGTERM/SIGINT): the SDK drains and emits STATE and exits 0, but a batch the
  interrupted main thread was handing to a lane is in no sink then, so that STATE could pass
  records never sent. Ours unwinds the main thread (raising where it was, so the locks it held
  are released), then in ``invoke`` lets the batches already queued finish, emits no STATE and
  exits 128 + the signal number; a re-run resumes from the last STATE.
* ``state_allowed`` is false in ``dry_run``: nothing was stored, so a bookmark must not move.
"""

from __future__ import annotations

import abc
import gc
import signal
import sys
import threading
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import click
import orjson
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.mapper import SameRecordTransform

from clevertap_segment_common.delivery import (
    DeliveryEngine,
    DeliveryError,
    Item,
    Rejection,
    RetryPolicy,
)
from clevertap_segment_common.delivery_sink import DeliverySink
from clevertap_segment_common.property_names import PropertyNameNormalizer
from clevertap_segment_common.redaction import SecretScrubber, install_log_scrubbing
from clevertap_segment_common.rejected_records import RejectedRecordsWriter
from clevertap_segment_common.sdk_compat import HookedTarget
from clevertap_segment_common.singer_reader import TolerantSingerReader
from clevertap_segment_common.target_errors import ConnectionCheckError
from clevertap_segment_common.target_settings import common_setting_errors

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from clevertap_segment_common.delivery import Transport
    from clevertap_segment_common.sdk_compat import ConfigInput
    from clevertap_segment_common.target_settings import DeliveryLimits


#: How long the reading thread may keep the GIL while a delivery lane waits for it. A lane waits
#: after every socket and SQLite call; with Python's 5 ms, a 1,000-record request at 100 ms
#: latency took about 170 ms and its journal write 30 ms, because the reader (busy with records)
#: kept the GIL. With 0.2 ms an hourly-sized run (10,000 records, 100 ms) takes 14 % less time;
#: the extra switches cost 0-6 µs of CPU per record when lanes are busy (docs/benchmarks.md).
GIL_SWITCH_SECONDS = 0.0002


@dataclass
class RunSummary:
    """What happened to every record this run: received = delivered + rejected + skipped."""

    received: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    #: Fields left out of records that were delivered without them, by rule.
    dropped_fields: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, bucket: dict[str, int], key: str, n: int = 1) -> None:
        """Increment a counter (lanes and the reader update counters concurrently)."""
        with self._lock:
            bucket[key] = bucket.get(key, 0) + n

    def receive(self, stream: str) -> None:
        """Count a record read; only the reader thread writes ``received``, so no lock."""
        received = self.received
        received[stream] = received.get(stream, 0) + 1


class _Terminated(BaseException):
    """A termination signal, raised where the main thread was so that it releases its locks."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class DeliveryTarget(HookedTarget):
    """Base of our HTTP targets: owns the engine, the rejects output and the summary."""

    message_reader_class = TolerantSingerReader
    secret_settings: t.ClassVar[tuple[str, ...]] = ()
    limits: t.ClassVar[DeliveryLimits]
    #: How a user sends a delivery_uncertain record again (the end of its rejection reason).
    resend_hint: t.ClassVar[str] = "load this record again"
    #: Help of the ``--test`` option.
    connection_test_help: t.ClassVar[str] = (
        "Check the connection settings with the vendor and exit."
    )

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.scrubber = SecretScrubber(self.config.get(name) for name in self.secret_settings)
        install_log_scrubbing(self.scrubber)
        if kwargs.get("validate_config", True):
            errors = [self.scrubber.scrub(error) for error in self.setting_errors()]
            if errors:
                raise ConfigValidationError(" ".join(errors), errors=errors)
        interval = float(self.config["state_interval_seconds"])
        self.set_drain_interval(interval)
        self.summary = RunSummary()
        self._engine: DeliveryEngine | None = None
        self._rejects: RejectedRecordsWriter | None = None
        self._checkpoint_lock = threading.Lock()
        self._fail_on_reject = self.config["on_rejected"] == "fail"
        self._reject_error: str | None = None
        self._direct_sinks: dict[str, DeliverySink] = {}
        # Sinks only wait for the one engine when drained: draining them in parallel (the SDK's
        # default, through joblib) buys nothing.
        self.max_parallelism = 1
        self._housekeeping_every = min(1.0, interval / 10)
        self._next_housekeeping = time.monotonic()
        self.normalizer = self.build_normalizer()
        if isinstance(self.message_reader, TolerantSingerReader):
            self.message_reader.on_bad_line = self._reject_line

    # -- to implement --------------------------------------------------------------------------

    @abc.abstractmethod
    def build_transport(self) -> Transport:
        """The vendor endpoint records are delivered to."""

    @abc.abstractmethod
    def check_connection(self) -> str:
        """Ask the vendor whether the settings work (``--test``).

        Returns what the vendor confirmed; raises ConnectionCheckError saying what to fix.
        """

    def setting_errors(self) -> list[str]:
        """Everything wrong with the settings beyond the JSON schema (extend with ``super()``)."""
        return common_setting_errors(self.config, self.limits)

    def build_normalizer(self) -> PropertyNameNormalizer:
        """The property-name normalizer every sink shares, from the settings."""
        return PropertyNameNormalizer(
            strategy=self.config["property_names"],
            normalize_nested=bool(self.config["normalize_nested_keys"]),
            trim_values=bool(self.config.get("trim_values")),
            collision_policy=self.config["collision_policy"],
        )

    def before_listen(self) -> None:
        """Checks to run on the command line before any input is read (default: none)."""

    def on_delivered(self, items: Sequence[Item]) -> None:
        """Called (under a lock) once the vendor confirmed these items."""

    def on_vendor_rejected(self, item: Item, rejection: Rejection) -> None:
        """Called (under a lock) once the vendor refused an item; it is in the rejects output."""

    def before_send(self, items: Sequence[Item]) -> None:
        """Called right before a batch goes out (the CleverTap journal marks it pending)."""

    def on_unsent(self, items: Sequence[Item]) -> None:
        """Called when a batch failed for good without ever reaching the vendor."""

    def unsafe_to_resend(self, items: Sequence[Item]) -> list[int]:
        """Indices of items a repeat could double, after a send that got no answer (none)."""
        _ = items
        return []

    def extra_summary(self) -> dict[str, t.Any]:
        """Target-specific numbers for the run summary."""
        return {}

    # -- reading: the direct path for plain streams (see the module docstring) ------------------

    def after_schema(self, stream: str) -> None:
        """Decide whether the stream takes the direct path."""
        self._direct_sinks.pop(stream, None)
        maps = self.mapper.stream_maps.get(stream) or []
        if (
            len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
            and maps[0].stream_alias == stream
        ):
            sink = self.get_sink(stream)
            if isinstance(sink, DeliverySink):
                self._direct_sinks[stream] = sink

    def take_record(self, message: dict[str, t.Any]) -> bool:
        """One RECORD: straight to its sink for plain streams, else through the SDK."""
        stream = message.get("stream")
        record = message.get("record")
        sink = self._direct_sinks.get(stream) if stream.__class__ is str else None
        if sink is None or record.__class__ is not dict:
            return False
        sink.receive(t.cast("dict[str, t.Any]", record))
        if time.monotonic() >= self._next_housekeeping:
            self._housekeeping()
        return True

    def _housekeeping(self) -> None:
        """Per-record bookkeeping of the SDK, done at most every second on the direct path."""
        for sink in self._direct_sinks.values():
            sink.report_record_count()
        self._next_housekeeping = time.monotonic() + self._housekeeping_every
        self.drain_if_due()

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
            self._engine = DeliveryEngine(
                self.build_transport(),
                max_concurrency=int(self.config["max_concurrency"]),
                batch_items=int(self.config["batch_size_rows"]),
                on_delivered=self.on_delivered,
                on_rejected=self._vendor_rejected,
                before_send=self.before_send,
                on_unsent=self.on_unsent,
                unsafe_to_resend=self.unsafe_to_resend,
                resend_hint=self.resend_hint,
                retry=RetryPolicy(max_retries=int(self.config["max_retries"])),
                timeout=float(self.config["request_timeout"]),
                connection_idle_seconds=float(self.config["connection_idle_seconds"]),
                logger=self.logger,
            )
        return self._engine

    def submit(self, item: Item) -> None:
        """Hand one prepared record to the engine."""
        if self._reject_error is not None:
            self._raise_if_rejected()
        self.engine.submit(item)

    def reject(self, stream: str, record: t.Any, rejection: Rejection) -> None:
        """Write a record that broke a local rule to the rejects output."""
        self._write_reject(stream, record, rejection)
        self._raise_if_rejected()

    def drop_field(
        self, stream: str, record_key: str | None, dropped: Rejection, value: t.Any
    ) -> None:
        """Report a field left out of a record that is delivered without it."""
        self.rejects.write_dropped_field(
            stream=stream,
            record_key=record_key,
            rule=dropped.rule,
            reason=dropped.reason,
            field=dropped.field,
            value=value,
        )
        self.summary.count(self.summary.dropped_fields, dropped.rule)

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

    def _vendor_rejected(self, item: Item, rejection: Rejection) -> None:
        details = self.rejection_details(item, rejection)
        if details:
            rejection.details = {**(rejection.details or {}), **details}
        self._write_reject(item.stream, item.record, rejection)
        self.on_vendor_rejected(item, rejection)

    def rejection_details(self, item: Item, rejection: Rejection) -> dict[str, t.Any] | None:
        """Fields added to the rejected-records line of an item the API refused (none here)."""
        _ = item, rejection
        return None

    def _write_reject(self, stream: str, record: t.Any, rejection: Rejection) -> None:
        self.rejects.write(
            stream=stream,
            record=record,
            rule=rejection.rule,
            reason=rejection.reason,
            field=rejection.field,
            code=rejection.code,
            details=rejection.details,
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
        self.summary.receive("<unparseable>")
        self._write_reject(
            "<unknown>",
            {"line_number": number, "line": line[:10_000]},
            Rejection(reason=reason, rule="malformed_input_line"),
        )
        self._raise_if_rejected()

    # -- end of run ----------------------------------------------------------------------------

    def state_allowed(self) -> bool:
        """No STATE in a dry run (see the module docstring)."""
        if self.config.get("dry_run"):
            self.logger.info("dry_run: STATE not emitted (nothing was stored)")
            return False
        return True

    def on_signal(self, signum: int) -> None:
        """Unwind the main thread first (see ``stop_after_signal``): it may hold a lock."""
        raise _Terminated(signum)

    def stop_after_signal(self, signum: int) -> t.NoReturn:
        """Let the queued uploads finish, emit no STATE, exit 128 + signum (module docstring).

        Runs after the interrupted main thread has unwound: waiting inside the signal handler
        deadlocked when the main thread held a lock (journal, engine, rejects) that a finishing
        upload needed. A second signal stops at once.
        """
        signal.signal(signum, signal.SIG_DFL)
        self.logger.warning(
            "Received signal %d: letting the uploads already queued finish, then stopping "
            "without emitting STATE. Re-run to resume from the last STATE.",
            signum,
        )
        if self._engine is not None and not self._engine.settle_queued(
            timeout=2 * float(self.config["request_timeout"])
        ):
            self.logger.warning("Uploads still in flight at exit: their outcome is unknown.")
        raise SystemExit(128 + signum)

    def release(self) -> None:
        """Stop the upload lanes (batches already queued finish first), close the rejects file.

        Idempotent; subclasses close their own stores after calling this.
        """
        if self._engine is not None:
            self._engine.close()
        if self._rejects is not None:
            self._rejects.close()

    def process_endofpipe(self) -> None:
        """Drain (the SDK emits the final STATE after our checkpoint), report, then release."""
        try:
            super().process_endofpipe()
            self.write_summary()
        finally:
            self.release()

    def summary_dict(self) -> dict[str, t.Any]:
        """Every counter of the run in one JSON-serializable mapping."""
        delivery = self._engine.stats.snapshot() if self._engine is not None else {}
        summary = self.summary
        return {
            "target": self.name,
            "dry_run": bool(self.config["dry_run"]),
            "received": sum(summary.received.values()),
            "received_by_stream": dict(summary.received),
            "delivered": int(delivery.get("delivered", 0)),
            "rejected": sum(summary.rejected.values()),
            "rejected_by_rule": dict(summary.rejected),
            "skipped": sum(summary.skipped.values()),
            "skipped_by_reason": dict(summary.skipped),
            "dropped_fields": sum(summary.dropped_fields.values()),
            "dropped_fields_by_rule": dict(summary.dropped_fields),
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

    # -- command line: `--test` ----------------------------------------------------------------

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's target command plus ``--test`` (targets have none in singer-sdk 0.54)."""
        command = super().get_singer_command()
        command.params.append(
            click.Option(["--test"], is_flag=True, default=False, help=cls.connection_test_help)
        )
        return command

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: ConfigInput | None = None,
        file_input: t.IO[str] | None = None,
        test: bool = False,
    ) -> None:
        """Run the target after ``before_listen``, or with ``--test`` only check the connection."""
        if about:
            cls.print_about(about_format)
            sys.exit(0)
        cls.print_version(print_fn=cls.logger.info)
        target = cls(
            config=config.config if config is not None else None,
            validate_config=True,
            parse_env_config=config.parse_env if config is not None else False,
        )
        if not test:
            try:
                target.before_listen()
                # One short-lived process: what is alive now (modules, the SDK, settings) stays
                # until exit, so the cyclic GC need not scan it again, and records are freed by
                # reference counting; collecting less often cut GC time from 5-8 to about 1 us
                # per record.
                gc.freeze()
                gc.set_threshold(10_000, 10, 10)
                sys.setswitchinterval(GIL_SWITCH_SECONDS)
                target.listen(file_input)
            except _Terminated as stop:
                target.stop_after_signal(stop.signum)
            return
        try:
            message = target.check_connection()
        except ConnectionCheckError as exc:
            target.logger.error("%s", target.scrubber.scrub(str(exc)))
            sys.exit(1)
        target.logger.info("%s", message)
        click.echo(message)
