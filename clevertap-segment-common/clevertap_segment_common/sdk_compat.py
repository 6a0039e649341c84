"""Every use of singer-sdk internals, in this one module (singer-sdk 0.54 has no public hook).

The plugins' classes derive from the classes below instead of the SDK's. Each override is marked
``@override``, says why it exists, and forwards to a public method of ours, so the plugins never
name a private SDK member. ``SDK_INTERNALS`` fingerprints the SDK's source of every private
member used here: tests/test_sdk_boundary.py fails when an SDK upgrade changes one (re-read it,
adapt the override, update the fingerprint), and checks with the AST that no other module of
the repository uses a private SDK name. docs/sdk-hooks.md proposes the public hooks that would
retire these overrides.
"""

from __future__ import annotations

import datetime as dt
import sys
import typing as t

from singer_sdk import Stream, Tap, Target
from singer_sdk import singerlib as singer
from singer_sdk.helpers._catalog import (
    pop_deselected_record_properties,
    set_catalog_stream_selected,
)
from singer_sdk.helpers._typing import conform_record_data_types, get_datelike_property_type
from singer_sdk.plugin_base import _ConfigInput as ConfigInput
from singer_sdk.sinks import BatchSink

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.helpers import types
    from singer_sdk.helpers.conform import DatetimeErrorTreatmentEnum

__all__ = [
    "SDK_INTERNALS",
    "ConfigInput",
    "HookedBatchSink",
    "HookedStream",
    "HookedTap",
    "HookedTarget",
    "get_datelike_property_type",
    "pop_deselected_record_properties",
    "set_catalog_stream_selected",
    "with_sdk_record_path",
]

#: Private SDK members used here (qualified name -> sha256 of their source, first 16 hex digits).
SDK_INTERNALS: t.Final = {
    "singer_sdk.helpers._catalog.pop_deselected_record_properties": "e69d4428c03eced1",
    "singer_sdk.helpers._catalog.set_catalog_stream_selected": "10f1b175097e3722",
    "singer_sdk.helpers._typing.conform_record_data_types": "96b068101790b7de",
    "singer_sdk.helpers._typing.get_datelike_property_type": "667ded2b71a004ab",
    "singer_sdk.plugin_base.PluginBase._handle_termination": "0d08ff68880d92a2",
    "singer_sdk.sinks.core.Sink._parse_timestamps_in_record": "7ff3892aa43d2bba",
    "singer_sdk.sinks.core.Sink._remove_sdc_metadata_from_record": "383153f8095dcbcb",
    "singer_sdk.streams.core.Stream.__init__": "8926c57fa964f1f6",
    "singer_sdk.streams.core.Stream._generate_record_messages": "bc10d4be8964fc26",
    "singer_sdk.streams.core.Stream._increment_stream_state": "41e8987b6ed002be",
    "singer_sdk.streams.core.Stream._write_state_message": "3b381e57343c42fa",
    "singer_sdk.target_base.Target._handle_max_record_age": "511b8153b78f41d6",
    "singer_sdk.target_base.Target._process_record_message": "d4954260a8614aef",
    "singer_sdk.target_base.Target._process_schema_message": "7fe49c51f521d689",
    "singer_sdk.target_base.Target._write_state_message": "daf360d2558f1780",
}


class HookedTarget(Target):
    """The target's private hooks, each forwarded to a public method of the subclass."""

    def set_drain_interval(self, seconds: float) -> None:
        """How often the SDK drains the sinks and emits STATE while input keeps coming.

        The SDK reads a class constant (5 minutes); ours comes from a setting.
        """
        self._MAX_RECORD_AGE_IN_MINUTES = seconds / 60

    def drain_if_due(self) -> None:
        """The SDK's own age check (drain and emit STATE when due), for a record path of ours."""
        self._handle_max_record_age()

    def after_schema(self, stream: str) -> None:
        """Called after the SDK registered a stream's SCHEMA (and its sink)."""

    def take_record(self, message: dict[str, t.Any]) -> bool:
        """Handle a RECORD message instead of the SDK (True), or leave it to the SDK (False)."""
        _ = message
        return False

    def state_allowed(self) -> bool:
        """Whether STATE may be emitted now."""
        return True

    def on_signal(self, signum: int) -> None:
        """SIGTERM/SIGINT arrived (runs in the signal handler)."""
        _ = signum

    @override
    def _process_schema_message(self, message_dict: dict[str, t.Any]) -> None:
        """No public hook runs after the SDK set up a stream: ``after_schema``."""
        super()._process_schema_message(message_dict)
        self.after_schema(message_dict["stream"])

    @override
    def _process_record_message(self, message_dict: dict[str, t.Any]) -> None:
        """The SDK's per-record path has no public hook to replace it: ``take_record``."""
        if not self.take_record(message_dict):
            super()._process_record_message(message_dict)

    @override
    def _write_state_message(self, state: dict[str, t.Any]) -> None:
        """The SDK emits STATE unconditionally: ``state_allowed`` (a dry run stores nothing)."""
        if self.state_allowed():
            super()._write_state_message(state)

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """The SDK drains, emits STATE and exits 0 on a signal: ``on_signal`` decides instead."""
        _ = frame
        self.on_signal(signum)


class HookedBatchSink(BatchSink):
    """The sink's private hooks."""

    def parse_dates(self, record: dict[str, t.Any]) -> None:
        """Parse the record's date-like values in place (default: the SDK's parsing)."""
        super()._parse_timestamps_in_record(record, self.schema, self.datetime_error_treatment)

    def remove_sdc_metadata(self, record: dict[str, t.Any]) -> None:
        """Drop the Singer metadata columns, as the SDK's record path does."""
        self._remove_sdc_metadata_from_record(record)

    @override
    def _parse_timestamps_in_record(
        self,
        record: dict[str, t.Any],
        schema: dict[str, t.Any],
        treatment: DatetimeErrorTreatmentEnum,
    ) -> None:
        """Forwarded to ``parse_dates``.

        The SDK raises on a value that does not parse (one bad record stops the run) and looks
        at every field.
        """
        _ = schema, treatment  # always this sink's schema
        self.parse_dates(record)


class HookedStream(Stream):
    """The stream's private hooks: bookmarks by checkpoint, a faster deselection walk."""

    def prune_record(self, record: dict[str, t.Any]) -> None:
        """Drop deselected properties in place (default: the SDK's walk over every key)."""
        pop_deselected_record_properties(record, self.schema, self.mask)

    def write_state(self) -> None:
        """Emit this stream's state now, after a checkpoint of ours moved it."""
        self.state_manager.is_flushed = False
        self._write_state_message()

    @override
    def _increment_stream_state(
        self, latest_record: types.Record, *, context: types.Context | None = None
    ) -> None:
        """Records never move the bookmark; streams checkpoint whole days (``write_state``).

        The SDK moves it to each record's value, which would claim a day before all of its
        pages were read.
        """
        _ = latest_record, context

    @override
    def _generate_record_messages(
        self, record: types.Record
    ) -> t.Generator[singer.RecordMessage, None, None]:
        """The SDK's record path with ``prune_record`` in place of its deselection walk.

        The SDK's walk looks every key of every nested dict up in the selection mask; for
        free-form nested objects that is most of a tap's CPU. Everything else (type conformance,
        stream maps, flattening, RECORD messages) is as in the SDK.
        """
        self.prune_record(record)
        record = conform_record_data_types(
            stream_name=self.name,
            record=record,
            schema=self.effective_schema,
            level=self.TYPE_CONFORMANCE_LEVEL,
            logger=self.logger,
        )
        for stream_map in self.stream_maps:
            mapped_record = stream_map.transform(record)
            if mapped_record is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped_record,
                    version=self._stream_version,
                    time_extracted=dt.datetime.now(dt.UTC),
                )


class HookedTap(Tap):
    """The tap's private hook."""

    def on_signal(self, signum: int) -> None:
        """SIGTERM/SIGINT arrived (runs in the signal handler)."""
        _ = signum

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """Forwarded to ``on_signal``: the SDK exits 0, reporting an interruption as success."""
        _ = frame
        self.on_signal(signum)


S = t.TypeVar("S", bound=HookedStream)


def with_sdk_record_path(stream_class: type[S]) -> type[S]:
    """A subclass using the SDK's own record path and bookmark increments (for comparisons)."""
    return type(
        f"Sdk{stream_class.__name__}",
        (stream_class,),
        {
            "_generate_record_messages": Stream._generate_record_messages,
            "_increment_stream_state": Stream._increment_stream_state,
        },
    )
