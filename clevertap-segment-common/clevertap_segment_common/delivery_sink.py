"""The sink of both targets: maps each record to one API item and hands it to the engine.

Its ``receive`` is the direct record path of ``DeliveryTarget.take_record`` (see singer_target).
"""

from __future__ import annotations

import abc
import typing as t

from clevertap_segment_common.delivery import Item, Rejection
from clevertap_segment_common.record_checks import (
    DateLikeFields,
    ReportingValidator,
    compiled_validator,
)
from clevertap_segment_common.sdk_compat import HookedBatchSink
from clevertap_segment_common.target_errors import RecordRejectedError

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from singer_sdk.sinks.core import BaseJSONSchemaValidator

    from clevertap_segment_common.singer_target import DeliveryTarget

MELTANO_TEST_STREAM = "meltano_test_stream"
#: Singer metadata columns the SDK strips from records when a sink does not want them.
_SDC_COLUMNS: t.Final = frozenset(
    {
        "_sdc_extracted_at",
        "_sdc_received_at",
        "_sdc_batched_at",
        "_sdc_deleted_at",
        "_sdc_sequence",
        "_sdc_table_version",
        "_sdc_sync_started_at",
    }
)


class DeliverySink(HookedBatchSink):
    """Maps each record to one API item (or a rejection) and hands it to the target's engine."""

    _record_validator: BaseJSONSchemaValidator | None = None  # set by get_validator

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
        dates = DateLikeFields(self.schema)
        self._dates = dates if dates.fields else None
        self._keys = frozenset(self.key_properties)
        self._declared = frozenset(self.schema.get("properties") or ())
        self._warn_undeclared = not self.schema.get("additionalProperties", False)
        self._undeclared_warned: set[str] = set()
        self._is_test_stream = stream_name == MELTANO_TEST_STREAM
        self._uncounted = 0
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

    # -- checks: every broken rule becomes a rejection ------------------------------------------

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """Compiled validation (violations become rejections); the SDK's as a fallback."""
        validator: BaseJSONSchemaValidator | None = None
        if self.validate_schema:
            validator = compiled_validator(
                self.schema, self.mark_invalid, validate_formats=self.validate_field_string_format
            )
            if validator is None:
                self.logger.info("Using the SDK's slower validator for '%s'.", self.stream_name)
                inner = super().get_validator()
                validator = None if inner is None else ReportingValidator(inner, self.mark_invalid)
        self._record_validator = validator
        return validator

    def mark_invalid(self, message: str) -> None:
        """Remember why the record being processed breaks its schema (the first reason wins)."""
        if self._invalid is None:
            self._invalid = message

    def parse_dates(self, record: dict[str, t.Any]) -> None:
        """Parse the schema's date-like fields; one that does not parse rejects the record."""
        if self._dates is not None:
            self._dates.parse(record, self.mark_invalid)
        if self._warn_undeclared and not self._declared.issuperset(record):
            self._warn_about_undeclared(record)

    def _warn_about_undeclared(self, record: dict[str, t.Any]) -> None:
        """Once per field, as the SDK does: a value in a field the SCHEMA does not declare."""
        warned = self._undeclared_warned
        for key, value in record.items():
            if value is not None and key not in self._declared and key not in warned:
                self.logger.warning("No schema for record field '%s'", key)
                warned.add(key)

    def preprocess_record(
        self, record: dict[str, t.Any], context: dict[str, t.Any]
    ) -> dict[str, t.Any]:
        """Turn a missing key property into a rejection rather than a crash of the whole run."""
        _ = context
        if self._keys and not self._keys <= record.keys():
            return self._without_missing_keys(record)
        return record

    def _without_missing_keys(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        missing = [key for key in self.key_properties if key not in record]
        self.mark_invalid(
            f"missing key propert{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(repr(k) for k in missing)} declared in the stream's SCHEMA"
        )
        return {**record, **dict.fromkeys(missing)}

    # -- the record path -----------------------------------------------------------------------

    def receive(self, record: dict[str, t.Any]) -> None:
        """The SDK's per-record steps for a plain stream (see the module docstring)."""
        if not _SDC_COLUMNS.isdisjoint(record):
            self.remove_sdc_metadata(record)
        if self._record_validator is not None:
            self._record_validator.validate(record)
        if self._dates is not None:
            self._dates.parse(record, self.mark_invalid)
        if self._warn_undeclared and not self._declared.issuperset(record):
            self._warn_about_undeclared(record)
        if self._keys and not self._keys <= record.keys():
            record = self._without_missing_keys(record)
        self.tally_record_read()
        self._uncounted += 1
        self.process_record(record, {})

    def report_record_count(self) -> None:
        """Add the records the direct path read to the SDK's record-count metric."""
        if self._uncounted:
            self.record_counter_metric.increment(self._uncounted)
            self._uncounted = 0

    def clean_up(self) -> None:
        """The SDK logs the final record count here: count everything first."""
        self.report_record_count()
        super().clean_up()

    def process_record(self, record: dict[str, t.Any], context: dict[str, t.Any]) -> None:
        """Route one record: ignored, rejected, or submitted for delivery."""
        _ = context
        target = self.target
        target.summary.receive(self.stream_name)
        if self._is_test_stream:
            target.summary.count(target.summary.skipped, "meltano_test_stream")
            return
        if self._invalid is not None:
            reason, self._invalid = self._invalid, None
            target.reject(
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
            target.reject(self.stream_name, record, exc.rejection)
            return
        if item is not None:
            target.submit(item)

    def process_batch(self, context: dict[str, t.Any]) -> None:
        """Called by the SDK right before it emits STATE: wait for confirmation."""
        _ = context
        self.report_record_count()
        self.target.checkpoint()
