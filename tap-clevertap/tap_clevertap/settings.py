"""The tap's settings: the JSON schema `--about` prints, and the checks it cannot express."""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import typing as t
from dataclasses import dataclass

from clevertap_segment_common.clevertap_account import account_settings, account_timezone, base_url
from singer_sdk import typing as th

from tap_clevertap.audiences import Audience, parse_audiences
from tap_clevertap.errors import SettingsError

if t.TYPE_CHECKING:
    import zoneinfo

logger = logging.getLogger("tap-clevertap")


MAX_BATCH_SIZE = 5000
BUCKETS = 23
MAX_EXPORT_CONCURRENCY = 3
#: Longest events export window: CleverTap's campaign list is "optimized for ranges of 31 days
#: or less"; no limit is documented for exports, so the same bound (docs/clevertap-api.md).
MAX_EXPORT_WINDOW_DAYS = 31
TREND_TYPES = ("daily", "weekly", "monthly")
DEFAULT_AUDIENCE_STORE = "output/tap-clevertap-audiences.sqlite"

_CONDITIONS = th.ArrayType(
    th.ObjectType(
        th.Property("name", th.StringType, required=True),
        th.Property(
            "operator",
            th.StringType,
            description="equals (default), not_equals, contains, does_not_contain, exists, "
            "does_not_exist, greater_than, greater_than_equals, less_than, less_than_equals",
        ),
        th.Property(
            "value",
            th.CustomType(
                {
                    "type": ["string", "number", "boolean", "array", "null"],
                    "items": {"type": ["string", "number", "boolean"]},
                }
            ),
        ),
    )
)

CONFIG_SCHEMA = th.PropertiesList(
    *account_settings("the /1 suffix"),
    th.Property(
        "start_date",
        th.DateType,
        required=True,
        description="First day (account timezone) to extract when there is no bookmark.",
    ),
    th.Property(
        "end_date",
        th.DateType,
        description="Optional last day (account timezone) for a bounded backfill of the "
        "day-based streams (events, profiles, counts, trends, message reports; the campaigns "
        "sweep ignores it). Days after yesterday are never requested.",
    ),
    th.Property(
        "timezone",
        th.StringType,
        required=True,
        examples=["Asia/Kolkata", "Europe/Berlin", "UTC"],
        description="The CleverTap project's IANA timezone (Settings > Project). Export "
        "days and the `ts` of every event are local to it; a wrong value shifts every "
        "event_time and every day window, so there is no default.",
    ),
    th.Property(
        "event_names",
        th.ArrayType(th.StringType),
        description="Events to extract (exact, case-sensitive). When absent, every event "
        "listed by GET /getSchema?type=events is extracted.",
    ),
    th.Property(
        "profile_events",
        th.ArrayType(th.StringType),
        description="Events whose actors the profiles stream sweeps (GET /1/profiles.json "
        "per event). Default: the same list as the events stream. One broad event such "
        "as 'App Launched' is usually enough and far cheaper.",
    ),
    th.Property(
        "audiences",
        th.ArrayType(
            th.ObjectType(
                th.Property("name", th.StringType, required=True),
                th.Property("key", th.StringType),
                th.Property("event_name", th.StringType, required=True),
                th.Property("last_days", th.IntegerType, required=True),
                th.Property("event_properties", _CONDITIONS),
                th.Property("session_properties", _CONDITIONS),
                th.Property("profile_properties", _CONDITIONS),
            )
        ),
        description="Past-behavior audiences for the audience_members stream: each is a `name` "
        "(its `key` defaults to the snake_case name), an `event_name`, `last_days` (the window: "
        "that many complete days up to yesterday) and optional `event_properties`, "
        "`session_properties` and `profile_properties` conditions ({name, operator, value}), "
        "as CleverTap's profiles export takes them. See the README, Audiences.",
    ),
    th.Property(
        "audience_store_path",
        th.StringType,
        default=DEFAULT_AUDIENCE_STORE,
        description="SQLite file keeping each audience's last memberships, from which entries "
        "and exits are computed. Keep it between runs (a run whose bookmark it cannot match "
        "stops with an error); one run at a time may use it.",
    ),
    th.Property(
        "audience_unchanged_members",
        th.BooleanType,
        default=False,
        description="audience_members: also emit every member who stayed in the audience "
        "(change `member`) on each run, for a full membership snapshot. Off: only entries and "
        "exits.",
    ),
    th.Property(
        "batch_size",
        th.IntegerType(minimum=BUCKETS, maximum=MAX_BATCH_SIZE, multiple_of=BUCKETS),
        default=4991,
        description="Records per export page: at most 5000 and a multiple of 23 "
        "(CleverTap spreads data over 23 buckets).",
    ),
    th.Property(
        "lookback_days",
        th.IntegerType(minimum=0, maximum=366),
        default=2,
        description="Completed days re-read before the bookmarks of events, event_counts, "
        "profile_counts and trends on every run, to catch late-arriving events. Re-read "
        "events keep their event_id.",
    ),
    th.Property(
        "export_window_days",
        th.IntegerType(minimum=1, maximum=MAX_EXPORT_WINDOW_DAYS),
        default=1,
        description="Days per events export query (from..to); the bookmark moves when the "
        "whole window is read. Every query costs an open call before its pages, which is most "
        "of the time for events with few records a day. Default 1 (one query per day, "
        "bookmarked daily): CleverTap documents no record order and no size limit for "
        "multi-day exports, so larger windows are opt-in. A run stopped mid-window reads the "
        "whole window again (same event_ids).",
    ),
    th.Property(
        "profile_lookback_days",
        th.IntegerType(minimum=0, maximum=366),
        default=0,
        description="Completed days re-swept before the profiles bookmark on every run.",
    ),
    th.Property(
        "profile_window_days",
        th.IntegerType(minimum=1, maximum=3660),
        default=30,
        description="Days per profiles sweep window; the profiles bookmark advances after "
        "each window.",
    ),
    th.Property(
        "include_today",
        th.BooleanType,
        default=False,
        description="Also read today's partial data (never bookmarked, so re-read on the "
        "next run). Off by default: only complete days are extracted.",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=MAX_EXPORT_CONCURRENCY),
        default=3,
        description="Jobs (event days, count days, trend windows) fetched in parallel "
        "(1-3). Never more than 3 CleverTap calls are in flight across the whole tap, "
        "CleverTap's per-account limit.",
    ),
    th.Property(
        "campaigns_horizon_days",
        th.IntegerType(minimum=0, maximum=3660),
        default=365,
        description="How far after today the campaigns sweep reaches. CleverTap lists "
        "campaigns by scheduled start, so campaigns scheduled in the future are included "
        "up to this many days ahead. The sweep starts at start_date, in windows of 31 days.",
    ),
    th.Property(
        "campaign_report_refresh_days",
        th.IntegerType(minimum=0, maximum=3660),
        default=30,
        description="Reports of campaigns scheduled less than this many days before today "
        "are read on every run (their numbers still change); an older campaign's report is "
        "read once more and then settled (not read again). A campaign whose report is not "
        "available yet (not completed) is asked again on every run.",
    ),
    th.Property(
        "message_report_daily",
        th.BooleanType,
        default=False,
        description="message_reports: one row per message per day (CleverTap's `daily` "
        "split; primary key message_id + date) instead of one aggregate row per message "
        "over start_date..yesterday (primary key message_id).",
    ),
    th.Property(
        "count_events",
        th.ArrayType(th.StringType),
        description="Events counted by event_counts, profile_counts and trends. Default: the "
        "events stream's list (event_names, or every event from /getSchema).",
    ),
    th.Property(
        "trend_type",
        th.StringType,
        default="weekly",
        allowed_values=list(TREND_TYPES),
        description="Period of the trends stream: daily, weekly (ISO weeks) or monthly. "
        "Each period has the event count and the unique-profile count.",
    ),
    th.Property(
        "count_poll_interval",
        th.NumberType(exclusive_minimum=0),
        default=2.0,
        description="First wait in seconds before polling an asynchronous count (req_id); "
        "doubles per poll up to 30 s.",
    ),
    th.Property(
        "count_max_wait",
        th.NumberType(exclusive_minimum=0),
        default=600.0,
        description="Longest wait in seconds for one asynchronous count to finish before "
        "the run fails with an error naming the query.",
    ),
    th.Property(
        "skip_unexportable_events",
        th.BooleanType,
        default=True,
        description="Skip, with a warning, events CleverTap refuses to export (HTTP 400 "
        "'Export not allowed for this event', e.g. notification events). When false the "
        "run fails on them.",
    ),
    th.Property(
        "type_properties_from_schema",
        th.BooleanType,
        default=True,
        description="Type known event and profile properties from GET /getSchema during "
        "discovery (objects stay open to unknown properties).",
    ),
    th.Property(
        "export_profile_events_summary",
        th.BooleanType,
        default=True,
        description="Ask exports for each profile's per-event summary (`events` query "
        "parameter); turning it off shrinks event records a lot.",
    ),
    th.Property(
        "export_profile_data",
        th.BooleanType,
        default=True,
        description="Ask exports for custom profile properties (`profile` query parameter).",
    ),
    th.Property(
        "export_app_fields",
        th.BooleanType,
        default=False,
        description="Ask exports for app/device fields (`app` query parameter).",
    ),
    th.Property(
        "request_timeout",
        th.NumberType(exclusive_minimum=0),
        default=300,
        description="Seconds to wait for one HTTP response.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=100),
        default=8,
        description="Retries of one call on 429, 5xx, timeouts and connection errors.",
    ),
    th.Property(
        "in_progress_retries",
        th.IntegerType(minimum=0, maximum=1000),
        default=12,
        description="Retries of one cursor page while CleverTap answers 'Request still in "
        "progress' (code 2) or HTTP 202.",
    ),
    th.Property(
        "max_cursor_restarts",
        th.IntegerType(minimum=0, maximum=100),
        default=3,
        description="Times one export query (a day, or a window of export_window_days) is "
        "re-opened after its cursor expires ('Incorrect Usage', code 3) before the run fails.",
    ),
    th.Property(
        "retry_initial_wait",
        th.NumberType(exclusive_minimum=0),
        default=1.0,
        description="First backoff wait in seconds; doubles per retry up to retry_max_wait. "
        "A Retry-After header, when present, wins.",
    ),
    th.Property(
        "retry_max_wait",
        th.NumberType(exclusive_minimum=0),
        default=60.0,
        description="Cap of one backoff wait in seconds.",
    ),
).to_dict()


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated, resolved settings (the subset the HTTP and day logic need)."""

    account_id: str
    passcode: str
    base_url: str
    timezone: zoneinfo.ZoneInfo
    start_date: dt.date
    end_date: dt.date | None
    event_names: tuple[str, ...] | None
    profile_events: tuple[str, ...] | None
    batch_size: int
    lookback_days: int
    export_window_days: int
    profile_lookback_days: int
    profile_window_days: int
    include_today: bool
    max_concurrency: int
    skip_unexportable_events: bool
    request_timeout: float
    max_retries: int
    in_progress_retries: int
    max_cursor_restarts: int
    retry_initial_wait: float
    retry_max_wait: float
    export_params: tuple[tuple[str, str], ...]
    campaigns_horizon_days: int
    campaign_report_refresh_days: int
    message_report_daily: bool
    count_events: tuple[str, ...] | None
    trend_type: str
    count_poll_interval: float
    count_max_wait: float
    audiences: tuple[Audience, ...] = ()
    audience_store_path: str = DEFAULT_AUDIENCE_STORE
    audience_unchanged_members: bool = False

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """Resolve and check the config; raise SettingsError with a fix-it message."""
        for key in ("account_id", "passcode", "timezone", "start_date"):
            if not config.get(key):
                msg = f"Setting '{key}' is required."
                raise SettingsError(msg)
        start = _date(config, "start_date")
        end = _date(config, "end_date") if config.get("end_date") else None
        if end is not None and end < start:
            msg = f"Setting 'end_date' ({end}) is before 'start_date' ({start})."
            raise SettingsError(msg)
        return cls(
            account_id=str(config["account_id"]),
            passcode=str(config["passcode"]),
            base_url=resolve_base_url(config.get("region"), config.get("api_url")),
            timezone=_timezone(str(config["timezone"])),
            start_date=start,
            end_date=end,
            event_names=_names(config, "event_names"),
            profile_events=_names(config, "profile_events"),
            batch_size=_batch_size(_value(config, "batch_size")),
            lookback_days=_int_between(config, "lookback_days"),
            export_window_days=_int_between(config, "export_window_days"),
            profile_lookback_days=_int_between(config, "profile_lookback_days"),
            profile_window_days=_int_between(config, "profile_window_days"),
            include_today=bool(_value(config, "include_today")),
            max_concurrency=_int_between(config, "max_concurrency"),
            skip_unexportable_events=bool(_value(config, "skip_unexportable_events")),
            request_timeout=_positive(config, "request_timeout"),
            max_retries=_int_between(config, "max_retries"),
            in_progress_retries=_int_between(config, "in_progress_retries"),
            max_cursor_restarts=_int_between(config, "max_cursor_restarts"),
            retry_initial_wait=_positive(config, "retry_initial_wait"),
            retry_max_wait=_positive(config, "retry_max_wait"),
            export_params=_export_params(config),
            campaigns_horizon_days=_int_between(config, "campaigns_horizon_days"),
            campaign_report_refresh_days=_int_between(config, "campaign_report_refresh_days"),
            message_report_daily=bool(_value(config, "message_report_daily")),
            count_events=_names(config, "count_events"),
            trend_type=_trend_type(config.get("trend_type")),
            count_poll_interval=_positive(config, "count_poll_interval"),
            count_max_wait=_positive(config, "count_max_wait"),
            audiences=parse_audiences(config.get("audiences")),
            audience_store_path=str(
                config.get("audience_store_path") or _default("audience_store_path")
            ),
            audience_unchanged_members=bool(_value(config, "audience_unchanged_members")),
        )


def resolve_base_url(region: str | None, api_url: str | None) -> str:
    """Return the API base URL (no trailing slash); refuse plain http to non-loopback hosts."""
    try:
        return base_url(region, api_url)[0]
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _timezone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return account_timezone(name)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _date(config: t.Mapping[str, t.Any], key: str) -> dt.date:
    raw = str(config[key])
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError as exc:
        msg = f"Setting '{key}' is {raw!r}; expected a date like 2026-01-31."
        raise SettingsError(msg) from exc


def _names(config: t.Mapping[str, t.Any], key: str) -> tuple[str, ...] | None:
    raw = config.get(key)
    if raw is None:
        return None
    if not isinstance(raw, list | tuple) or not all(isinstance(n, str) and n for n in raw):
        msg = f"Setting '{key}' must be a list of non-empty event names."
        raise SettingsError(msg)
    return tuple(dict.fromkeys(raw))


def _batch_size(value: t.Any) -> int:
    if not isinstance(value, int) or value <= 0 or value > MAX_BATCH_SIZE or value % BUCKETS:
        msg = (
            f"Setting 'batch_size' is {value!r}; it must be a positive multiple of 23 "
            f"(CleverTap stores data in 23 buckets) and at most {MAX_BATCH_SIZE}. "
            "The largest valid value is 4991."
        )
        raise SettingsError(msg)
    return value


def _trend_type(value: t.Any) -> str:
    if value is None:
        return "weekly"
    if value not in TREND_TYPES:
        msg = f"Setting 'trend_type' is {value!r}; use one of {', '.join(TREND_TYPES)}."
        raise SettingsError(msg)
    return str(value)


def _schema(key: str) -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", CONFIG_SCHEMA["properties"][key])


def _default(key: str) -> t.Any:
    """A setting's default: the schema's, the one place defaults are written."""
    return _schema(key).get("default")


def _value(config: t.Mapping[str, t.Any], key: str) -> t.Any:
    value = config.get(key)
    return _default(key) if value is None else value


def _int_between(config: t.Mapping[str, t.Any], key: str) -> int:
    value, schema = _value(config, key), _schema(key)
    low, high = schema["minimum"], schema["maximum"]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        msg = f"Setting '{key}' is {value!r}; it must be an integer from {low} to {high}."
        raise SettingsError(msg)
    return value


def _positive(config: t.Mapping[str, t.Any], key: str) -> float:
    value = _value(config, key)
    # Config files are read with floats as Decimal.
    if (
        not isinstance(value, int | float | decimal.Decimal)
        or isinstance(value, bool)
        or value <= _schema(key)["exclusiveMinimum"]
    ):
        msg = f"Setting '{key}' is {value!r}; it must be a positive number of seconds."
        raise SettingsError(msg)
    return float(value)


def _export_params(config: t.Mapping[str, t.Any]) -> tuple[tuple[str, str], ...]:
    """Query flags that differ from CleverTap's defaults (events=true, profile=true, app=false)."""
    params: list[tuple[str, str]] = []
    if not _value(config, "export_profile_events_summary"):
        params.append(("events", "false"))
    if not _value(config, "export_profile_data"):
        params.append(("profile", "false"))
    if _value(config, "export_app_fields"):
        params.append(("app", "true"))
    return tuple(params)
