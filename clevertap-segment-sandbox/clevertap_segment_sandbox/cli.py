"""`api-sandbox serve`: the command line of the sandbox."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from clevertap_segment_sandbox.server import serve as run_server
from clevertap_segment_sandbox.settings import SandboxSettings

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date, datetime

    from click.decorators import FC

DEFAULTS = SandboxSettings()


def _probability(name: str, what: str) -> Callable[[FC], FC]:
    return click.option(
        f"--{name}",
        type=click.FloatRange(0.0, 1.0),
        default=0.0,
        show_default=True,
        help=f"Probability (0..1) that {what}.",
    )


def _timezone(context: click.Context, parameter: click.Parameter, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"{value!r} is not an IANA timezone such as Asia/Kolkata"
        ) from None
    return value


def _account_ids(context: click.Context, parameter: click.Parameter, value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@click.group()
def main() -> None:
    """Local emulators of the CleverTap REST API and the Segment HTTP Tracking API."""


@main.command()
@click.option("--host", default=DEFAULTS.host, show_default=True, help="Interface to bind.")
@click.option(
    "--clevertap-port",
    type=int,
    default=DEFAULTS.clevertap_port,
    show_default=True,
    help="CleverTap emulator port (0 = pick a free port).",
)
@click.option(
    "--segment-port",
    type=int,
    default=DEFAULTS.segment_port,
    show_default=True,
    help="Segment emulator port (0 = pick a free port).",
)
@click.option(
    "--account-id", default=DEFAULTS.account_id, show_default=True, help="CleverTap account id."
)
@click.option(
    "--extra-account-ids",
    default="",
    callback=_account_ids,
    help="More CleverTap account ids, comma-separated: each sees the same seeded data and has "
    "its own concurrency limits and counters (same passcode).",
)
@click.option(
    "--passcode", default=DEFAULTS.passcode, show_default=True, help="CleverTap passcode."
)
@click.option(
    "--write-key", default=DEFAULTS.write_key, show_default=True, help="The Segment write key."
)
@click.option(
    "--seed", type=int, default=DEFAULTS.seed, show_default=True, help="Seed of all data."
)
@click.option(
    "--timezone",
    default=DEFAULTS.timezone,
    show_default=True,
    callback=_timezone,
    help="Account timezone: days, `ts` and windows are local to it.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Today in the account timezone, YYYY-MM-DD.  [default: the real date there]",
)
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=DEFAULTS.days,
    show_default=True,
    help="Days of seeded history, ending yesterday.",
)
@click.option(
    "--profiles",
    type=click.IntRange(min=1),
    default=DEFAULTS.profiles,
    show_default=True,
    help="Number of seeded profiles.",
)
@click.option(
    "--events-per-day",
    type=click.IntRange(min=0),
    default=DEFAULTS.events_per_day,
    show_default=True,
    help="Average exportable events per event name per day.",
)
@click.option(
    "--late-fraction",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of a day's events that only become visible once the day is older than yesterday.",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Added to every API call (counts as in-flight time).",
)
@_probability("fault-5xx", "an API call answers a 5xx server error")
@_probability("fault-429", "an API call answers 429")
@_probability("fault-reset", "an API call's connection is reset without a response")
@_probability("fault-slow", "an API call is delayed by --slow-ms")
@click.option(
    "--slow-ms",
    type=click.IntRange(min=0),
    default=DEFAULTS.slow_ms,
    show_default=True,
    help="Delay of a slow fault.",
)
@_probability(
    "fault-in-progress", 'an export page answers {"status":"fail","code":2} (in progress)'
)
@_probability(
    "fault-stored-reset",
    "CleverTap stores an upload, then resets its connection before any byte of the answer "
    "(as a proxy or load balancer that drops a connection mid-answer does)",
)
@click.option(
    "--cursor-ttl-seconds",
    type=click.FloatRange(min=0.0),
    default=DEFAULTS.cursor_ttl_seconds,
    show_default=True,
    help="Export cursors older than this answer Incorrect Usage.",
)
@click.option(
    "--stale-connection-seconds",
    type=click.FloatRange(min=0.0),
    default=DEFAULTS.stale_connection_seconds,
    show_default=True,
    help="CleverTap API: a keep-alive connection idle longer than this is dropped without a "
    "word, as a load balancer's idle timeout does; the next request on it is reset unread "
    "(0 = never).",
)
@click.option(
    "--segment-rate-limit",
    type=click.FloatRange(min=0.0),
    default=0.0,
    show_default=True,
    help="Segment requests per second before 429 (0 = unlimited).",
)
@click.option(
    "--segment-dedup-hours",
    type=click.FloatRange(min=0.0),
    default=DEFAULTS.segment_dedup_hours,
    show_default=True,
    help="Hours of the sandbox clock a messageId stays known to Segment's deduplication; a "
    "message sent again later is accepted again (Segment keeps at least about 24 hours).",
)
@click.option(
    "--max-event-properties",
    type=click.IntRange(min=1),
    default=DEFAULTS.max_event_properties,
    show_default=True,
    help="CleverTap event properties per uploaded event before error 522.",
)
@click.option(
    "--allow-nested-objects",
    is_flag=True,
    default=False,
    help="Accept nested objects in uploads (CleverTap's opt-in Nested Objects feature).",
)
@click.option(
    "--request-log-size",
    type=click.IntRange(min=0),
    default=DEFAULTS.request_log_size,
    show_default=True,
    help="API requests kept per emulator in the request log (GET /_sandbox/clevertap/requests, "
    "/_sandbox/segment/requests): the oldest are forgotten first; 0 = no log. Each entry keeps "
    "the whole request body (gzip-decoded) and the whole response body, however large; auth "
    "headers are never kept and secrets in bodies are redacted.",
)
@click.option(
    "--request-log-mb",
    type=click.IntRange(min=0),
    default=DEFAULTS.request_log_mb,
    show_default=True,
    help="Also forget the oldest log entries once their bodies exceed this many MiB per "
    "emulator (full export pages are ~45 MB each); the newest entry is always kept; "
    "0 = bounded by --request-log-size only.",
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help='Write {"clevertap_url", "segment_url", "pid"} here once listening.',
)
def serve(today: datetime | None, ready_file: Path | None, **options: object) -> None:
    """Serve both emulators until interrupted; prints one `api-sandbox ready {...}` line."""
    logging.basicConfig(level=logging.WARNING)
    day: date | None = today.date() if today is not None else None
    settings = SandboxSettings(today=day, **options)  # type: ignore[arg-type]
    asyncio.run(run_server(settings, ready_file))
