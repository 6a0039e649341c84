"""TapCleverTap: settings, the shared HTTP client and limiter, stream discovery."""

from __future__ import annotations

import sys
import threading
import typing as t
from functools import cached_property

from clevertap_segment_common.sdk_compat import HookedTap
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities

from tap_clevertap.audience_stream import AudienceMembersStream
from tap_clevertap.campaign_streams import CampaignReportsStream, CampaignsStream
from tap_clevertap.client import CleverTapClient, ExportLimiter, check_connection
from tap_clevertap.count_streams import EventCountsStream, ProfileCountsStream, TrendsStream
from tap_clevertap.discovery import AccountSchema, parse_events_schema, parse_profile_schema
from tap_clevertap.errors import (
    CleverTapAuthError,
    CleverTapConnectionError,
    CleverTapEndpointError,
    CleverTapError,
    SettingsError,
)
from tap_clevertap.localtime import local_today
from tap_clevertap.property_audit import NameInventory
from tap_clevertap.report_streams import MessageReportsStream
from tap_clevertap.schema_streams import (
    EventSchemaStream,
    PropertyNameAuditStream,
    UserPropertySchemaStream,
)
from tap_clevertap.schemas import event_schema, profile_schema
from tap_clevertap.settings import CONFIG_SCHEMA, MAX_EXPORT_CONCURRENCY, Settings
from tap_clevertap.streams import EventsStream, ProfilesStream
from tap_clevertap.writer import OrjsonSingerWriter

if t.TYPE_CHECKING:
    import datetime as dt

    import click
    from singer_sdk.streams import Stream

_EXIT_ON_SIGNAL = 128


#: Sync order: the data streams first, the audit last (it audits the keys they emitted).
STREAM_ORDER = (
    "events",
    "profiles",
    "audience_members",
    "campaigns",
    "campaign_reports",
    "message_reports",
    "event_counts",
    "profile_counts",
    "trends",
    "event_schema",
    "user_property_schema",
    "property_name_audit",
)


def _stream_order(name: str) -> int:
    return STREAM_ORDER.index(name) if name in STREAM_ORDER else len(STREAM_ORDER)


class TapCleverTap(HookedTap):
    """Singer tap for CleverTap: events, profiles, campaigns, reports, counts and schema."""

    name = "tap-clevertap"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = OrjsonSingerWriter
    #: No BATCH: day checkpoints emit STATE as records are written, which BATCH files would
    #: overtake. No ACTIVATE_VERSION: both streams are incremental.
    capabilities: t.ClassVar[list[t.Any]] = [
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]

    def __init__(self, *args: t.Any, validate_config: bool = True, **kwargs: t.Any) -> None:
        """Create the tap; with validate_config, settings are checked before any HTTP call."""
        self._validate_settings = validate_config
        self._schema_lock = threading.RLock()
        self._schema_docs: dict[str, dict[str, t.Any]] = {}
        self._account_schema: AccountSchema | None = None
        self._names = NameInventory()
        self._today_lock = threading.Lock()
        self._today: dt.date | None = None
        #: One limiter per tap instance: CleverTap allows 3 export calls per account at a time.
        self.limiter = ExportLimiter(MAX_EXPORT_CONCURRENCY)
        super().__init__(*args, validate_config=validate_config, **kwargs)
        if validate_config:
            _ = self.settings

    # -- shared resources --------------------------------------------------------------

    @cached_property
    def settings(self) -> Settings:
        """Resolved settings; raises SettingsError with a fix-it message."""
        return Settings.from_config(self.config)

    @cached_property
    def client(self) -> CleverTapClient:
        """The HTTP client every stream and worker thread shares."""
        return CleverTapClient(self.settings, self.limiter)

    def schema_doc(self, kind: str) -> dict[str, t.Any]:
        """The answer of GET /getSchema?type=<kind>, fetched once per tap instance."""
        with self._schema_lock:
            if kind not in self._schema_docs:
                self._schema_docs[kind] = self.client.get_schema(kind)
            return self._schema_docs[kind]

    def account_schema(self) -> AccountSchema:
        """Event names and property types from /getSchema, fetched once per tap instance."""
        with self._schema_lock:
            if self._account_schema is None:
                names, event_props = parse_events_schema(self.schema_doc("events"))
                try:
                    profile_props = parse_profile_schema(self.schema_doc("userProperties"))
                except (CleverTapAuthError, CleverTapConnectionError):
                    raise
                except CleverTapError as exc:
                    self.logger.warning("Profile properties stay untyped: %s", exc)
                    profile_props = {}
                self._account_schema = AccountSchema(names, event_props, profile_props)
            return self._account_schema

    def today(self) -> dt.date:
        """Today in the account timezone, fixed for the run, taken from CleverTap's clock.

        The server's Date header decides what "future" means to CleverTap, so a skewed local
        clock can neither ask for a future day nor skip a completed one; the local clock is the
        fallback when the server sends no usable Date header.
        """
        with self._today_lock:
            if self._today is None:
                server_now = self.client.server_now()
                if server_now is None:
                    self.client.get_schema("events")  # one cheap call to read the clock
                    server_now = self.client.server_now()
                tz = self.settings.timezone
                if server_now is None:
                    self.logger.warning("CleverTap sent no Date header; using the local clock.")
                    self._today = local_today(tz)
                else:
                    self._today = server_now.astimezone(tz).date()
                    if self._today != local_today(tz):
                        self.logger.warning(
                            "CleverTap's clock says today is %s in %s; the local clock says %s. "
                            "Using CleverTap's.",
                            self._today,
                            tz.key,
                            local_today(tz),
                        )
            return self._today

    def event_names(self) -> tuple[list[str], str]:
        """The events to extract and where the list came from (for error messages)."""
        if self.settings.event_names is not None:
            return list(self.settings.event_names), "the event_names setting"
        return list(self.account_schema().event_names), "GET /getSchema?type=events"

    def count_events(self) -> tuple[list[str], str]:
        """The events the count and trend streams count, and where the list came from."""
        if self.settings.count_events is not None:
            return list(self.settings.count_events), "the count_events setting"
        return self.event_names()

    def name_inventory(self) -> NameInventory | None:
        """Where streams note the property names they emit; None unless the audit is selected."""
        audit = self.streams.get(PropertyNameAuditStream.name)
        return self._names if audit is not None and audit.selected else None

    def profile_events(self) -> list[str]:
        """Events whose actors the profiles stream sweeps."""
        if self.settings.profile_events is not None:
            return list(self.settings.profile_events)
        return self.event_names()[0]

    # -- discovery ----------------------------------------------------------------------

    def discover_streams(self) -> list[Stream]:
        """Every stream; events and profiles typed from /getSchema when enabled and possible."""
        event_props: dict[str, t.Any] = {}
        profile_props: dict[str, t.Any] = {}
        if self._can_call_api() and self.config["type_properties_from_schema"]:
            schema = self.account_schema()
            event_props, profile_props = schema.event_properties, schema.profile_properties
        return [
            EventsStream(self, event_schema(event_props, profile_props)),
            ProfilesStream(self, profile_schema(profile_props)),
            AudienceMembersStream(self),
            CampaignsStream(self),
            CampaignReportsStream(self),
            MessageReportsStream(self, daily=bool(self.config.get("message_report_daily"))),
            EventCountsStream(self),
            ProfileCountsStream(self),
            TrendsStream(self),
            EventSchemaStream(self),
            UserPropertySchemaStream(self),
            PropertyNameAuditStream(self),
        ]

    @property
    def streams(self) -> dict[str, Stream]:
        """The SDK's streams in STREAM_ORDER instead of by name (the order sync_all uses).

        The audit must come after events and profiles, whose records it audits.
        """
        streams = super().streams
        return {name: streams[name] for name in sorted(streams, key=_stream_order)}

    def _can_call_api(self) -> bool:
        if self._validate_settings:
            _ = self.settings
            return True
        try:
            _ = self.settings
        except SettingsError:
            return False
        return True

    # -- CLI ------------------------------------------------------------------------------

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """``--test``: one cheap call that says clearly what is wrong, then the SDK's test."""
        if value == "schema":
            super().cb_test(ctx, param, value)
            return
        if value == "disabled":
            return
        config = ctx.params.get("config")
        try:
            tap = cls(
                config=getattr(config, "config", None),
                parse_env_config=getattr(config, "parse_env", False),
                validate_config=True,
            )
            cls.logger.info(check_connection(tap.client))
        except (CleverTapAuthError, CleverTapEndpointError, CleverTapConnectionError) as exc:
            cls.logger.error("Connection test failed: %s", exc)
            ctx.exit(1)
        tap.run_connection_test()
        ctx.exit()

    def on_signal(self, signum: int) -> None:
        """On SIGTERM/SIGINT write the state (completed days only) and exit non-zero."""
        try:
            self.state_writer.write_state(self.state)
            sys.stdout.flush()
        finally:
            self.logger.error("Interrupted by signal %d; state covers completed days only.", signum)
            sys.exit(_EXIT_ON_SIGNAL + signum)
