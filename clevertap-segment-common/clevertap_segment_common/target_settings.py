"""Settings with the same name and meaning in both targets, and the checks JSON schema cannot do."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from singer_sdk import typing as th

from clevertap_segment_common.http import CONNECTION_IDLE_SECONDS

if t.TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_STATE_INTERVAL_SECONDS: t.Final = 60


@dataclass(frozen=True)
class DeliveryLimits:
    """A vendor's limits on requests, and why they are what they are (shown in errors)."""

    max_concurrency: int
    max_batch_rows: int
    concurrency_reason: str = ""
    batch_rows_reason: str = ""


def common_target_settings(
    *,
    plugin: str,
    default_concurrency: int,
    default_batch_rows: int,
    limits: DeliveryLimits,
    overrides: Sequence[th.Property[t.Any]] = (),
) -> list[th.Property[t.Any]]:
    """The shared part of a target's configuration schema; ``overrides`` replace settings by name.

    A target overrides a setting whose values or default differ for its vendor (target-clevertap's
    `property_names` offers `match_account`, for instance), keeping the rest shared.
    """
    shared: list[th.Property[t.Any]] = [
        th.Property(
            "property_names",
            th.StringType,
            default="none",
            allowed_values=["none", "segment", "lodash", "to-snake-case", "go-snakecase"],
            title="Property name convention",
            description=(
                "How property and trait names are rewritten before loading. `none` keeps them as "
                "they are; `segment` reproduces Segment's CleverTap destination (lodash snakeCase: "
                "'Industry Of Traits' -> 'industry_of_traits')."
            ),
        ),
        th.Property(
            "normalize_nested_keys",
            th.BooleanType,
            default=False,
            description="Also rewrite keys inside nested objects (property_names other than none).",
        ),
        th.Property(
            "trim_values",
            th.BooleanType,
            default=False,
            description=(
                "Strip leading and trailing whitespace from text values (CleverTap's documentation "
                "example trims; whether Segment's destination does is unconfirmed, so off)."
            ),
        ),
        th.Property(
            "collision_policy",
            th.StringType,
            default="error",
            allowed_values=["error", "first_wins", "last_wins"],
            description=(
                "When two names in one record normalize to the same key: `error` rejects the "
                "record naming both keys (nothing lost silently); `first_wins`/`last_wins` keep "
                "one value."
            ),
        ),
        th.Property(
            "max_concurrency",
            th.IntegerType,
            default=default_concurrency,
            description=f"Requests in flight at once (1-{limits.max_concurrency}).",
        ),
        th.Property(
            "batch_size_rows",
            th.IntegerType,
            default=default_batch_rows,
            description=f"Records per API request (1-{limits.max_batch_rows}).",
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            description=(
                "Validate and map everything but store nothing at the vendor (and emit no STATE, "
                "so no bookmark moves)."
            ),
        ),
        th.Property(
            "rejected_records_path",
            th.StringType,
            default=f"output/{plugin}-rejected.jsonl",
            description="JSONL file receiving every rejected record with its reason.",
        ),
        th.Property(
            "on_rejected",
            th.StringType,
            default="continue",
            allowed_values=["continue", "fail"],
            description=(
                "`continue` writes rejected records to rejected_records_path and loads the rest; "
                "`fail` stops the run at the first rejected record (after writing it there)."
            ),
        ),
        th.Property(
            "summary_path",
            th.StringType,
            description="Optional JSON file receiving the run summary (counts by outcome).",
        ),
        th.Property(
            "request_timeout",
            th.NumberType,
            default=60,
            description="Seconds to wait for one API response.",
        ),
        th.Property(
            "connection_idle_seconds",
            th.NumberType(exclusive_minimum=0),
            default=CONNECTION_IDLE_SECONDS,
            description=(
                "A kept-alive connection idle longer than this is not used again. A server or "
                "load balancer may drop idle connections without a word, and a request sent on "
                "one is reset with no way to tell whether it was processed; keep this below the "
                "shortest idle timeout on the way to the API (4 s stays below the usual 5 s)."
            ),
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=10,
            description="Retries of one batch on network errors, 429 and 5xx before the run fails.",
        ),
        th.Property(
            "state_interval_seconds",
            th.NumberType,
            default=DEFAULT_STATE_INTERVAL_SECONDS,
            description=(
                "While input keeps coming, wait for every record before the latest STATE to be "
                "confirmed and emit that STATE at least this often (the SDK default is 5 minutes)."
            ),
        ),
    ]
    replaced = {setting.name: setting for setting in overrides}
    return [replaced.get(setting.name, setting) for setting in shared]


def common_setting_errors(config: t.Mapping[str, t.Any], limits: DeliveryLimits) -> list[str]:
    """What is wrong with the shared settings (ranges), one sentence per setting."""
    errors = []
    concurrency = config.get("max_concurrency")
    if concurrency is not None and not 1 <= int(concurrency) <= limits.max_concurrency:
        errors.append(
            f"max_concurrency must be 1-{limits.max_concurrency}, got {concurrency}"
            f"{limits.concurrency_reason}."
        )
    rows = config.get("batch_size_rows")
    if rows is not None and not 1 <= int(rows) <= limits.max_batch_rows:
        errors.append(
            f"batch_size_rows must be 1-{limits.max_batch_rows}, got {rows}"
            f"{limits.batch_rows_reason}."
        )
    interval = config["state_interval_seconds"]
    if float(interval) <= 0:
        errors.append(f"state_interval_seconds must be positive, got {interval}.")
    return errors
