"""How each stream's records become CleverTap uploads, chosen per stream in ``stream_mappings``."""

from __future__ import annotations

import typing as t

from target_clevertap.presets.base import Mapped, Mapping, MappingConfigError, StreamContext
from target_clevertap.presets.clevertap import CleverTapPreset
from target_clevertap.presets.generic import GenericMapping
from target_clevertap.presets.segment import SegmentPreset

PRESETS: dict[str, t.Callable[[t.Mapping[str, t.Any], StreamContext], Mapping]] = {
    "generic": GenericMapping,
    "segment": SegmentPreset,
    "clevertap": CleverTapPreset,
}
WILDCARD = "*"


def mapping_for(
    stream_mappings: t.Mapping[str, t.Mapping[str, t.Any]], context: StreamContext
) -> Mapping:
    """The stream's mapping (or the wildcard's); MappingConfigError says how to add one."""
    options = stream_mappings.get(context.stream, stream_mappings.get(WILDCARD))
    if options is None:
        msg = (
            f"stream '{context.stream}' has no entry in stream_mappings. Add one, e.g. "
            f'{{"{context.stream}": {{"preset": "segment"}}}} for Segment messages, '
            '{"preset": "clevertap"} for tap-clevertap output, or a generic mapping such as '
            '{"kind": "event", "identity": "user_id", "event_name": "Signed Up"}; or deselect '
            "the stream."
        )
        raise MappingConfigError(msg)
    preset = options.get("preset") or "generic"
    return PRESETS[preset](options, context)


__all__ = ["Mapped", "Mapping", "MappingConfigError", "StreamContext", "mapping_for"]
