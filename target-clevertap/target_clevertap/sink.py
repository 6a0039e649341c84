"""One sink per stream: its mapping turns records into upload items for the shared engine."""

from __future__ import annotations

import hashlib
import typing as t

import orjson
from connector_common.delivery import Item
from connector_common.singer_target import MELTANO_TEST_STREAM, DeliverySink
from singer_sdk.exceptions import ConfigValidationError

from target_clevertap.journal import FINGERPRINT_BYTES
from target_clevertap.presets import MappingConfigError, StreamContext, mapping_for

if t.TYPE_CHECKING:
    from target_clevertap.presets import Mapping
    from target_clevertap.target import TargetCleverTap


class CleverTapSink(DeliverySink):
    """Maps, converts and checks each record; the engine batches and uploads."""

    target: TargetCleverTap
    _mapping: Mapping | None = None
    _account: bytes = b""
    _journaled = False

    def setup_mapping(self) -> None:
        """Resolve the stream's mapping now, so a wrong one fails at SCHEMA, not mid-run."""
        self._account = self.target.account_id.encode()
        if self.stream_name == MELTANO_TEST_STREAM:
            # `meltano config test` sends this stream: check the connection instead of loading.
            self.target.check_connection_once()
            return
        context = StreamContext(
            stream=self.stream_name,
            key_properties=tuple(self.key_properties or ()),
            properties=frozenset(self.schema.get("properties") or {}),
            timezone=self.target.timezone,
        )
        try:
            self._mapping = mapping_for(self.target.stream_mappings, context)
        except MappingConfigError as exc:
            raise ConfigValidationError(str(exc), errors=[str(exc)]) from None
        self._map = self._mapping.map
        self._build = self.target.builder.build
        self._journaled = self.target.journal is not None  # opens it (not in dry runs)

    def prepare(self, record: dict[str, t.Any]) -> Item | None:
        """Map the record; None when the journal says CleverTap already has it."""
        mapped = self._map(record)
        upload, non_idempotent = self._build(mapped)
        payload = orjson.dumps(upload, option=orjson.OPT_SORT_KEYS)
        if not (non_idempotent and self._journaled):
            return Item(payload, self.stream_name, record, mapped.key, {"kind": mapped.kind})
        # Same account, same upload, same source key: the same record sent again.
        source = mapped.source_id
        fingerprint = hashlib.blake2b(
            b"\x00".join((self._account, payload, source.encode() if source else b"")),
            digest_size=FINGERPRINT_BYTES,
        ).digest()
        if not self.target.admit(fingerprint, self.stream_name):
            return None
        meta = {"kind": mapped.kind, "fingerprint": fingerprint}
        return Item(payload, self.stream_name, record, mapped.key, meta)
