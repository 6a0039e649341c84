"""One sink per stream: its mapping turns records into upload items for the shared engine."""

from __future__ import annotations

import hashlib
import typing as t

import orjson
from clevertap_segment_common.delivery import Item
from clevertap_segment_common.delivery_sink import MELTANO_TEST_STREAM, DeliverySink
from clevertap_segment_common.property_names import PropertyNameCollisionError
from singer_sdk.exceptions import ConfigValidationError

from target_clevertap.journal import FINGERPRINT_BYTES, JournalPolicy
from target_clevertap.presets import MappingConfigError, StreamContext, mapping_for
from target_clevertap.presets.base import RecordSkipped
from target_clevertap.uploads import collision_rejection

if t.TYPE_CHECKING:
    from target_clevertap.name_matcher import AccountNameMatcher
    from target_clevertap.presets import Mapped, Mapping
    from target_clevertap.target import TargetCleverTap
    from target_clevertap.uploads import UploadBuilder

_SORTED = orjson.OPT_SORT_KEYS


class CleverTapSink(DeliverySink):
    """Maps, converts and checks each record; the engine batches and uploads.

    With match_account the upload is built with the names as they came, fingerprinted for the
    journal, and only then given the account's spellings: the fingerprint stays a function of the
    input, so a schema that changed between two runs does not make a re-sent event look new.
    """

    target: TargetCleverTap
    _mapping: Mapping | None = None
    _account: bytes = b""
    _journal: JournalPolicy | None = None
    _names: AccountNameMatcher | None = None
    _builder: UploadBuilder

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
        trim = self.target.config.get("trim_values")
        self._builder = self.target.builder(
            self._mapping.trims_values if trim is None else bool(trim)
        )
        self._build = self._builder.build
        self._names = self.target.account_names  # reads the schema (before any upload)
        self._dry_run = self.target.dry_run_locally
        self._journal = self.target.journal  # opens it (not in dry runs)

    def prepare(self, record: dict[str, t.Any]) -> Item | None:
        """Map the record; None when it is skipped or the journal says CleverTap has it."""
        try:
            mapped = self._map(record)
        except RecordSkipped as skipped:
            self.target.summary.count(self.target.summary.skipped, skipped.reason)
            return None
        upload, non_idempotent = self._build(mapped)
        renamed = None
        if self._names is not None:
            try:
                renamed = self._names.apply(upload)
            except PropertyNameCollisionError as exc:
                raise collision_rejection(exc) from None
        sent = orjson.dumps(upload if renamed is None else renamed, option=_SORTED)
        meta: dict[str, t.Any] = {"kind": mapped.kind}
        if non_idempotent and self._journal is not None:
            # Same account, same upload (as built from the input, before the account's
            # spellings), same source key: the same record sent again.
            payload = sent if renamed is None else orjson.dumps(upload, option=_SORTED)
            source = mapped.source_id
            fingerprint = hashlib.blake2b(
                b"\x00".join((self._account, payload, source.encode() if source else b"")),
                digest_size=FINGERPRINT_BYTES,
            ).digest()
            if not self._journal.admit(fingerprint, self.stream_name, sent):
                return None
            meta["fingerprint"] = fingerprint
        if self._builder.dropped:
            self._report_dropped(mapped)
        if self._dry_run:
            self.target.note_dry_run(mapped.kind)
            return None
        return Item(sent, self.stream_name, record, mapped.key, meta)

    def _report_dropped(self, mapped: Mapped) -> None:
        key = mapped.source_id or mapped.key
        for dropped in self._builder.dropped:
            self.target.drop_field(self.stream_name, key, dropped.rejection, dropped.value)
