"""The ``message_reports`` stream (POST /1/message/report.json), a full refresh on every run.

Message numbers keep changing after the send date (docs/clevertap-api.md §3.8), so the whole range
from ``start_date`` to yesterday (or ``end_date``) is read again each run: one call. With
``message_report_daily`` CleverTap splits each message by day (primary key message_id + date);
otherwise one aggregate row per message (primary key message_id).
"""

from __future__ import annotations

import typing as t

from tap_clevertap.errors import CleverTapError, SettingsError
from tap_clevertap.localtime import day_int, from_day_int
from tap_clevertap.schemas import open_object
from tap_clevertap.streams import CleverTapStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers import types

    from tap_clevertap.tap import TapCleverTap

_ID: dict[str, t.Any] = {"type": ["integer", "string"]}
_COUNT: dict[str, t.Any] = {"type": ["number", "null"]}
_TEXT: dict[str, t.Any] = {"type": ["string", "null"]}
#: Keys of a report item that become columns (CleverTap's key -> column); the rest go to
#: extra_fields. The response shape is not documented (§3.8, §8): these are the keys seen.
_COLUMNS = {
    "message name": "message_name",
    "channel": "channel",
    "delivery": "delivery",
    "status": "status",
    "message_type": "message_type",
    "label": "labels",
    "sent": "sent",
    "viewed": "viewed",
    "clicked": "clicked",
}


class MessageReportsStream(CleverTapStream):
    """Message statistics from start_date to yesterday, per message (or per message and day)."""

    name = "message_reports"
    replication_key = None
    SCHEMA: t.ClassVar[dict[str, t.Any]] = {
        "type": "object",
        "properties": {
            "message_id": _ID,
            "date": {"type": ["string", "null"], "format": "date"},
            "message_name": _TEXT,
            "channel": _TEXT,
            "delivery": _TEXT,
            "status": _TEXT,
            "message_type": _TEXT,
            "labels": {"type": ["array", "string", "null"], "items": {"type": "string"}},
            "start_date": {"type": ["string", "null"], "format": "date"},
            "sent": _COUNT,
            "viewed": _COUNT,
            "clicked": _COUNT,
            "extra_fields": open_object(),
        },
        "required": ["message_id"],
    }

    def __init__(self, tap: TapCleverTap, *, daily: bool) -> None:
        """The primary key depends on the daily split."""
        super().__init__(tap, self.SCHEMA)
        self.daily = daily
        self.primary_keys = ("message_id", "date") if daily else ("message_id",)

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """One call for the whole range; one record per answered row."""
        expected = ["message_id", "date"] if self.daily else ["message_id"]
        if list(self.primary_keys) != expected:
            msg = (
                f"message_reports: the catalog's primary key {list(self.primary_keys)} does not "
                f"fit message_report_daily={self.daily} (key {expected}); a target would merge "
                "or mis-key the rows. Discover the catalog again after changing the setting."
            )
            raise SettingsError(msg)
        settings = self.clevertap.settings
        first, last = self.window(None, 0)
        if first > last:
            return
        query: dict[str, t.Any] = {"from": day_int(first), "to": day_int(last)}
        if self.daily:
            query["daily"] = True
        what = f"message report for {first}..{last}"
        doc = self.clevertap.client.post("/1/message/report.json", query, what=what)
        messages = doc.get("messages", [])
        if not isinstance(messages, list):
            msg = f"{what}: 'messages' is not a list: {messages!r:.200}"
            raise CleverTapError(msg)
        for item in messages:
            yield self._record(item, what)
        self.logger.info(
            "message_reports: %d rows for %s..%s (daily=%s, tz %s)",
            len(messages),
            first,
            last,
            self.daily,
            settings.timezone.key,
        )

    def _record(self, item: t.Any, what: str) -> dict[str, t.Any]:
        if not isinstance(item, dict) or item.get("message id") in (None, ""):
            msg = f"{what}: a row without a 'message id': {item!r:.200}"
            raise CleverTapError(msg)
        day = from_day_int(item.get("date"))
        if self.daily and day is None:
            msg = (
                f"{what}: message {item['message id']} has no usable 'date' in a daily report "
                f"(got {item.get('date')!r}); set message_report_daily to false."
            )
            raise CleverTapError(msg)
        start = from_day_int(item.get("start_date"))
        record: dict[str, t.Any] = {
            "message_id": item["message id"],
            "date": day.isoformat() if day else None,
            "start_date": start.isoformat() if start else None,
        }
        for key, column in _COLUMNS.items():
            record[column] = item.get(key)
        known = {"message id", "date", "start_date", *_COLUMNS}
        record["extra_fields"] = {k: v for k, v in item.items() if k not in known} or None
        return record
