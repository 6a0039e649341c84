"""Segment-spec messages (a Segment archive or warehouse) as CleverTap uploads.

Follows Segment's CleverTap destination (docs/segment-api.md §3.6) and RudderStack's for what
Segment does not document: identify -> profile with the six special traits renamed; track -> event,
with Order Completed -> Charged; page/screen -> "Web Page Viewed"/"App Screen Viewed" with the page
name in the ``name`` property; alias -> the old identity's profile gains ``identity`` = userId.
A message whose ``integrations`` keep it from CleverTap is skipped, as Segment would not have sent
it, and text values are trimmed by default, as in CleverTap's example of what the destination
delivers (the target-clevertap README, "The segment preset and Segment's destination").
"""

from __future__ import annotations

import datetime as dt
import typing as t

from target_clevertap.presets.base import (
    Mapped,
    MappingConfigError,
    RecordSkipped,
    StreamContext,
    identifier,
    rejected,
    require_identity,
    timestamp_or_reject,
)
from target_clevertap.rules import (
    COLLISION,
    EVENT_NAME_MISSING,
    MISSING_IDENTITY,
    NESTED_VALUE,
    UNSUPPORTED_MESSAGE,
)
from target_clevertap.values import epoch_seconds

SPECIAL_TRAITS: dict[str, str] = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "gender": "Gender",
    "birthday": "DOB",
    "avatar": "Photo",
}
#: Traits that repeat the message's own ids; they are not profile properties.
ID_TRAITS = frozenset({"id", "userId", "anonymousId"})
PAGE_EVENT = "Web Page Viewed"
SCREEN_EVENT = "App Screen Viewed"
CHARGED_EVENT = "Charged"
ORDER_COMPLETED = "order completed"
_ORDER_ID_KEYS = ("order_id", "orderId", "checkout_id")
_AMOUNT_KEYS = ("total", "revenue", "value")

# Envelope fields in archive (camelCase) and warehouse (snake_case) spellings: never properties.
_ENVELOPE = frozenset(
    {
        "type", "userId", "user_id", "anonymousId", "anonymous_id", "messageId", "message_id",
        "previousId", "previous_id", "timestamp", "originalTimestamp", "original_timestamp",
        "sentAt", "sent_at", "receivedAt", "received_at", "context", "integrations", "event",
        "event_text", "traits", "properties", "version", "channel", "projectId", "project_id",
        "writeKey", "_metadata", "uuid_ts", "loaded_at", "id", "name", "category",
    }
)  # fmt: skip
_OPTIONS = frozenset(
    {"preset", "anonymous", "message_type", "honor_integrations", "link_anonymous_id"}
)
#: Segment's names of its CleverTap destinations (classic and Actions), compared lower-cased.
CLEVERTAP_DESTINATIONS = frozenset({"clevertap", "clevertap (actions)"})
INTEGRATIONS_OPT_OUT = "integrations_opt_out"
_TIME_FIELDS = ("timestamp", "originalTimestamp", "original_timestamp")


def opted_out(integrations: t.Any) -> bool:
    """Whether Segment would keep a message with these ``integrations`` from CleverTap.

    Segment's rule (its Spec, "Integrations"): a destination named with false gets nothing; with
    ``All`` false only destinations named with true (or an options object) get the message.
    Names are compared case-insensitively (Segment's are case-sensitive: the looser match is the
    reading that cannot send what the source meant to keep out), and a CleverTap destination
    named with false wins over one named with true.
    """
    if not isinstance(integrations, dict):
        return False
    everything: t.Any = None
    enabled = False
    for name, value in integrations.items():
        lowered = name.lower() if isinstance(name, str) else ""
        if lowered == "all":
            everything = value
        elif lowered in CLEVERTAP_DESTINATIONS:
            if value is False:
                return True
            enabled = enabled or value is True or isinstance(value, dict)
    return everything is False and not enabled


def _first(record: t.Mapping[str, t.Any], *names: str) -> t.Any:
    for name in names:
        value = record.get(name)
        if value is not None:
            return value
    return None


class SegmentPreset:
    """Maps one Segment message; ``message_type`` fills in ``type`` for warehouse tables."""

    trims_values = True

    def __init__(self, options: t.Mapping[str, t.Any], context: StreamContext) -> None:
        unknown = set(options) - _OPTIONS
        if unknown:
            msg = (
                f"stream '{context.stream}': the segment preset does not use "
                f"{', '.join(sorted(unknown))}; it takes only anonymous, message_type, "
                "honor_integrations and link_anonymous_id."
            )
            raise MappingConfigError(msg)
        self.context = context
        self.anonymous_as_object_id = options.get("anonymous", "object_id") == "object_id"
        self.message_type: str | None = options.get("message_type")
        self.honor_integrations = options.get("honor_integrations", True) is not False
        self.link_anonymous_id = options.get("link_anonymous_id", False) is True

    def map(self, record: dict[str, t.Any]) -> Mapped:
        """Dispatch on the message type; RecordSkipped when ``integrations`` opt out."""
        integrations = record.get("integrations")
        if integrations and self.honor_integrations and opted_out(integrations):
            raise RecordSkipped(INTEGRATIONS_OPT_OUT)
        kind = self.message_type or record.get("type")
        if kind == "track":  # most messages: no need to normalize the spelling
            return self._track(record)
        kind = str(kind or "").strip().lower()
        if kind == "identify":
            return self._identify(record)
        if kind == "track":
            return self._track(record)
        if kind in ("page", "screen"):
            return self._view(record, PAGE_EVENT if kind == "page" else SCREEN_EVENT)
        if kind == "alias":
            return self._alias(record)
        shown = kind or "missing"
        raise rejected(
            UNSUPPORTED_MESSAGE,
            f"Segment message type '{shown}' has no CleverTap equivalent (identify, track, page, "
            "screen and alias are loaded)",
            field="type",
        )

    # -- message types ---------------------------------------------------------------------------

    def _who(self, record: dict[str, t.Any], mapped: Mapped) -> Mapped:
        user_id = record.get("userId")
        if user_id is None:
            user_id = record.get("user_id")
        mapped.identity = identifier(user_id)
        if mapped.identity is None:
            anonymous_id = identifier(_first(record, "anonymousId", "anonymous_id"))
            if anonymous_id is not None and not self.anonymous_as_object_id:
                raise rejected(
                    MISSING_IDENTITY,
                    "message has only an anonymousId and the mapping's anonymous option is "
                    "'reject' (set it to 'object_id' to load it as the CleverTap objectId)",
                    field="userId",
                )
            mapped.object_id = anonymous_id
        message_id = record.get("messageId")
        if message_id is None:
            message_id = record.get("message_id")
        mapped.source_id = identifier(message_id)
        mapped.ts = self._ts(record)
        if mapped.object_id is None and mapped.identity is None:
            require_identity(mapped, "userId and anonymousId")
        return mapped

    def _ts(self, record: dict[str, t.Any]) -> int | None:
        for name in _TIME_FIELDS:
            value = record.get(name)
            if value is not None:
                if value.__class__ is dt.datetime and value.tzinfo is not None:
                    return int(value.timestamp())  # the schema typed it date-time: the usual case
                return self._epoch(value, name)
        return None

    def _epoch(self, value: t.Any, field: str) -> int:
        tz = self.context.timezone
        return timestamp_or_reject(lambda: epoch_seconds(value, tz), field)

    def _payload(self, record: dict[str, t.Any], field: str) -> dict[str, t.Any]:
        """``traits``/``properties``, or the non-envelope columns of a warehouse table.

        Columns starting with ``context_`` (flattened context) or ``_sdc_`` (Singer metadata,
        e.g. tap-jsonl's file name) are never properties.
        """
        value = record.get(field)
        if isinstance(value, dict):
            return value
        if value is not None:
            raise rejected(NESTED_VALUE, f"'{field}' must be an object", field=field)
        return {
            k: v
            for k, v in record.items()
            if k not in _ENVELOPE and not k.startswith(("context_", "_sdc_")) and v is not None
        }

    def _identify(self, record: dict[str, t.Any]) -> Mapped:
        mapped = self._who(record, Mapped(kind="profile"))
        if self.link_anonymous_id and mapped.identity is not None:
            self._link(record, mapped)
        traits = self._payload(record, "traits")
        data: dict[str, t.Any] = {}
        custom: dict[str, t.Any] = {}
        for key, value in traits.items():
            if value is None or key in ID_TRAITS:
                continue
            if key in SPECIAL_TRAITS:
                data[SPECIAL_TRAITS[key]] = value
            else:
                custom[key] = value
        for key in custom.keys() & data.keys():
            special = next(k for k, v in SPECIAL_TRAITS.items() if v == key)
            raise rejected(
                COLLISION,
                f"traits '{special}' and '{key}' both become CleverTap's '{key}'",
                field=key,
            )
        data.update(custom)
        mapped.data = data
        return mapped

    @staticmethod
    def _link(record: dict[str, t.Any], mapped: Mapped) -> None:
        """Address the anonymousId's device profile and give it the userId as its identity.

        RudderStack's CleverTap destination does this (``enableObjectIdMapping``); CleverTap does
        not document it for uploads, hence off by default (link_anonymous_id).
        """
        anonymous_id = identifier(_first(record, "anonymousId", "anonymous_id"))
        if anonymous_id is None or mapped.identity is None:
            return
        mapped.verbatim = {"identity": mapped.identity}
        mapped.lane_key = f"identity:{mapped.identity}"  # before the user's later events
        mapped.object_id, mapped.identity = anonymous_id, None

    def _track(self, record: dict[str, t.Any]) -> Mapped:
        mapped = self._who(record, Mapped(kind="event"))
        event = record.get("event")
        name = identifier(record.get("event_text") if event is None else event)
        if name is None:
            raise rejected(EVENT_NAME_MISSING, "track message without 'event'", field="event")
        properties = self._payload(record, "properties")  # null values are dropped later
        if name.lower() == ORDER_COMPLETED:
            mapped.event_name, mapped.charged = CHARGED_EVENT, True
            mapped.data = self._charged(properties)
        else:
            mapped.event_name, mapped.data = name, properties
        return mapped

    @staticmethod
    def _charged(properties: dict[str, t.Any]) -> dict[str, t.Any]:
        """Order Completed -> Charged: order id, amount and products in CleverTap's fields."""
        data = dict(properties)
        order_key = next((k for k in _ORDER_ID_KEYS if data.get(k) is not None), None)
        amount_key = next((k for k in _AMOUNT_KEYS if data.get(k) is not None), None)
        if order_key is not None:
            data["Charged ID"] = data.pop(order_key)
        if amount_key is not None:
            data["Amount"] = data.pop(amount_key)
        products = data.pop("products", None)
        if isinstance(products, list) and all(isinstance(p, dict) for p in products):
            data["Items"] = [{k: v for k, v in p.items() if v is not None} for p in products]
        elif products is not None:
            data["Items"] = products  # not a list of objects: the Items rule says so
        return data

    def _view(self, record: dict[str, t.Any], event_name: str) -> Mapped:
        mapped = self._who(record, Mapped(kind="event", event_name=event_name))
        properties = {k: v for k, v in self._payload(record, "properties").items() if v is not None}
        for field in ("name", "category"):
            value = record.get(field)
            if value is not None and field not in properties:
                properties[field] = value
        mapped.data = properties
        return mapped

    def _alias(self, record: dict[str, t.Any]) -> Mapped:
        user_id = identifier(_first(record, "userId", "user_id"))
        previous_id = identifier(_first(record, "previousId", "previous_id"))
        if user_id is None or previous_id is None:
            missing = "userId" if user_id is None else "previousId"
            raise rejected(MISSING_IDENTITY, f"alias without '{missing}'", field=missing)
        return Mapped(
            kind="profile",
            identity=previous_id,
            ts=self._ts(record),
            verbatim={"identity": user_id},
            source_id=identifier(_first(record, "messageId", "message_id")),
            lane_key=f"identity:{user_id}",
        )
