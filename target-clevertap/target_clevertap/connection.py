"""The connection check behind ``--test`` and ``meltano config test``: one schema read.

``GET /getSchema?type=events`` cannot create data, unlike an upload (``dryRun=1`` is not in
CleverTap's documentation: if it were ignored, a "test" upload would be stored). CleverTap answers
401 both for a wrong account id/passcode and for a right one sent to another region's host
(docs/clevertap-api.md §1.1), so on a 401 the check reads the schema at the other regions
(CleverTap's own https hosts) and says which one accepts the credentials. A redirect is reported,
never followed: following it would send the passcode to another address.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from clevertap_segment_common.clevertap_account import REGION_URLS
from clevertap_segment_common.target_errors import ConnectionCheckError

from target_clevertap.schema_reader import SchemaReader, SchemaUnreadable
from target_clevertap.settings import resolve_endpoint

__all__ = ["ConnectionCheckError", "check_connection", "probe"]

Outcome = t.Literal["ok", "unauthorized", "forbidden", "unreachable", "redirected", "unexpected"]
_OUTCOMES: dict[str, Outcome] = {
    "refused": "unauthorized",
    "forbidden": "forbidden",
    "unreachable": "unreachable",
    "redirected": "redirected",
    "missing": "unexpected",
    "unexpected": "unexpected",
}


@dataclass(frozen=True)
class ProbeResult:
    """What one schema read told us."""

    outcome: Outcome
    detail: str = ""


def probe(base_url: str, account_id: str, passcode: str, timeout: float) -> ProbeResult:
    """Read the event schema at one host, once (no retries: this is a check)."""
    reader = SchemaReader(base_url, account_id, passcode, timeout, max_retries=0)
    try:
        reader.read("events")
    except SchemaUnreadable as exc:
        return ProbeResult(_OUTCOMES[exc.problem], str(exc))
    return ProbeResult("ok")


def check_connection(
    config: t.Mapping[str, t.Any],
    *,
    regions: t.Mapping[str, str] = REGION_URLS,
    timeout: float = 15.0,
) -> str:
    """A success message, or ConnectionCheckError saying whether credentials or region is wrong."""
    account_id, passcode = str(config["account_id"]), str(config["passcode"])
    endpoint = resolve_endpoint(config)
    base_url = (
        regions.get(endpoint.region, endpoint.base_url) if endpoint.region else endpoint.base_url
    )
    where = f"region {endpoint.region} ({base_url})" if endpoint.region else base_url
    result = probe(base_url, account_id, passcode, timeout)
    if result.outcome == "ok":
        return (
            f"Connection check passed: CleverTap at {where} accepted account id {account_id} "
            "and its passcode (a read of GET /getSchema; nothing was written)."
        )
    if result.outcome == "unreachable":
        msg = (
            f"Cannot reach CleverTap at {where} ({result.detail}). Check the region (or api_url) "
            "and that this machine can reach it."
        )
        raise ConnectionCheckError(msg)
    if result.outcome == "forbidden":
        msg = (
            f"CleverTap at {where} did not let account id {account_id} read its schema "
            f"({result.detail}): the passcode may lack that permission. property_names: "
            "match_account needs the read; use a passcode allowed to read the schema, or an "
            "explicit property_names convention."
        )
        raise ConnectionCheckError(msg)
    if result.outcome == "redirected":
        msg = f"CleverTap at {where} did not answer the schema read: {result.detail}"
        raise ConnectionCheckError(msg)
    if result.outcome == "unexpected":
        msg = f"CleverTap at {where} answered the schema read unexpectedly: {result.detail}."
        raise ConnectionCheckError(msg)
    if endpoint.region is None:
        msg = (
            f"{base_url} refused account id {account_id} ({result.detail}): the account id or "
            "passcode is wrong, or api_url points at another region's host."
        )
        raise ConnectionCheckError(msg)
    accepted, unreachable = _other_regions(account_id, passcode, regions, base_url, timeout)
    if accepted:
        msg = (
            f"Wrong region: {where} refused account id {account_id}, but region "
            f"{accepted[0]} accepts it and its passcode. Set region to {accepted[0]}."
        )
        raise ConnectionCheckError(msg)
    asked = sorted(r for r in regions if r not in unreachable)
    msg = (
        f"Wrong account id or passcode: CleverTap refused account id {account_id} in "
        f"region(s) {', '.join(asked)}. Check account_id and passcode (a passcode from "
        "Settings > Passcode, not the SDK account token)."
    )
    if unreachable:
        msg += f" Region(s) {', '.join(unreachable)} could not be reached to compare."
    raise ConnectionCheckError(msg)


def _other_regions(
    account_id: str, passcode: str, regions: t.Mapping[str, str], refused_url: str, timeout: float
) -> tuple[list[str], list[str]]:
    """Regions (other than the refusing host) that accept the credentials, and unreachable ones."""
    outcome_by_url: dict[str, str] = {refused_url: "unauthorized"}
    accepted: list[str] = []
    unreachable: list[str] = []
    for region, url in sorted(regions.items()):
        if url not in outcome_by_url:
            outcome_by_url[url] = probe(url, account_id, passcode, timeout).outcome
        if outcome_by_url[url] == "ok":
            accepted.append(region)
        elif outcome_by_url[url] == "unreachable":
            unreachable.append(region)
    return accepted, unreachable
