"""target-clevertap: any Singer stream into CleverTap profile and event uploads."""

from __future__ import annotations

import threading
import typing as t
from concurrent.futures import Future
from functools import cached_property

from clevertap_segment_common.property_names import PropertyNameNormalizer
from clevertap_segment_common.singer_target import DeliveryTarget

from target_clevertap.connection import check_connection
from target_clevertap.journal import DeliveryJournal, JournalPolicy, uncertain_details
from target_clevertap.name_matcher import AccountNameMatcher
from target_clevertap.rules import DELIVERY_UNCERTAIN
from target_clevertap.schema_reader import SchemaReader, SchemaUnreadable
from target_clevertap.settings import (
    CONFIG_SCHEMA,
    LIMITS,
    MATCH_ACCOUNT,
    resolve_endpoint,
    resolve_timezone,
)
from target_clevertap.sink import CleverTapSink
from target_clevertap.transport import CleverTapTransport
from target_clevertap.uploads import UploadBuilder, UploadRules

if t.TYPE_CHECKING:
    import zoneinfo
    from collections.abc import Callable, Sequence

    from clevertap_segment_common.delivery import Item, Rejection

    from target_clevertap.settings import Endpoint


class TargetCleverTap(DeliveryTarget):
    """Loads profiles and events into CleverTap through ``POST /1/upload``."""

    resend_hint = (
        "target-clevertap-resolve looks for it in CleverTap's export and can send it again"
    )

    name = "target-clevertap"
    config_jsonschema = CONFIG_SCHEMA
    default_sink_class = CleverTapSink
    secret_settings = ("passcode",)
    limits = LIMITS
    connection_test_help = (
        "Check the account id, passcode and region by reading the account's schema "
        "(GET /getSchema, which writes nothing) and exit."
    )

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._connection_checked = False
        self._uploaded = {"profile": 0, "event": 0}
        self._journal: JournalPolicy | None = None
        self._builders: dict[bool, UploadBuilder] = {}
        self._dry_run_by_kind: dict[str, int] = {}
        #: The matcher whose schema read before_listen started, and that read.
        self._matcher_ahead: tuple[AccountNameMatcher, Future[None]] | None = None

    def setting_errors(self) -> list[str]:
        """The shared checks, plus URLs, timezone names and the event property limit."""
        errors = super().setting_errors()
        for check in (lambda: self.endpoint, lambda: self.timezone):
            try:
                check()
            except ValueError as exc:
                errors.append(str(exc))
        if int(self.config["max_event_properties"]) < 1:
            errors.append("max_event_properties must be at least 1.")
        if self.matches_account and self.config.get("normalize_nested_keys"):
            errors.append(
                "normalize_nested_keys needs an explicit property_names convention (none, "
                "segment, ...): match_account matches top-level names with the account's schema, "
                "which lists no nested keys."
            )
        if self.config.get("dry_run_remote_validation") and not self.config.get("dry_run"):
            errors.append(
                "dry_run_remote_validation applies to dry runs only: set dry_run to true as well "
                "(without dry_run every upload is stored anyway)."
            )
        if float(self.config["schema_refresh_seconds"]) < 0:
            errors.append("schema_refresh_seconds must be 0 or more.")
        return errors

    # -- configuration, resolved once ------------------------------------------------------------

    @cached_property
    def endpoint(self) -> Endpoint:
        """Where uploads go."""
        return resolve_endpoint(self.config)

    @cached_property
    def timezone(self) -> zoneinfo.ZoneInfo:
        """Timezone of date-times without an offset."""
        return resolve_timezone(self.config)

    @property
    def account_id(self) -> str:
        """The CleverTap account (part of every journal fingerprint)."""
        return str(self.config["account_id"])

    @cached_property
    def stream_mappings(self) -> dict[str, dict[str, t.Any]]:
        """Per-stream mapping options."""
        return dict(self.config.get("stream_mappings") or {})

    @property
    def matches_account(self) -> bool:
        """Whether names are written in the account's spellings (property_names: match_account)."""
        return bool(self.config["property_names"] == MATCH_ACCOUNT)

    @property
    def dry_run_locally(self) -> bool:
        """A dry run that sends nothing to /1/upload (unless dry_run_remote_validation)."""
        remote = bool(self.config.get("dry_run_remote_validation"))
        return bool(self.config.get("dry_run")) and not remote

    def build_normalizer(self) -> PropertyNameNormalizer:
        """The explicit convention; match_account renames later (name_matcher), builders trim."""
        strategy = self.config["property_names"]
        return PropertyNameNormalizer(
            strategy="none" if strategy == MATCH_ACCOUNT else strategy,
            normalize_nested=bool(self.config["normalize_nested_keys"]),
            collision_policy=self.config["collision_policy"],
        )

    def builder(self, trim_values: bool) -> UploadBuilder:
        """Names, values and rules, shared by every sink that trims (or does not) alike."""
        builder = self._builders.get(trim_values)
        if builder is None:
            builder = self._builders[trim_values] = UploadBuilder(
                self.normalizer,
                UploadRules(
                    timezone=self.timezone,
                    nested_values=str(self.config.get("nested_values") or "stringify"),
                    max_event_properties=int(self.config["max_event_properties"]),
                    convert_date_strings=bool(self.config["convert_date_strings"]),
                    trim_values=trim_values,
                    drop_invalid_fields=self.config.get("on_invalid_field") != "reject_record",
                ),
            )
        return builder

    def before_listen(self) -> None:
        """With match_account, start reading the account's schema before the first message.

        In a pipeline the tap is still starting up then, so the read (one round trip) costs the
        run nothing; an error still stops the run at the first SCHEMA, as before.
        """
        super().before_listen()
        if self.matches_account:
            matcher = self._new_matcher()  # built here: its parts are shared with this thread
            self._matcher_ahead = (matcher, _in_background(matcher.load, "schema-read"))

    @cached_property
    def account_names(self) -> AccountNameMatcher | None:
        """match_account's per-run decisions, after reading the schema; None for a convention."""
        if not self.matches_account:
            return None
        matcher, loading = self._matcher_ahead or (self._new_matcher(), None)
        try:
            if loading is None:
                matcher.load()
            else:
                loading.result()
        except SchemaUnreadable as exc:
            msg = (
                f"property_names is match_account, which reads the account's property names "
                f"before the first upload, but {str(exc).rstrip('.')}. Nothing was uploaded. "
                "Let this passcode read the schema (and check account_id, region or api_url), "
                "or choose an explicit convention instead: property_names none (names as sent, as "
                "CleverTap's SDKs write them) or segment (snake_case, as Segment's CleverTap "
                "destination wrote them; lodash, to-snake-case and go-snakecase are the other "
                "candidates)."
            )
            raise SchemaUnreadable(exc.problem, self.scrubber.scrub(msg)) from None
        return matcher

    def _new_matcher(self) -> AccountNameMatcher:
        return AccountNameMatcher(
            self.schema_reader,
            new_names=str(self.config.get("new_property_names") or "auto"),
            split=self.config.get("split_property_names") or "newest",
            refresh_seconds=float(self.config["schema_refresh_seconds"]),
            collision_policy=self.normalizer.collision_policy,
            stats=self.normalizer.stats,
        )

    @property
    def schema_reader(self) -> SchemaReader:
        """GET /getSchema of the configured account."""
        return SchemaReader(
            self.endpoint.base_url,
            account_id=self.account_id,
            passcode=str(self.config["passcode"]),
            timeout=float(self.config["request_timeout"]),
            max_retries=int(self.config["max_retries"]),
        )

    def note_dry_run(self, kind: str) -> None:
        """Count a record a dry run mapped and checked but did not send."""
        self.summary.count(self.summary.skipped, "dry_run")
        self._dry_run_by_kind[kind] = self._dry_run_by_kind.get(kind, 0) + 1

    @property
    def journal(self) -> JournalPolicy | None:
        """The delivery journal (None in dry_run or when disabled), opened on first use."""
        if self._journal is None and self._journal_wanted:
            journal = DeliveryJournal(
                self.config["journal_path"],
                max_entries=int(self.config["journal_max_entries"]),
                max_age_days=float(self.config["journal_max_age_days"]),
            )
            self._journal = JournalPolicy(
                journal,
                uncertain=self.config["journal_uncertain"],
                count_skipped=lambda reason: self.summary.count(self.summary.skipped, reason),
            )
            if journal.stats.pending_at_start:
                self.logger.warning(
                    "The delivery journal holds %d upload(s) an earlier run sent without learning "
                    "the outcome (it was stopped mid-upload). If they arrive again they are "
                    "handled per journal_uncertain=%s.",
                    journal.stats.pending_at_start,
                    self.config["journal_uncertain"],
                )
        return self._journal

    @property
    def _journal_wanted(self) -> bool:
        return bool(self.config["journal_enabled"]) and not self.config.get("dry_run")

    # -- delivery hooks --------------------------------------------------------------------------

    def build_transport(self) -> CleverTapTransport:
        """The upload endpoint of the configured account."""
        return CleverTapTransport(
            self.endpoint.base_url,
            account_id=self.account_id,
            passcode=str(self.config["passcode"]),
            dry_run=bool(self.config["dry_run"]),  # only with remote validation
            timeout=float(self.config["request_timeout"]),
            region=self.endpoint.region,
            on_refused=self._forget,
        )

    def before_send(self, items: Sequence[Item]) -> None:
        """Journal the batch's non-idempotent uploads as pending before the request goes out."""
        if self._journal is not None:
            self._journal.before_send(items)

    def on_delivered(self, items: Sequence[Item]) -> None:
        """Journal confirmed uploads and count them by kind."""
        events = [item.meta["kind"] for item in items].count("event")
        self._uploaded["event"] += events
        self._uploaded["profile"] += len(items) - events
        if self._journal is not None:
            self._journal.delivered(items)

    def rejection_details(self, item: Item, rejection: Rejection) -> dict[str, t.Any] | None:
        """For an upload in doubt: what target-clevertap-resolve needs to look for it."""
        if rejection.rule == DELIVERY_UNCERTAIN.name and "fingerprint" in item.meta:
            return uncertain_details(item.payload, item.meta["fingerprint"])
        return None

    def on_vendor_rejected(self, item: Item, rejection: Rejection) -> None:
        """CleverTap refused the record: forget it in the journal (not if it may have it)."""
        if rejection.rule != DELIVERY_UNCERTAIN.name:
            self._forget([item])

    def on_unsent(self, items: Sequence[Item]) -> None:
        """The batch never reached CleverTap: a re-run may send it without risk of a double."""
        self._forget(items)

    def unsafe_to_resend(self, items: Sequence[Item]) -> list[int]:
        """After a send with no answer: what the journal says a retry could double."""
        return [] if self._journal is None else self._journal.unsafe_to_resend(items)

    def _forget(self, items: Sequence[Item]) -> None:
        if self._journal is not None:
            self._journal.forget(items)

    # -- connection check ------------------------------------------------------------------------

    def check_connection(self) -> str:
        """A schema read; on a 401 the other regions say whether the region is wrong."""
        return check_connection(self.config)

    def check_connection_once(self) -> None:
        """Run the connection check (for `meltano config test`) once per run."""
        if self._connection_checked:
            return
        self.logger.info(self.check_connection())
        self._connection_checked = True

    # -- end of run ------------------------------------------------------------------------------

    def extra_summary(self) -> dict[str, t.Any]:
        """Uploads by kind, journal activity, and where they went."""
        summary: dict[str, t.Any] = {
            "api_url": self.endpoint.base_url,
            "uploaded_profiles": self._uploaded["profile"],
            "uploaded_events": self._uploaded["event"],
            "in_doubt": {
                "listed": self.summary.rejected.get(DELIVERY_UNCERTAIN.name, 0),
                "resolve_with": "target-clevertap-resolve --config <this config> "
                "(meltano invoke target-clevertap:resolve-uncertain)",
            },
        }
        if self.config.get("dry_run"):
            summary["dry_run_remote_validation"] = bool(
                self.config.get("dry_run_remote_validation")
            )
            summary["dry_run_by_kind"] = dict(self._dry_run_by_kind)
        if "account_names" in self.__dict__ and self.account_names is not None:
            summary["account_names"] = self.account_names.summary()
        if self._journal is not None:
            summary["journal"] = self._journal.summary()
        return summary

    def summary_dict(self) -> dict[str, t.Any]:
        """The shared summary, with match_account's renames counted in ``property_names``."""
        if "account_names" in self.__dict__ and self.account_names is not None:
            self.account_names.flush_renamed()
        return super().summary_dict()

    def release(self) -> None:
        """Then close the journal: the upload lanes record outcomes in it until they stop."""
        super().release()
        if self._journal is not None:
            self._journal.journal.close()


def _in_background(work: Callable[[], None], name: str) -> Future[None]:
    """Run ``work`` on a daemon thread (a read that hangs must not hold up the process's exit)."""
    future: Future[None] = Future()

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # handed to whoever waits for the result
            future.set_exception(exc)
        else:
            future.set_result(None)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
