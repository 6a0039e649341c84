"""Counting, from what the sandbox stored, what was delivered once, lost or doubled.

Expected values come from outside the plugins: the sandbox's seed ground truth (what an export
returns) for CleverTap → Segment, and the archive the harness wrote for Segment → CleverTap.
"""

from __future__ import annotations

import json
import typing as t
from collections import Counter

if t.TYPE_CHECKING:
    from clevertap_segment_sandbox import SandboxClient


def expected_events(client: SandboxClient) -> dict[str, int]:
    """Records per event name an export of the whole seeded history returns (ground truth)."""
    summary = client.seed_summary(event_profiles=False)
    skip = set(summary.get("not_exportable_events", []))
    return {
        name: int(info["total"])
        for name, info in summary["events"].items()
        if info.get("total") and name not in skip
    }


def expected_profiles(client: SandboxClient, event_name: str) -> int:
    """Distinct profiles who did ``event_name`` over the whole history (ground truth)."""
    return int(client.seed_summary()["profiles"]["by_event"][event_name])


def segment_accounting(
    client: SandboxClient, by_event: dict[str, int], identifies: int | None = None
) -> dict[str, t.Any]:
    """Segment side: messages per event vs the ground truth, and content duplicates.

    The sandbox, like Segment, keeps one message per messageId; a duplicate would be the same
    call under a second messageId, so calls are also compared by content.
    """
    messages = client.segment_messages()
    stats = client.segment_stats()
    tracks: Counter[str] = Counter(str(m.get("event")) for m in messages if m["type"] == "track")
    identify_count = sum(1 for m in messages if m["type"] == "identify")
    content = Counter(
        json.dumps(
            [
                m["type"],
                m.get("event"),
                m.get("userId"),
                m.get("anonymousId"),
                m.get("timestamp"),
                m.get("properties"),
                m.get("traits"),
            ],
            sort_keys=True,
        )
        for m in messages
    )
    expected_total = sum(by_event.values()) + (identifies or 0)
    lost = sum(max(0, count - tracks.get(name, 0)) for name, count in by_event.items())
    unexpected = sum(max(0, tracks[name] - by_event.get(name, 0)) for name in tracks)
    if identifies is not None:
        lost += max(0, identifies - identify_count)
        unexpected += max(0, identify_count - identifies)
    return {
        "expected": expected_total,
        "delivered_once": len(messages) - sum(count - 1 for count in content.values() if count > 1),
        "lost": lost,
        "duplicated": sum(count - 1 for count in content.values() if count > 1),
        "unexpected": unexpected,
        "resent_and_dropped_by_message_id": stats["duplicates"],
        "dropped_by_segment": stats["dropped"],
        "faults_injected": stats["faults_injected"],
    }


def _seq(record: dict[str, t.Any]) -> int | None:
    for part in ("properties", "traits"):
        values = record.get(part)
        if isinstance(values, dict) and isinstance(values.get("seq"), int):
            return int(values["seq"])
    return None


def clevertap_accounting(
    client: SandboxClient,
    tracks: set[int],
    identified_users: set[str],
    rejects: list[dict[str, t.Any]],
) -> dict[str, t.Any]:
    """CleverTap side: every fed track event stored once, or listed as uncertain, or rejected.

    ``tracks`` are the ``seq`` numbers of the track calls fed in. The honest accounting of
    target-clevertap after a crash: stored exactly once + uncertain (not stored) = fed in.
    """
    stored = Counter(
        int(event["evtData"]["seq"])
        for event in client.clevertap_uploaded_events()
        if isinstance(event.get("evtData", {}).get("seq"), int)
    )
    stats = client.clevertap_stats()
    by_rule: dict[str, set[int]] = {}
    for line in rejects:
        seq = _seq(line.get("record") or {})
        if seq is not None:
            by_rule.setdefault(line["rule"], set()).add(seq)
    uncertain = by_rule.pop("delivery_uncertain", set()) & tracks
    rejected = set().union(*by_rule.values()) & tracks if by_rule else set()
    stored_set = set(stored) & tracks
    profiles = {p.get("identity") for p in client.clevertap_profiles()}
    return {
        "expected": len(tracks),
        "stored_once": sum(1 for seq in stored_set if stored[seq] == 1),
        "duplicated": sum(count - 1 for count in stored.values() if count > 1),
        "uncertain": len(uncertain),
        "uncertain_and_stored": len(uncertain & stored_set),
        "uncertain_not_stored": len(uncertain - stored_set),
        "rejected_other": len(rejected),
        "rejected_by_rule": {rule: len(seqs) for rule, seqs in sorted(by_rule.items())},
        "lost": len(tracks - stored_set - uncertain - rejected),
        "unexpected": sum(count for seq, count in stored.items() if seq not in tracks),
        "profiles_expected": len(identified_users),
        "profiles_missing": len(identified_users - profiles),
        "sandbox_duplicate_events": stats["uploads"]["duplicate_events"],
        "faults_injected": stats["faults_injected"],
    }


def after_resolution(
    client: SandboxClient, tracks: set[int], rejects: list[dict[str, t.Any]]
) -> dict[str, int]:
    """Once target-clevertap-resolve ran: every fed track event stored once, or refused by a rule.

    Events listed in doubt no longer count as accounted for: the resolution must have found them
    stored or sent them again.
    """
    stored = Counter(
        int(event["evtData"]["seq"])
        for event in client.clevertap_uploaded_events()
        if isinstance(event.get("evtData", {}).get("seq"), int)
    )
    refused = {
        seq
        for line in rejects
        if line["rule"] != "delivery_uncertain"
        if (seq := _seq(line.get("record") or {})) is not None
    }
    return {
        "stored_once": sum(1 for seq in set(stored) & tracks if stored[seq] == 1),
        "duplicated": sum(count - 1 for count in stored.values() if count > 1),
        "lost": len(tracks - set(stored) - refused),
    }
