"""Segment's ingest rules (docs/segment-api.md §1.3-1.5): what is refused (400) or dropped (200)."""

from __future__ import annotations

import json
from typing import Any

import orjson

MAX_MESSAGE_BYTES = 32 * 1024
MAX_REQUEST_BYTES = 500_000
MAX_BATCH_ITEMS = 2_500
MAX_MESSAGE_ID_LENGTH = 100
MIN_WRITE_KEY_LENGTH = 8
TYPES = ("identify", "track", "page", "screen", "group", "alias")


def message_size(message: object) -> int:
    """Bytes of a message as Segment's own library measures it (json.dumps, ASCII escapes).

    That is the largest of the plausible serialisations, so the check is the stricter reading.
    """
    compact = len(orjson.dumps(message))
    if compact * 4 < MAX_MESSAGE_BYTES:
        return compact
    return len(json.dumps(message).encode())


def _present_string(value: object) -> bool:
    return isinstance(value, str) and value != ""


def drop_reason(message: dict[str, Any]) -> str | None:
    """Segment's discard code for a message it would accept with 200 and then drop."""
    kind = message.get("type")
    if kind not in TYPES:
        return "invalid_type"
    if kind == "alias":
        if not _present_string(message.get("userId")):
            return "no_user_anon_id"
        if not _present_string(message.get("previousId")):
            return "id_required"
    elif not (
        _present_string(message.get("userId")) or _present_string(message.get("anonymousId"))
    ):
        return "no_user_anon_id"
    message_id = message.get("messageId")
    if message_id is not None and (
        not isinstance(message_id, str) or len(message_id) > MAX_MESSAGE_ID_LENGTH
    ):
        return "invalid_message_id"
    if kind == "track":
        if "event" not in message or message["event"] in (None, ""):
            return "event_not_defined"
        if not isinstance(message["event"], str):
            return "event_not_string"
    if kind in ("track", "page", "screen") and not isinstance(message.get("properties", {}), dict):
        return "properties_not_object"
    if kind in ("identify", "group") and not isinstance(message.get("traits", {}), dict):
        return "traits_not_object"
    if kind in ("page", "screen"):
        if "name" in message and not _present_string(message["name"]):
            return "name_not_string"
        if "category" in message and not _present_string(message["category"]):
            return "category_not_string"
    if kind == "group" and not _present_string(message.get("groupId")):
        return "id_required"
    return None


def merge_envelope(message: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
    """Batch-level `context` and `integrations` go into every item; the item's own keys win."""
    merged = dict(message)
    for key in ("context", "integrations"):
        outer = envelope.get(key)
        if isinstance(outer, dict):
            inner = message.get(key)
            merged[key] = {**outer, **inner} if isinstance(inner, dict) else dict(outer)
    return merged
