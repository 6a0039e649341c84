"""What both CleverTap plugins need to reach an account: credentials, region, URL, timezone."""

from __future__ import annotations

import logging
import typing as t
import zoneinfo

from singer_sdk import typing as th

from clevertap_segment_common.endpoints import checked_base_url

logger = logging.getLogger(__name__)

#: Region code -> API base URL (developer.clevertap.com "common API components"; eu1 is the
#: unprefixed host, which the dashboard also calls "global").
REGION_URLS: dict[str, str] = {
    "eu1": "https://api.clevertap.com",
    "global": "https://api.clevertap.com",
    "in1": "https://in1.api.clevertap.com",
    "us1": "https://us1.api.clevertap.com",
    "sg1": "https://sg1.api.clevertap.com",
    "aps3": "https://aps3.api.clevertap.com",
    "mec1": "https://mec1.api.clevertap.com",
    "sk1": "https://sk1.api.clevertap.com",
}
#: Only in older clients and docs tables; accepted, with a warning.
UNCERTAIN_REGIONS = frozenset({"sk1"})


def account_settings(api_url_suffix: str) -> list[th.Property[t.Any]]:
    """`account_id`, `passcode`, `region` and `api_url`, described the same way in both plugins."""
    return [
        th.Property(
            "account_id",
            th.StringType,
            required=True,
            title="Account ID",
            description="CleverTap project (account) id, sent as X-CleverTap-Account-Id.",
        ),
        th.Property(
            "passcode",
            th.StringType,
            required=True,
            secret=True,
            title="Passcode",
            description="CleverTap account or user passcode, sent as X-CleverTap-Passcode. "
            "Never logged or written anywhere.",
        ),
        th.Property(
            "region",
            th.StringType,
            default="eu1",
            allowed_values=sorted(REGION_URLS),
            description="Data-centre region: the sub-domain of your dashboard URL "
            "(in1.dashboard... -> in1). eu1 (alias global) is api.clevertap.com. sk1 is accepted "
            "with a warning (it may no longer be live). Ignored when api_url is set.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            description="Override of the API base URL (a proxy or the local sandbox), without "
            f"{api_url_suffix}. Must be https:// unless the host is loopback (127.0.0.0/8, ::1, "
            "localhost), so the passcode never travels unencrypted.",
        ),
    ]


def base_url(region: str | None, api_url: str | None) -> tuple[str, str | None]:
    """The API base URL and the region it came from (None for api_url); ValueError says why."""
    if api_url:
        return checked_base_url(str(api_url).strip()), None
    code = (region or "eu1").strip().lower()
    if code not in REGION_URLS:
        msg = (
            f"Setting 'region' is {region!r}; use one of {', '.join(sorted(REGION_URLS))} "
            "(the sub-domain of your dashboard URL), or set api_url."
        )
        raise ValueError(msg)
    if code in UNCERTAIN_REGIONS:
        logger.warning(
            "Region '%s' is not in CleverTap's current region table and may no longer be live; "
            "if calls fail to connect, check the sub-domain of your dashboard URL.",
            code,
        )
    return REGION_URLS[code], code


def account_timezone(name: str) -> zoneinfo.ZoneInfo:
    """The account's IANA timezone; ValueError names the bad value and where to look."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        msg = (
            f"Setting 'timezone' is {name!r}, which is not an IANA timezone name. Use the "
            "timezone shown in your CleverTap project settings, e.g. 'Asia/Kolkata'."
        )
        raise ValueError(msg) from exc
