"""The ``audience_members`` stream: who entered and who exited each audience since the last run.

Each run sweeps every audience with one profiles export (the query of its definition, over its
window ending with the last complete day), stores the members in the membership store and emits
the differences with the previous generation. The bookmark of an audience is the generation whose
changes the target confirmed (a target emits STATE only after delivery); changes of later
generations are emitted again first, so a crash loses nothing and a re-run sends no false exit.
See the README, "Audiences", for the whole design.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

import orjson

from tap_clevertap.errors import InvalidEventError, SettingsError, UnexportableEventError
from tap_clevertap.membership import Generation, MembershipStore
from tap_clevertap.records import profile_object_id
from tap_clevertap.schemas import audience_member_schema
from tap_clevertap.streams import Page, PipelinedStream

if t.TYPE_CHECKING:
    import threading

    from singer_sdk.helpers import types

    from tap_clevertap.audiences import Audience
    from tap_clevertap.prefetch import Emit
    from tap_clevertap.tap import TapCleverTap

#: Only identities are needed: no event summary, no custom properties, no device fields.
AUDIENCE_EXPORT_FLAGS: t.Final = (("events", "false"), ("profile", "false"), ("app", "false"))


@dataclass(frozen=True, slots=True)
class AudienceJob:
    """One audience swept over this run's window."""

    audience: Audience
    first: dt.date
    last: dt.date


class AudienceMembersStream(PipelinedStream[AudienceJob]):
    """Entries and exits of every configured audience, one partition per audience."""

    name = "audience_members"
    primary_keys = ("audience_key", "objectId", "generation_id")
    replication_key = None

    def __init__(self, tap: TapCleverTap) -> None:
        """The schema is fixed; audiences come from the settings."""
        super().__init__(tap, audience_member_schema())

    def audiences(self) -> dict[str, Audience]:
        """Configured audiences by key (none while the settings cannot be read)."""
        try:
            return {a.key: a for a in self.clevertap.settings.audiences}
        except SettingsError:
            return {}

    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        """One partition per audience key."""
        if self._partitions is None:
            self._partitions = [{"audience": key} for key in self.audiences()]
        return self._partitions

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Emit unconfirmed generations again, then sweep and emit this run's changes."""
        if context is None:
            return
        audience = self.audiences()[context["audience"]]
        confirmed = self.get_context_state(context).get("generation_id")
        store = MembershipStore(self.clevertap.settings.audience_store_path)
        try:
            previous, backlog = store.reconcile(
                audience.key, confirmed if isinstance(confirmed, str) else None
            )
            if backlog:
                self.logger.warning(
                    "Audience %r: the changes of %d earlier run(s) were never confirmed by the "
                    "target; sending them again (same ids, so nothing is doubled) before this "
                    "run's.",
                    audience.name,
                    len(backlog),
                )
            for generation in backlog:
                yield from self._emit(store, audience, previous, generation)
                self._confirm(context, generation)
                previous = generation
            for job, items in self.jobs_of(context):
                generation = self._sweep(store, job, previous, items)
                yield from self._emit(store, audience, previous, generation)
                self._confirm(context, generation)
        finally:
            store.close()

    def _sweep(
        self,
        store: MembershipStore,
        job: AudienceJob,
        previous: Generation | None,
        items: t.Iterator[t.Any],
    ) -> Generation:
        audience = job.audience
        if previous is not None and previous.definition != audience.definition():
            self.logger.info(
                "Audience %r changed definition since generation %d: entries and exits compare "
                "the new members with the members of the old definition.",
                audience.name,
                previous.seq,
            )
        generation = store.begin(
            audience.key,
            (previous.seq if previous else 0) + 1,
            (job.first.isoformat(), job.last.isoformat()),
            audience.definition(),
        )
        without_id = 0
        for item in items:
            if not isinstance(item, Page):
                continue
            members = []
            for raw in orjson.loads(item.body)["records"]:
                object_id = profile_object_id(raw)
                if object_id is None:
                    without_id += 1
                else:
                    members.append((object_id, raw.get("identity") or None))
            store.add(generation, members)
        if without_id:
            self.logger.warning(
                "%s: %d exported profiles had neither objectId nor platformInfo[].objectId and "
                "are not counted as members (no key to identify them by).",
                audience.describe(job.first, job.last),
                without_id,
            )
        now = self.clevertap.client.server_now() or dt.datetime.now(dt.UTC)
        return store.finish(generation, now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def _emit(
        self,
        store: MembershipStore,
        audience: Audience,
        previous: Generation | None,
        generation: Generation,
    ) -> t.Iterator[dict[str, t.Any]]:
        counts = {"entered": 0, "exited": 0, "member": 0}
        unchanged = self.clevertap.settings.audience_unchanged_members
        for transition in store.transitions(previous, generation, unchanged=unchanged):
            counts[transition.change] += 1
            yield {
                "audience": audience.name,
                "audience_key": audience.key,
                "objectId": transition.member,
                "identity": transition.identity,
                "change": transition.change,
                "in_audience": transition.change != "exited",
                "event_name": audience.event_name,
                "window_from": generation.window_from,
                "window_to": generation.window_to,
                "generation": generation.seq,
                "generation_id": generation.gen_id,
                "computed_at": generation.computed_at,
            }
        self.logger.info(
            "Audience %r generation %d (%s..%s): %d members, %d entered, %d exited.",
            audience.name,
            generation.seq,
            generation.window_from,
            generation.window_to,
            generation.members,
            counts["entered"],
            counts["exited"],
        )

    def _confirm(self, context: types.Context, generation: Generation) -> None:
        """Bookmark the generation now that all of its changes were emitted (STATE follows)."""
        state = self.get_context_state(context)
        state["generation"] = generation.seq
        state["generation_id"] = generation.gen_id
        state["window_to"] = generation.window_to
        self.write_state()

    # -- the sweeps (worker threads) ------------------------------------------------------------

    def _plan(self, index: int) -> list[tuple[int, AudienceJob]]:
        audiences = self.audiences()
        today = self.clevertap.today()
        include_today = self.clevertap.settings.include_today
        plan = []
        for i, partition in enumerate((self.partitions or [])[index:], start=index):
            audience = audiences[partition["audience"]]
            first, last = audience.window(today, include_today=include_today)
            plan.append((i, AudienceJob(audience, first, last)))
        return plan

    def _produce(self, job: AudienceJob, emit: Emit, stop: threading.Event) -> None:
        audience = job.audience
        what = audience.describe(job.first, job.last)
        try:
            for body in self.clevertap.client.export_pages(
                "profiles",
                audience.event_name,
                job.first,
                job.last,
                stop=stop,
                conditions=audience.conditions(),
                flags=AUDIENCE_EXPORT_FLAGS,
                what=what,
            ):
                emit(Page(job.last, body), len(body))
        except (InvalidEventError, UnexportableEventError) as exc:
            msg = (
                f"{exc} An audience needs an event CleverTap exports; fix event_name of audience "
                f"{audience.name!r} in the audiences setting."
            )
            raise type(exc)(msg) from None
