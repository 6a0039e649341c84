"""The settings of target-segment (shared ones come from clevertap-segment-common)."""

from __future__ import annotations

import typing as t

from clevertap_segment_common.target_settings import DeliveryLimits, common_target_settings
from singer_sdk import typing as th

from target_segment.presets import PRESETS, STREAM_PRESETS

REGION_URLS: t.Final = {
    "us": "https://api.segment.io",
    "eu": "https://events.eu1.segmentapis.com",
}
DEFAULT_SETTINGS_URL: t.Final = "https://cdn.segment.com"
MAX_CONCURRENCY: t.Final = 32
MAX_BATCH_ROWS: t.Final = 2_500
LIMITS: t.Final = DeliveryLimits(
    max_concurrency=MAX_CONCURRENCY,
    max_batch_rows=MAX_BATCH_ROWS,
    batch_rows_reason=(
        f" (Segment silently drops the messages of a batch past the {MAX_BATCH_ROWS:,}th)"
    ),
)

_MAPPING_HELP = (
    "Keys: `type` (identify, track, page, screen, group, alias, or ignore), `preset` "
    f"({', '.join(PRESETS)}; clevertap = by stream name), `user_id`, `anonymous_id`, `event`, "
    "`name`, `category`, "
    "`group_id`, `previous_id`, `timestamp` (a field, a dotted path such as profile.identity, a "
    'list of fields where the first non-empty wins, {"value": constant} or {"field", "map"}), '
    '`traits` / `properties` / `context` ("*" = every field not used otherwise, a field holding '
    "an object, a list of fields, or {from, exclude, rename, merge, fields, keyed}), "
    "`message_id` (key or content), `clevertap_dates`, `when` (field -> values that make the "
    'call); {"calls": [mapping, ...]} makes several calls per record. See the README for '
    "examples."
)


def segment_settings() -> th.PropertiesList:
    """The full configuration schema."""
    return th.PropertiesList(
        th.Property(
            "write_key",
            th.StringType,
            required=True,
            secret=True,
            title="Write key",
            description=(
                "Write key of the Segment source (HTTP API source) receiving the calls. Never "
                "logged or written anywhere."
            ),
        ),
        th.Property(
            "region",
            th.StringType,
            default="us",
            allowed_values=list(REGION_URLS),
            description=(
                "Segment region of the workspace: `us` sends to https://api.segment.io, `eu` to "
                "https://events.eu1.segmentapis.com. Segment discards data sent to the wrong "
                "region."
            ),
        ),
        th.Property(
            "api_url",
            th.StringType,
            description=(
                "Base URL of the Tracking API, overriding `region` (e.g. a proxy or the local "
                "sandbox). https only, except plain http on a loopback address."
            ),
        ),
        th.Property(
            "settings_url",
            th.StringType,
            default=DEFAULT_SETTINGS_URL,
            description=(
                "Base URL of Segment's settings CDN, used to check that the write key exists "
                "(GET /v1/projects/<write key>/settings), since the Tracking API accepts any key."
            ),
        ),
        th.Property(
            "verify_write_key",
            th.BooleanType,
            default=True,
            description=(
                "Check the write key against the settings CDN before reading any input, and stop "
                "if Segment does not know it (the Tracking API would answer 200 and drop the "
                "data). If the CDN cannot be reached the run goes on with a warning."
            ),
        ),
        th.Property(
            "mapping_preset",
            th.StringType,
            default="none",
            allowed_values=list(STREAM_PRESETS),
            description=(
                "`clevertap` maps tap-clevertap's streams: `events` -> track calls, `profiles` -> "
                "identify calls, `audience_members` -> an identify and an Audience Entered / "
                "Audience Exited track per change, as Segment sends computed audiences (entries "
                "in stream_mappings override it)."
            ),
        ),
        th.Property(
            "stream_mappings",
            th.ObjectType(additional_properties=th.ObjectType()),
            description="Per stream: how a record becomes a Segment call. " + _MAPPING_HELP,
        ),
        th.Property(
            "default_mapping",
            th.ObjectType(),
            description=(
                "Mapping for streams not listed in stream_mappings. When unset, records of "
                "unlisted streams are rejected (rule unmapped_stream) naming the stream."
            ),
        ),
        th.Property(
            "integrations",
            th.ObjectType(),
            description=(
                "Segment `integrations` object added to every call to choose destinations, e.g. "
                '{"All": false, "CleverTap": true}. Names are case-sensitive.'
            ),
        ),
        th.Property(
            "gzip",
            th.BooleanType,
            default=True,
            description="Compress request bodies (Content-Encoding: gzip).",
        ),
        th.Property(
            "message_id_salt",
            th.StringType,
            description=(
                "Mixed into every messageId. Segment deduplicates messageIds across all its "
                "customers, so ids are salted with something unique to this deployment; by "
                "default a hash of the write key (rotating the key then changes the ids, so set "
                "a fixed salt if you may re-send data after a rotation)."
            ),
        ),
        *common_target_settings(
            plugin="target-segment",
            default_concurrency=8,
            default_batch_rows=1_000,
            limits=LIMITS,
        ),
    )
