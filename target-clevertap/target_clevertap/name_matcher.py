"""``property_names: match_account``: every name written in the spelling the account already has.

The rule itself (which names are one property, which spelling of a split name wins, the
convention for new names) is the common library's ``property_names.account_names``, shared
with tap-clevertap's property_name_audit. This module applies it for one run: it reads the schema
before the first upload, reads it again (rate-limited) when an event the schema did not list
arrives, decides each (namespace, name) once and remembers the decision, so every batch of the
run writes the same spelling, and counts what it decided for the run summary.

Namespaces are where CleverTap keeps names apart: the profile properties (``None``) and each
event's properties (the event name).
"""

from __future__ import annotations

import logging
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor

from clevertap_segment_common.clevertap_schema import event_property_names, profile_property_names
from clevertap_segment_common.property_names import normalize_name
from clevertap_segment_common.property_names.account_names import (
    AccountNames,
    Convention,
    NameDecision,
    detect_convention,
)
from clevertap_segment_common.property_names.normalizer import CollisionPolicy, resolve_collision

from target_clevertap.schema_reader import SchemaUnreadable

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from clevertap_segment_common.property_names import NormalizationStats
    from clevertap_segment_common.property_names.account_names import SplitChoice

    from target_clevertap.schema_reader import SchemaReader

logger = logging.getLogger("target-clevertap")

Namespace = str | None  # an event name, or None for profile properties
SAMPLE_SIZE = 50
MATCH = "match_account"
MAX_KEY_BYTES = 120


def _where(namespace: Namespace) -> dict[str, str]:
    return {"scope": "profile"} if namespace is None else {"scope": "event", "event": namespace}


def _describe(namespace: Namespace) -> str:
    return "profile property" if namespace is None else f"property of event '{namespace}'"


class AccountNameMatcher:
    """Renames the properties of built uploads to the account's spellings; reader thread only."""

    def __init__(
        self,
        reader: SchemaReader,
        *,
        new_names: str,
        split: SplitChoice,
        refresh_seconds: float,
        collision_policy: CollisionPolicy,
        stats: NormalizationStats,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader
        self.new_names = new_names
        self.split = split
        self.refresh_seconds = refresh_seconds
        self.collision_policy = collision_policy
        self.stats = stats
        self.clock = clock
        self.convention: Convention | None = None
        self._profile = AccountNames()
        self._events: dict[str, AccountNames] = {}
        self._decided: dict[Namespace, tuple[dict[str, str], set[str]]] = {}
        #: Keys renamed in built uploads (added to the normalizer's stats for the summary).
        self.renamed_keys = 0
        self._convert: Callable[[str], str] = str
        self._checked_events: set[str] = set()
        self._last_read = 0.0
        self.counts = dict.fromkeys(
            ("schema_reads", "matched", "already_account_spelling", "new", "split"), 0
        )
        self.samples: dict[str, list[dict[str, t.Any]]] = {"matched": [], "new": [], "split": []}
        self.account_splits = 0

    # -- the schema ------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the whole schema and settle the convention for new names (first upload only).

        The two reads go out together: the run waits for one round trip, not two.
        """
        with ThreadPoolExecutor(max_workers=1) as pool:
            profile_answer = pool.submit(self.reader.read, "userProperties")
            events = event_property_names(self.reader.read("events"))
            profile = profile_property_names(profile_answer.result())
        self.counts["schema_reads"] += 2
        self._last_read = self.clock()
        self._profile.add_all(profile)
        self._merge_events(events)
        self.account_splits = sum(
            len(names.splits()) for names in (self._profile, *self._events.values())
        )
        every_name = [*profile, *(name for names in events.values() for name in names)]
        if self.new_names == "auto":
            self.convention = detect_convention(every_name)
            logger.info("match_account: new property names: %s.", self.convention.reason)
        self._convert = _safe_conversion(self.new_names_strategy)
        logger.info(
            "match_account: the account lists %d events and %d profile properties; %d names "
            "are already held in two or more spellings (tap-clevertap's property_name_audit "
            "lists them). Each name is written in the spelling the account holds.",
            len(self._events),
            len(profile),
            self.account_splits,
        )

    def _merge_events(self, events: dict[str, list[str]]) -> None:
        for event, names in events.items():
            self._events.setdefault(event, AccountNames()).add_all(names)

    def _event_names(self, event: str) -> AccountNames:
        """An event's names; an event the schema did not list makes it read again (throttled)."""
        names = self._events.get(event)
        if names is None and event not in self._checked_events:
            self._checked_events.add(event)
            if self.clock() - self._last_read >= self.refresh_seconds:
                try:
                    answer = self.reader.read("events")
                except SchemaUnreadable as exc:
                    msg = (
                        f"match_account: event '{event}' is not in the schema read at the "
                        f"start, and reading it again failed: {exc}. The run stops before "
                        "writing this event's names in a spelling the account may not have; "
                        "no STATE passes this record, so a re-run resumes here."
                    )
                    raise SchemaUnreadable(exc.problem, msg) from None
                self._merge_events(event_property_names(answer))
                self.counts["schema_reads"] += 1
                self._last_read = self.clock()
                names = self._events.get(event)
        if names is None:
            names = self._events[event] = AccountNames()
        return names

    # -- renaming --------------------------------------------------------------------------------

    @property
    def new_names_strategy(self) -> str:
        """The convention new names follow (after ``auto`` was resolved)."""
        return self.convention.strategy if self.convention is not None else self.new_names

    def apply(self, upload: dict[str, t.Any]) -> dict[str, t.Any] | None:
        """The upload with account spellings, or None when it already has them."""
        if upload["type"] == "event":
            field, namespace = "evtData", upload["evtName"]
        else:
            field, namespace = "profileData", None
        data = upload[field]
        renamed = self.rename(namespace, data)
        return None if renamed is data else {**upload, field: renamed}

    def rename(self, namespace: Namespace, data: dict[str, t.Any]) -> dict[str, t.Any]:
        """``data`` with every key in the account's spelling (``data`` itself when unchanged).

        Per namespace, ``names`` maps each incoming name to the spelling written and ``kept``
        holds the names written as they came: a record whose keys are all kept (the usual case
        once the names are known) costs one C-level set check.
        """
        decided = self._decided.get(namespace)
        if decided is None:
            decided = self._decided[namespace] = ({}, set())
        names, kept = decided
        if kept.issuperset(data):
            return data
        if not names.keys() >= data.keys():
            for key in data:
                if key not in names:
                    written = names[key] = self._decide(namespace, key)
                    if written == key:
                        kept.add(key)
            if kept.issuperset(data):
                return data
        out = {names[key]: value for key, value in data.items()}
        if len(out) != len(data):
            return self._collide(data, names)
        self.renamed_keys += len(data) - len(kept.intersection(data))
        return out

    def _decide(self, namespace: Namespace, name: str) -> str:
        names = self._profile if namespace is None else self._event_names(namespace)
        decision = names.decide(name, split=self.split, new_name=self._convert)
        names.add(decision.written)  # later spellings of this name match what was written
        self._note(namespace, name, decision)
        return decision.written

    def _note(self, namespace: Namespace, name: str, decision: NameDecision) -> None:
        how = decision.decided
        if how == "reserved":
            return
        if how == "matched" and decision.written == name:
            self.counts["already_account_spelling"] += 1
            return
        entry: dict[str, t.Any] = {**_where(namespace), "name": name, "written": decision.written}
        if how == "split":
            entry |= {"spellings": list(decision.spellings), "choice": self.split}
            logger.warning(
                "match_account: the account holds the %s '%s' as %s (split); writing '%s' "
                "(split_property_names: %s), no new spelling.",
                _describe(namespace),
                name,
                " and ".join(f"'{s}'" for s in decision.spellings),
                decision.written,
                self.split,
            )
        elif how == "new":
            entry["convention"] = self.new_names_strategy
        self.counts[how] += 1
        if len(self.samples[how]) < SAMPLE_SIZE:
            self.samples[how].append(entry)
        if decision.written != name:
            self.stats.note_rename(name, decision.written)

    def _collide(self, data: dict[str, t.Any], names: dict[str, str]) -> dict[str, t.Any]:
        """Two incoming names written as one: apply collision_policy, as the normalizer does."""
        out: dict[str, t.Any] = {}
        first: dict[str, str] = {}
        for key, value in data.items():
            written = names[key]
            if written not in out:
                out[written], first[written] = value, key
            elif resolve_collision(
                self.collision_policy, self.stats, (first[written], key), written, MATCH
            ):
                out[written] = value
        self.renamed_keys += sum(1 for key in data if names[key] != key)
        return out

    # -- reporting -------------------------------------------------------------------------------

    def flush_renamed(self) -> None:
        """Add the keys renamed so far to the normalizer's stats (once, before a summary)."""
        self.stats.add_renamed(self.renamed_keys)
        self.renamed_keys = 0

    def summary(self) -> dict[str, t.Any]:
        """What match_account decided this run, for the run summary (counts are distinct names)."""
        convention = self.convention
        return {
            "new_names_convention": self.new_names_strategy,
            "new_names_convention_reason": convention.reason if convention else "configured",
            "split_choice": self.split,
            "account_split_names": self.account_splits,
            **self.counts,
            "matched_sample": self.samples["matched"],
            "new_sample": self.samples["new"],
            "split_sample": self.samples["split"],
        }


def _safe_conversion(strategy: str) -> Callable[[str], str]:
    """The convention's conversion, keeping a name whose conversion would be empty or too long."""

    def convert(name: str) -> str:
        converted = normalize_name(name, strategy)
        if not converted or len(converted.encode()) > MAX_KEY_BYTES:
            return name
        return converted

    return convert
