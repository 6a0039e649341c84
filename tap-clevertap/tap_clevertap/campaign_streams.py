"""The ``campaigns`` stream and its child ``campaign_reports``.

CleverTap lists campaigns by scheduled start and is "only optimized for ranges of 31 days or
less" (docs/clevertap-api.md §3.6), so the list is swept in 31-day windows from ``start_date`` to
``campaigns_horizon_days`` after today, every run (statuses change, so the whole list is read
again; it costs one call per window). A report exists only once a campaign has completed;
until then CleverTap answers in one of three ways (§3.7), and the campaign is remembered in
the state and asked again on the next run.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from tap_clevertap.errors import CleverTapError, NotReadyError
from tap_clevertap.localtime import day_int, from_day_int, parse_day, windows
from tap_clevertap.schemas import open_object
from tap_clevertap.streams import CleverTapStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers import types

    from tap_clevertap.tap import TapCleverTap

#: Longest window CleverTap's campaign list is meant for.
CAMPAIGN_WINDOW_DAYS = 31
_ID: dict[str, t.Any] = {"type": ["integer", "string"]}
_CAMPAIGN_KEYS = ("id", "name", "status", "channel", "scheduled_on")


def not_completed(status: int, doc: dict[str, t.Any]) -> str | None:
    """Why a report answer means "this campaign has not completed", or None.

    Observed: HTTP 409 (documented), and HTTP 500 "This target has no result as of yet". The third
    form, HTTP 200 "This target hasn't been completed" without ``result``, is a success answer
    and is recognised by the caller.
    """
    error = _error(doc)
    if status == 409:
        return f"HTTP 409 ({error or 'not completed'})"
    lowered = error.lower()
    if "no result" in lowered or "not been completed" in lowered or "n't been completed" in lowered:
        return f"HTTP {status} ({error})"
    return None


def _error(doc: dict[str, t.Any]) -> str:
    error = doc.get("error", doc.get("message", ""))
    return str(error) if error else ""


def build_campaign(item: dict[str, t.Any]) -> dict[str, t.Any]:
    """One ``campaigns`` record from one entry of ``targets`` (other keys go to extra_fields)."""
    scheduled = from_day_int(item.get("scheduled_on"))
    return {
        "id": item["id"],
        "name": item.get("name"),
        "status": item.get("status"),
        "channel": item.get("channel"),
        "scheduled_on": item.get("scheduled_on"),
        "scheduled_date": scheduled.isoformat() if scheduled else None,
        "extra_fields": {k: v for k, v in item.items() if k not in _CAMPAIGN_KEYS} or None,
    }


class CampaignsStream(CleverTapStream):
    """Campaigns by scheduled start, from start_date to campaigns_horizon_days after today."""

    name = "campaigns"
    primary_keys = ("id",)
    replication_key = None
    SCHEMA: t.ClassVar[dict[str, t.Any]] = {
        "type": "object",
        "properties": {
            "id": _ID,
            "name": {"type": ["string", "null"]},
            "status": {"type": ["string", "null"]},
            "channel": {"type": ["string", "null"]},
            "scheduled_on": {"type": ["integer", "string", "null"]},
            "scheduled_date": {"type": ["string", "null"], "format": "date"},
            "extra_fields": open_object(),
        },
        "required": ["id"],
    }

    def __init__(self, tap: TapCleverTap) -> None:
        """The schema is fixed."""
        super().__init__(tap, self.SCHEMA)
        self._listed_in: dict[str, dt.date] = {}

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Sweep the windows in order; each campaign once (the first window that lists it)."""
        settings = self.clevertap.settings
        today = self.clevertap.today()
        first = settings.start_date
        last = today + dt.timedelta(days=settings.campaigns_horizon_days)
        client = self.clevertap.client
        seen: set[str] = set()
        for start, end in windows(first, last, CAMPAIGN_WINDOW_DAYS):
            what = f"campaign list for {start}..{end}"
            doc = client.post(
                "/1/targets/list.json", {"from": day_int(start), "to": day_int(end)}, what=what
            )
            targets = doc.get("targets", [])
            if not isinstance(targets, list):
                msg = f"{what}: 'targets' is not a list: {targets!r:.200}"
                raise CleverTapError(msg)
            for item in targets:
                if not isinstance(item, dict) or item.get("id") in (None, ""):
                    msg = f"{what}: a campaign without an id: {item!r:.200}"
                    raise CleverTapError(msg)
                key = str(item["id"])
                if key in seen:
                    continue
                seen.add(key)
                record = build_campaign(item)
                # The list is by scheduled start: the window bounds it when scheduled_on is unknown.
                self._listed_in[key] = parse_day(record["scheduled_date"]) or end
                yield record
        for child in self.child_streams:
            if isinstance(child, CampaignReportsStream) and child.selected:
                child.sweep_complete(first, today)
        self.logger.info("campaigns: %d campaigns scheduled %s..%s", len(seen), first, last)

    def get_child_context(
        self, record: types.Record, context: types.Context | None
    ) -> types.Context | None:
        """The campaign's id, its scheduled day, and the day its report settles from."""
        return {
            "campaign_id": record["id"],
            "scheduled_date": record["scheduled_date"],
            "settle_day": self._listed_in[str(record["id"])].isoformat(),
        }


class ReportBook:
    """campaign_reports bookkeeping kept in the stream's state.

    ``pending``: campaigns whose report was not available (id -> scheduled day); asked again on
    every run until it is. ``settled``: scheduled days whose campaigns have all been read at least
    once after campaign_report_refresh_days had passed; not asked again (their reports no longer
    change). Everything else is read on every run.
    """

    def __init__(self, state: dict[str, t.Any]) -> None:
        """Read the bookkeeping the previous run left."""
        self._state = state
        settled = state.get("settled")
        settled = settled if isinstance(settled, dict) else {}
        self._from = parse_day(settled.get("from"))
        self._through = parse_day(settled.get("through"))
        pending = state.get("pending")
        self.pending: dict[str, str] = (
            {str(k): str(v) for k, v in pending.items()} if isinstance(pending, dict) else {}
        )
        self._listed: set[str] = set()

    def wants(self, campaign_id: t.Any, day: dt.date) -> bool:
        """Whether this run reads the campaign's report."""
        key = str(campaign_id)
        self._listed.add(key)
        if key in self.pending:
            return True
        if self._from is None or self._through is None:
            return True
        return not self._from <= day <= self._through

    def not_ready(self, campaign_id: t.Any, day: dt.date) -> None:
        """The report is not available yet: ask again next run."""
        self.pending[str(campaign_id)] = day.isoformat()
        self._save()

    def reported(self, campaign_id: t.Any) -> None:
        """The report was emitted."""
        if self.pending.pop(str(campaign_id), None) is not None:
            self._save()

    def sweep_complete(self, start: dt.date, cutoff: dt.date) -> None:
        """Every listed campaign was handled: settle days up to ``cutoff``, forget vanished ones."""
        self.pending = {k: v for k, v in self.pending.items() if k in self._listed}
        if start <= cutoff:
            self._from, self._through = start, cutoff
        else:
            self._from = self._through = None
        self._save()

    def _save(self) -> None:
        self._state["pending"] = dict(sorted(self.pending.items()))
        if self._from is not None and self._through is not None:
            self._state["settled"] = {
                "from": self._from.isoformat(),
                "through": self._through.isoformat(),
            }
        else:
            self._state.pop("settled", None)


class CampaignReportsStream(CleverTapStream):
    """The report of each listed campaign that has completed (POST /1/targets/result.json)."""

    name = "campaign_reports"
    primary_keys = ("campaign_id",)
    replication_key = None
    parent_stream_type = CampaignsStream
    SCHEMA: t.ClassVar[dict[str, t.Any]] = {
        "type": "object",
        "properties": {
            "campaign_id": _ID,
            "scheduled_date": {"type": ["string", "null"], "format": "date"},
            "read_on": {"type": "string", "format": "date"},
            "result": open_object(),
            "extra_fields": open_object(),
        },
        "required": ["campaign_id", "read_on"],
    }

    def __init__(self, tap: TapCleverTap) -> None:
        """The schema is fixed; the bookkeeping is read from state on first use."""
        super().__init__(tap, self.SCHEMA)
        self.state_partitioning_keys = ()  # one state for the stream, not one per campaign
        self._book: ReportBook | None = None

    @property
    def book(self) -> ReportBook:
        """This run's bookkeeping (the stream's state)."""
        if self._book is None:
            self._book = ReportBook(self.stream_state)
        return self._book

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The campaign's report, unless it is settled or not available yet."""
        if context is None:
            return
        campaign_id = context["campaign_id"]
        day = dt.date.fromisoformat(context["settle_day"])
        if not self.book.wants(campaign_id, day):
            return
        what = f"report of campaign {campaign_id}"
        try:
            doc = self.clevertap.client.post(
                "/1/targets/result.json", {"id": campaign_id}, what=what, not_ready=not_completed
            )
            result = doc.get("result")
            if not isinstance(result, dict):
                raise NotReadyError(
                    f"{what}: HTTP 200 without a result ({_error(doc) or 'no error given'})"
                )
        except NotReadyError as exc:
            self.logger.info("%s; asking again on the next run.", exc)
            self.book.not_ready(campaign_id, day)
            self.state_manager.is_flushed = False
            return
        yield {
            "campaign_id": campaign_id,
            "scheduled_date": context["scheduled_date"],
            "read_on": self.clevertap.today().isoformat(),
            "result": result,
            "extra_fields": {k: v for k, v in doc.items() if k not in {"status", "result"}} or None,
        }
        self.book.reported(campaign_id)
        self.state_manager.is_flushed = False

    def sweep_complete(self, start: dt.date, today: dt.date) -> None:
        """Called by campaigns after a complete sweep: settle what can no longer change."""
        cutoff = today - dt.timedelta(days=self.clevertap.settings.campaign_report_refresh_days)
        self.book.sweep_complete(start, cutoff)
        self.write_state()
