"""target-segment: any Singer stream into Segment as spec-compliant calls, none lost or doubled."""

from __future__ import annotations

import hashlib
import threading
import typing as t
from collections import Counter
from functools import cached_property

import click
from clevertap_segment_common.endpoints import checked_base_url
from clevertap_segment_common.http import user_agent
from clevertap_segment_common.singer_target import DeliveryTarget
from clevertap_segment_common.target_errors import ConnectionCheckError

from target_segment.mapping import MappingConfigError
from target_segment.messages import MessageBuilder, RecordCalls
from target_segment.presets import MappingSet
from target_segment.settings import DEFAULT_SETTINGS_URL, LIMITS, REGION_URLS, segment_settings
from target_segment.sinks import SegmentSink
from target_segment.transport import MAX_BATCH_ITEMS, SegmentTransport
from target_segment.write_key_check import KeyCheck, check_write_key

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from clevertap_segment_common.delivery import Item

    from target_segment.mapping import StreamMapping

MIN_WRITE_KEY_LENGTH: t.Final = 8


def _default_salt(write_key: str) -> str:
    """Unique to the deployment, and no way back to the key (Segment shows messageIds)."""
    return hashlib.sha256(b"target-segment/message-id-salt/" + write_key.encode()).hexdigest()[:32]


class TargetSegment(DeliveryTarget):
    """Loads Singer records into Segment through the HTTP Tracking API's /v1/batch."""

    name = "target-segment"
    config_jsonschema = segment_settings().to_dict()
    default_sink_class = SegmentSink
    secret_settings = ("write_key",)
    limits = LIMITS
    connection_test_help = "Check the connection: verify the write key with Segment and exit."

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.dry_run = bool(self.config["dry_run"])
        write_key = str(self.config.get("write_key") or "")
        self._salt = str(self.config.get("message_id_salt") or _default_salt(write_key)).encode()
        agent = user_agent("target-segment")
        self._library = {"name": "target-segment", "version": agent.partition("/")[2]}
        self._builders: list[MessageBuilder] = []
        self._counts_lock = threading.Lock()
        self._delivered_by_type: dict[str, int] = {}
        self._dry_run_by_type: dict[str, int] = {}

    def setting_errors(self) -> list[str]:
        """The shared checks, plus the write key, the mappings, the URLs and integrations."""
        errors = super().setting_errors()
        if len(str(self.config.get("write_key") or "").strip()) < MIN_WRITE_KEY_LENGTH:
            errors.append(
                f"write_key is empty or shorter than {MIN_WRITE_KEY_LENGTH} characters; copy "
                "it from the source's settings in Segment."
            )
        checks = (
            lambda: self.mappings,
            lambda: self.api_url,
            lambda: self.settings_url,
            lambda: self.integrations,
        )
        for check in checks:
            try:
                check()
            except ValueError as exc:  # MappingConfigError is a ValueError too
                errors.append(str(exc))
        return errors

    # -- configuration, resolved once ------------------------------------------------------------

    @cached_property
    def mappings(self) -> MappingSet:
        """How each stream's records become calls."""
        return MappingSet(
            self.config.get("stream_mappings"),
            self.config.get("default_mapping"),
            self.config["mapping_preset"],
        )

    @cached_property
    def api_url(self) -> str:
        """The Tracking API's base URL (api_url, else the region's)."""
        return checked_base_url(self.config.get("api_url") or REGION_URLS[self.config["region"]])

    @cached_property
    def settings_url(self) -> str:
        """The settings CDN's base URL (for the write-key check)."""
        return checked_base_url(
            self.config.get("settings_url") or DEFAULT_SETTINGS_URL, setting="settings_url"
        )

    @cached_property
    def integrations(self) -> dict[str, t.Any] | None:
        """The ``integrations`` object added to every call."""
        return self._integrations(self.config.get("integrations"))

    @staticmethod
    def _integrations(raw: t.Any) -> dict[str, t.Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or not all(isinstance(v, bool | dict) for v in raw.values()):
            msg = (
                "integrations must map destination names to true/false (or to a destination's "
                f'options object), e.g. {{"All": false, "CleverTap": true}}; got {raw!r}.'
            )
            raise MappingConfigError(msg)
        return dict(raw)

    # -- pieces used by the sinks ---------------------------------------------------------------

    def message_builder(
        self, stream: str, calls: Sequence[StreamMapping], key_properties: Sequence[str]
    ) -> RecordCalls:
        """The builders of one stream's calls (kept to report mapping counters).

        A stream with several calls per record gets one messageId namespace per call, so its
        identify and its track never share an id; a one-call stream keeps the plain ids.
        """
        strategy = self.config["property_names"]
        builders = []
        for index, mapping in enumerate(calls):
            builder = MessageBuilder(
                stream=stream,
                mapping=mapping,
                key_properties=key_properties,
                salt=self._salt,
                library=self._library,
                integrations=self.integrations,
                normalize=None if strategy == "none" else self.normalizer.normalize,
                call=f"{index}:{mapping.call_type}" if len(calls) > 1 else None,
            )
            self._builders.append(builder)
            builders.append(builder)
        return RecordCalls(builders)

    def note_dry_run(self, call_types: Sequence[str]) -> None:
        """Count a record whose calls a dry run built and validated but did not send."""
        self.summary.count(self.summary.skipped, "dry_run")
        with self._counts_lock:
            for call_type in call_types:
                self._dry_run_by_type[call_type] = self._dry_run_by_type.get(call_type, 0) + 1

    # -- DeliveryTarget hooks -------------------------------------------------------------------

    def build_transport(self) -> SegmentTransport:
        """Segment's batch endpoint for the configured region or api_url.

        An item carries every call of its record, so a batch takes fewer items when a record can
        become several calls: Segment drops the messages of a batch past the 2,500th.
        """
        transport = SegmentTransport(
            base_url=self.api_url,
            write_key=str(self.config["write_key"]),
            use_gzip=bool(self.config["gzip"]),
            timeout=float(self.config["request_timeout"]),
            user_agent=user_agent("target-segment"),
        )
        transport.max_items = MAX_BATCH_ITEMS // self.mappings.max_calls
        return transport

    def on_delivered(self, items: Sequence[Item]) -> None:
        """Count confirmed calls by type."""
        counts = self._delivered_by_type
        # Counted by each item's tuple of types (a handful of distinct ones), not type by type:
        # this runs on a lane thread holding the GIL, once per delivered batch of ~1,000 items.
        for types, count in Counter([item.meta["types"] for item in items]).items():
            for call_type in types:
                counts[call_type] = counts.get(call_type, 0) + count

    def extra_summary(self) -> dict[str, t.Any]:
        """Segment-specific numbers: calls by type, mapping key clashes, where data went."""
        return {
            "delivered_by_type": dict(self._delivered_by_type),
            "dry_run_by_type": dict(self._dry_run_by_type),
            "mapping_key_clashes": sum(b.key_clashes for b in self._builders),
            "api_url": self.api_url,
            "gzip": bool(self.config["gzip"]),
        }

    # -- the write-key check --------------------------------------------------------------------

    def check_write_key(self) -> KeyCheck:
        """Ask Segment's settings CDN whether the write key exists."""
        return check_write_key(
            self.settings_url,
            str(self.config["write_key"]),
            self.scrubber,
            timeout=float(self.config["request_timeout"]),
        )

    def check_connection(self) -> str:
        """``--test``: Segment's settings CDN must know the write key."""
        result = self.check_write_key()
        if result.known is not True:
            raise ConnectionCheckError(result.message)
        return result.message

    def before_listen(self) -> None:
        """Stop before reading input if Segment says the write key does not exist."""
        if not self.config["verify_write_key"] or self.dry_run:
            return
        result = self.check_write_key()
        if result.known is False:
            raise click.ClickException(result.message)
        if result.known is None:
            self.logger.warning("%s Continuing without the check.", result.message)
        else:
            self.logger.info(result.message)
