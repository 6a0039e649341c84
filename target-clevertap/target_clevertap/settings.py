"""The target's settings (what `--about` prints) and the checks JSON schema cannot express."""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass

from clevertap_segment_common.clevertap_account import (
    account_settings,
    account_timezone,
    base_url,
)
from clevertap_segment_common.property_names import STRATEGIES
from clevertap_segment_common.property_names.account_names import SPLIT_CHOICES
from clevertap_segment_common.target_settings import DeliveryLimits, common_target_settings
from singer_sdk import typing as th

if t.TYPE_CHECKING:
    import zoneinfo

logger = logging.getLogger("target-clevertap")

MATCH_ACCOUNT = "match_account"
EXPLICIT_STRATEGIES = list(STRATEGIES)


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
        "honor_integrations",
        th.BooleanType,
        description="segment preset: skip messages whose `integrations` keep them from "
        "CleverTap (default true).",
    ),
    th.Property(
        "link_anonymous_id",
        th.BooleanType,
        description="segment preset: identify messages with both ids link the anonymousId's "
        "device profile to the userId (default false; see the README).",
    ),
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
        overrides=(
            th.Property(
                "property_names",
                th.StringType,
                default=MATCH_ACCOUNT,
                allowed_values=[MATCH_ACCOUNT, *EXPLICIT_STRATEGIES],
                title="Property name convention",
                description="How property and trait names are written. `match_account` reads "
                "the account's names (GET /getSchema) before the first upload and writes each "
                "name in the spelling the account already holds for it - two spellings are one "
                "property when Segment's snake_case makes them equal ('Plan Type', 'plan_type') "
                "- so no second key is created; names new to the account follow "
                "new_property_names. The explicit conventions rewrite every name: `none` keeps "
                "names as sent; `segment` reproduces Segment's CleverTap destination (lodash "
                "snakeCase: 'Industry Of Traits' -> 'industry_of_traits'); `lodash`, "
                "`to-snake-case` and `go-snakecase` are the candidate conversions by name.",
            ),
            th.Property(
                "trim_values",
                th.BooleanType,
                description="Strip leading and trailing whitespace from text values. Unset: "
                "streams with the segment preset are trimmed (Segment's destination delivers "
                "'Industry Of Traits': ' Hello World' as 'Hello World' in CleverTap's own "
                "example) and other streams are not; true or false applies to every stream.",
            ),
            th.Property(
                "dry_run",
                th.BooleanType,
                default=False,
                description="Map and check every record locally and send nothing to /1/upload "
                "(the account's schema is still read for match_account); no STATE is emitted, "
                "so no bookmark moves. See dry_run_remote_validation.",
            ),
            th.Property(
                "rejected_records_path",
                th.StringType,
                default="output/target-clevertap-rejected.jsonl",
                description="JSONL file receiving every rejected record with its reason, and "
                "every field left out of a delivered record (on_invalid_field).",
            ),
        ),
    ),
    th.Property(
        "new_property_names",
        th.StringType,
        default="auto",
        allowed_values=["auto", *EXPLICIT_STRATEGIES],
        description="match_account: how names the account does not hold yet are written. "
        "`auto` follows the convention most of the account's multi-word names already use "
        "(snake_case -> `segment`, otherwise `none`; a tie or no such names -> `none`), stated "
        "in the log and the run summary; or any explicit convention.",
    ),
    th.Property(
        "split_property_names",
        th.StringType,
        default="newest",
        allowed_values=list(SPLIT_CHOICES),
        description="match_account: which spelling to write when the account already holds two "
        "or more spellings of one name (it is split): `newest` the spelling listed last by "
        "getSchema (taken as the one the account saw last: CleverTap does not document the "
        "order), `segment` the one in Segment's snake_case form, `as_sent` the incoming "
        "spelling if the account has it. Every split name met is logged and listed in the run "
        "summary; whichever is chosen, no new spelling is created.",
    ),
    th.Property(
        "schema_refresh_seconds",
        th.NumberType,
        default=60,
        description="match_account: the schema is read before the first upload; an event "
        "name it does not list makes the target read it again before mapping that event's "
        "first record (once per event name), at most once per this many seconds.",
    ),
    th.Property(
        "on_invalid_field",
        th.StringType,
        default="drop_field",
        allowed_values=["drop_field", "reject_record"],
        description="A property CleverTap cannot take while it takes the rest of the record "
        "(a value or stringified object over 512 bytes, an object nested too deep or where "
        "CleverTap allows none, a name over 120 bytes or empty, a DOB that is not a date): "
        "`drop_field` delivers the record without it and writes the field, its record's key "
        "and the rule to rejected_records_path; `reject_record` rejects the whole record.",
    ),
    th.Property(
        "dry_run_remote_validation",
        th.BooleanType,
        default=False,
        description="With dry_run: also send the uploads to /1/upload?dryRun=1 so CleverTap "
        "validates them. dryRun is not in CleverTap's documentation (community clients use "
        "it): if CleverTap ignored it, the data would be stored. Off unless you accept that.",
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
        "account_timezone",
        th.StringType,
        description="The CleverTap project's own IANA timezone (dashboard settings). Only "
        "target-clevertap-resolve uses it: CleverTap's event export gives times in it.",
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
        "writes it to rejected_records_path (rule delivery_uncertain; target-clevertap-resolve "
        "settles it from CleverTap's export) - no duplicates, nothing silently lost; `resend` "
        "uploads it again (at-least-once: an event may be doubled); `fail` stops the run so "
        "someone can decide.",
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
    return account_timezone(str(config["timezone"]))
