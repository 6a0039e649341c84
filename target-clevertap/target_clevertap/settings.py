"""The target's settings (what `--about` prints) and the checks JSON schema cannot express."""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass

from connector_common.clevertap_account import (
    account_settings,
    account_timezone,
    base_url,
)
from connector_common.target_settings import DeliveryLimits, common_target_settings
from singer_sdk import typing as th

if t.TYPE_CHECKING:
    import zoneinfo

logger = logging.getLogger("target-clevertap")


MAX_UPLOAD_CONCURRENCY = 15  # CleverTap: 15 concurrent /1/upload requests per account
MAX_UPLOAD_RECORDS = 1000  # CleverTap: at most 1000 records per /1/upload call
DEFAULT_CONCURRENCY = 5
LIMITS = DeliveryLimits(
    max_concurrency=MAX_UPLOAD_CONCURRENCY,
    max_batch_rows=MAX_UPLOAD_RECORDS,
    concurrency_reason=(
        f" (CleverTap allows {MAX_UPLOAD_CONCURRENCY} concurrent uploads per account)"
    ),
    batch_rows_reason=" (CleverTap's limit per upload)",
)

_MAPPING = th.ObjectType(
    th.Property(
        "preset",
        th.StringType,
        allowed_values=["generic", "segment", "clevertap"],
        description="`segment` (Segment messages), `clevertap` (tap-clevertap output) or "
        "`generic` (any table; the default).",
    ),
    th.Property("kind", th.StringType, allowed_values=["profile", "event"]),
    th.Property("identity", th.StringType, description="Field holding the identity."),
    th.Property("object_id", th.StringType, description="Field holding the CleverTap objectId."),
    th.Property("timestamp", th.StringType, description="Field holding the record's time."),
    th.Property("timestamp_unit", th.StringType, allowed_values=["s", "ms"]),
    th.Property("event_name", th.StringType, description="Constant event name."),
    th.Property("event_name_field", th.StringType, description="Field holding the event name."),
    th.Property("fields", th.ArrayType(th.StringType), description="Fields to send (default all)."),
    th.Property("exclude", th.ArrayType(th.StringType), description="Fields never sent."),
    th.Property(
        "rename",
        th.ObjectType(additional_properties=th.StringType),
        description='Field -> CleverTap property name, e.g. {"email": "Email"}.',
    ),
    th.Property("anonymous", th.StringType, allowed_values=["object_id", "reject"]),
    th.Property(
        "message_type",
        th.StringType,
        allowed_values=["identify", "track", "page", "screen", "alias"],
    ),
    additional_properties=False,
)

CONFIG_SCHEMA = th.PropertiesList(
    *account_settings("/1/upload"),
    *common_target_settings(
        plugin="target-clevertap",
        default_concurrency=DEFAULT_CONCURRENCY,
        default_batch_rows=MAX_UPLOAD_RECORDS,
        limits=LIMITS,
    ),
    th.Property(
        "stream_mappings",
        th.ObjectType(additional_properties=_MAPPING),
        default={},
        description="Stream name -> how its records become CleverTap uploads: "
        '{"preset": "segment"}, {"preset": "clevertap"} or a generic mapping such as '
        '{"kind": "event", "identity": "user_id", "event_name": "Order Placed", '
        '"timestamp": "created_at"}. The key "*" applies to every stream not listed. A stream '
        "with no mapping stops the run with an error naming it.",
    ),
    th.Property(
        "nested_values",
        th.StringType,
        default="stringify",
        allowed_values=["stringify", "pass_through"],
        description="Objects and lists inside properties (other than multi-value string lists "
        "in profiles and the Charged event's Items): `stringify` sends them as JSON text; "
        "`pass_through` sends them as they are, for accounts with Nested Objects enabled "
        "(at most 3 levels).",
    ),
    th.Property(
        "max_event_properties",
        th.IntegerType,
        default=100,
        description="Properties allowed per event (CleverTap's default is 100; your account "
        "may allow up to 256). Events with more are rejected locally (code 522).",
    ),
    th.Property(
        "convert_date_strings",
        th.BooleanType,
        default=True,
        description="Send ISO-8601 date-time strings found in properties as CleverTap dates "
        "($D_<epoch>), like values typed date-time in the stream schema. Off: only typed "
        "values are converted.",
    ),
    th.Property(
        "timezone",
        th.StringType,
        default="UTC",
        description="IANA timezone for date-times without an offset, and for the packed "
        "yyyyMMddHHmmss `ts` of tap-clevertap events (set it to the source project's timezone).",
    ),
    th.Property(
        "journal_enabled",
        th.BooleanType,
        default=True,
        description="Keep the delivery journal that stops a re-run from uploading an event "
        "(or a $incr/$decr/$add/$remove profile update) a second time. Not used in dry_run.",
    ),
    th.Property(
        "journal_path",
        th.StringType,
        default="output/target-clevertap-journal.sqlite",
        description="SQLite file of the delivery journal (one file can serve several accounts).",
    ),
    th.Property(
        "journal_max_entries",
        th.IntegerType,
        default=5_000_000,
        description="Journal entries kept (the oldest delivered ones dropped first, at start-up "
        "and during the run); about 55 bytes each on disk.",
    ),
    th.Property(
        "journal_max_age_days",
        th.NumberType,
        default=30,
        description="Journal entries older than this are dropped (at start-up, and hourly during "
        "the run); a record re-sent after that is uploaded again.",
    ),
    th.Property(
        "journal_uncertain",
        th.StringType,
        default="reject",
        allowed_values=["reject", "resend", "fail"],
        description="What to do with a record an earlier run sent without learning the outcome "
        "(it was killed while the upload was in flight): `reject` does not send it again and "
        "writes it to rejected_records_path (rule delivery_uncertain) - no duplicates, nothing "
        "silently lost; `resend` uploads it again (at-least-once: an event may be doubled); "
        "`fail` stops the run so someone can decide.",
    ),
).to_dict()


@dataclass(frozen=True)
class Endpoint:
    """Where uploads go, and whether the URL came from the region table (for diagnostics)."""

    base_url: str
    region: str | None


def resolve_endpoint(config: t.Mapping[str, t.Any]) -> Endpoint:
    """The API base URL from ``api_url`` or ``region``; ValueError says what to fix."""
    url, region = base_url(config.get("region"), config.get("api_url"))
    return Endpoint(url, region)


def resolve_timezone(config: t.Mapping[str, t.Any]) -> zoneinfo.ZoneInfo:
    """The configured timezone (UTC by default); ValueError names the bad value."""
    return account_timezone(str(config.get("timezone") or "UTC"))
