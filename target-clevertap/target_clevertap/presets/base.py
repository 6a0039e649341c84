"""What every preset produces: one CleverTap upload record, before names and values are checked."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from clevertap_segment_common.target_errors import RecordRejectedError

from target_clevertap.rules import INVALID_TIMESTAMP, MISSING_IDENTITY

if t.TYPE_CHECKING:
    import zoneinfo

    from target_clevertap.rules import Rule


def rejected(rule: Rule, reason: str, *, field: str | None = None) -> RecordRejectedError:
    """A local rejection; the reason names CleverTap's code when CleverTap has one."""
    if rule.code is not None:
        reason = f"{reason} (checked locally; CleverTap would refuse it with code {rule.code})"
    return RecordRejectedError(rule.name, reason, field=field)


@dataclass(slots=True)
class Mapped:
    """A record as a CleverTap upload: who, when, what (``data`` keys not yet normalized)."""

    kind: t.Literal["profile", "event"]
    identity: str | None = None
    object_id: str | None = None
    ts: int | None = None
    event_name: str | None = None
    data: dict[str, t.Any] = field(default_factory=dict)
    #: Set in profileData after name normalization, verbatim (the alias link's `identity`).
    verbatim: dict[str, t.Any] = field(default_factory=dict)
    #: What makes two otherwise identical records different (messageId, key properties).
    source_id: str | None = None
    #: Lane key override (alias: the new identity); default is identity, else objectId.
    lane_key: str | None = None
    charged: bool = False

    @property
    def key(self) -> str:
        """Records with the same key are delivered in input order."""
        if self.lane_key is not None:
            return self.lane_key
        if self.identity is not None:
            return f"identity:{self.identity}"
        return f"objectId:{self.object_id}"


class RecordSkipped(Exception):
    """The record is not for CleverTap (its source said so); counted by reason, not rejected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Mapping(t.Protocol):
    """Turns one stream record into a ``Mapped`` upload, or raises RecordRejectedError.

    ``trims_values`` is whether the stream's text values are trimmed when trim_values is unset.
    """

    trims_values: bool

    def map(self, record: dict[str, t.Any]) -> Mapped:
        """Map one record (RecordSkipped: not for CleverTap)."""
        ...


def identifier(value: t.Any) -> str | None:
    """An id as CleverTap wants it (text), or None when absent or empty."""
    if type(value) is str:
        return value.strip() or None
    if value is None or isinstance(value, bool | dict | list):
        return None
    return str(value).strip() or None


def require_identity(mapped: Mapped, where: str) -> Mapped:
    """Reject a record that names nobody."""
    if mapped.identity is None and mapped.object_id is None:
        raise rejected(MISSING_IDENTITY, f"no identity or objectId: {where} is missing or empty")
    return mapped


def timestamp_or_reject(convert: t.Callable[[], int], field_name: str) -> int:
    """Run a time conversion; a ValueError becomes an invalid_timestamp rejection."""
    try:
        return convert()
    except ValueError as exc:
        raise rejected(
            INVALID_TIMESTAMP, f"field '{field_name}' is not a usable time: {exc}", field=field_name
        ) from None


@dataclass(frozen=True)
class StreamContext:
    """What a preset may know about its stream besides its own options."""

    stream: str
    key_properties: tuple[str, ...]
    properties: frozenset[str]
    timezone: zoneinfo.ZoneInfo


class MappingConfigError(ValueError):
    """A stream mapping that cannot work; the message names the stream and the fix."""
