"""One sink per stream: records become Segment calls and go to the shared delivery engine."""

from __future__ import annotations

import typing as t

from clevertap_segment_common.delivery import Item
from clevertap_segment_common.delivery_sink import DeliverySink
from clevertap_segment_common.target_errors import RecordRejectedError

if t.TYPE_CHECKING:
    from target_segment.messages import RecordCalls
    from target_segment.target import TargetSegment


class SegmentSink(DeliverySink):
    """Maps each record with its stream's mapping; unmapped streams are rejected or ignored."""

    target: TargetSegment

    def setup_mapping(self) -> None:
        """Resolve this stream's mapping once."""
        known, calls = self.target.mappings.for_stream(self.stream_name)
        self._known = known
        self._builder: RecordCalls | None = None
        if calls is not None:
            self._builder = self.target.message_builder(
                self.stream_name, calls, self.key_properties
            )
        elif not known:
            self.logger.warning(
                "Stream '%s' has no entry in stream_mappings and no default_mapping is set: its "
                "records are rejected (rule unmapped_stream).",
                self.stream_name,
            )

    def prepare(self, record: dict[str, t.Any]) -> Item | None:
        """The record's calls as one item, or None for an ignored stream / no call / a dry run."""
        builder = self._builder
        if builder is None:
            if self._known:  # mapped with type "ignore"
                self.target.summary.count(self.target.summary.skipped, "ignored_stream")
                return None
            raise RecordRejectedError(
                "unmapped_stream",
                f"stream '{self.stream_name}' has no entry in stream_mappings and no "
                "default_mapping is set, so the target does not know which Segment call to make. "
                f"Add stream_mappings['{self.stream_name}'] (or set default_mapping, or map the "
                'stream with {"type": "ignore"} to skip it).',
            )
        calls = builder.build(record)
        if not calls:  # no mapping's `when` matches
            self.target.summary.count(self.target.summary.skipped, "no_call_for_record")
            return None
        message, payload = calls[0]
        if len(calls) == 1:  # almost every record: one call, nothing to join
            types: tuple[str, ...] = (message["type"],)
        else:
            types = tuple([call[0]["type"] for call in calls])
            payload = b",".join([call[1] for call in calls])  # batch items, comma-separated
        if self.target.dry_run:
            self.target.note_dry_run(types)
            return None
        return Item(
            payload=payload,
            stream=self.stream_name,
            record=record,
            key=message.get("userId") or message.get("anonymousId"),
            meta={"types": types},
        )
