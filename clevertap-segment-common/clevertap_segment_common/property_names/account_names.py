"""Which spelling of a property name to write into a CleverTap account that already has names.

CleverTap can neither rename nor merge property keys, so a name written in a second spelling is a
second key forever. The rule, shared by target-clevertap (``property_names: match_account``) and
tap-clevertap's ``property_name_audit``: two names are the same property when Segment's conversion
(lodash snakeCase, the ``segment`` strategy) turns them into the same key ("Industry Of Traits"
and "industry_of_traits"); CleverTap's reserved names ("Email", "Amount", "MSG-sms", ...) only
match themselves. Names are compared where CleverTap keeps them apart: each event's properties
form one namespace, the profile properties another.

For an incoming name, the account's spellings of its key decide:

- none: the name is new to the account and follows the convention for new names;
- one: that spelling is written (``matched``);
- two or more (the account is already split): the split choice picks one (``split``).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from clevertap_segment_common.property_names.reserved import (
    CLEVERTAP_RESERVED_KEYS,
    CLEVERTAP_RESERVED_PREFIXES,
    is_reserved,
)
from clevertap_segment_common.property_names.strategies import normalize_name

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

#: How to pick among the spellings of a split name: the one listed last (getSchema's order read as
#: the account's history; CleverTap does not document it), the one already in Segment's form, or
#: the incoming one if the account has it. Each is a spelling the account holds: none adds a key.
SplitChoice = t.Literal["newest", "segment", "as_sent"]
SPLIT_CHOICES: t.Final[tuple[SplitChoice, ...]] = t.get_args(SplitChoice)
Decided = t.Literal["reserved", "matched", "new", "split"]
MATCH_STRATEGY: t.Final = "segment"


def match_key(name: str) -> str:
    """The key two names share when they are one property (reserved names are their own key)."""
    if is_reserved(name, CLEVERTAP_RESERVED_KEYS, CLEVERTAP_RESERVED_PREFIXES):
        return name
    return normalize_name(name, MATCH_STRATEGY)


@dataclass(frozen=True, slots=True)
class NameDecision:
    """The spelling to write for one incoming name, and how it was chosen."""

    written: str
    decided: Decided
    #: The account's spellings of this name, oldest first (empty for new and reserved names).
    spellings: tuple[str, ...] = ()


def choose_split(spellings: t.Sequence[str], incoming: str, choice: SplitChoice) -> str:
    """One of two or more spellings of a name the account already holds."""
    if choice == "as_sent" and incoming in spellings:
        return incoming
    if choice == "segment":
        for spelling in reversed(spellings):
            if normalize_name(spelling, MATCH_STRATEGY) == spelling:
                return spelling
    return spellings[-1]


class AccountNames:
    """The spellings one namespace of the account holds, grouped by match key, oldest first."""

    __slots__ = ("_by_key",)

    def __init__(self, names: Iterable[str] = ()) -> None:
        """Index ``names`` in the account's history order."""
        self._by_key: dict[str, list[str]] = {}
        self.add_all(names)

    def add(self, name: str) -> None:
        """Remember a spelling (a newer one goes last)."""
        spellings = self._by_key.setdefault(match_key(name), [])
        if name not in spellings:
            spellings.append(name)

    def add_all(self, names: Iterable[str]) -> None:
        """Remember spellings in order."""
        for name in names:
            self.add(name)

    def spellings(self, name: str) -> tuple[str, ...]:
        """Every spelling of ``name``'s key the namespace holds, oldest first."""
        return tuple(self._by_key.get(match_key(name), ()))

    def splits(self) -> list[tuple[str, ...]]:
        """Every group of two or more spellings of one key, in the order the keys were seen."""
        return [tuple(group) for group in self._by_key.values() if len(group) > 1]

    def decide(
        self, name: str, *, split: SplitChoice, new_name: Callable[[str], str]
    ) -> NameDecision:
        """The spelling to write for ``name``; ``new_name`` converts names new to the account."""
        if is_reserved(name, CLEVERTAP_RESERVED_KEYS, CLEVERTAP_RESERVED_PREFIXES):
            return NameDecision(name, "reserved")
        spellings = self.spellings(name)
        if not spellings:
            return NameDecision(new_name(name), "new")
        if len(spellings) == 1:
            return NameDecision(spellings[0], "matched", spellings)
        return NameDecision(choose_split(spellings, name, split), "split", spellings)


@dataclass(frozen=True, slots=True)
class Convention:
    """The naming convention most of an account's multi-word names follow."""

    strategy: t.Literal["segment", "none"]
    snake_case: int
    other: int
    reason: str


def detect_convention(names: Iterable[str]) -> Convention:
    """Whether the account's multi-word names are mostly in Segment's form (snake_case) or not.

    A multi-word name is one Segment's conversion splits into two or more words ("Plan Type",
    "planType", "plan_type"); it is in Segment's form when the conversion leaves it unchanged.
    Reserved names are CleverTap's, not a convention, and are not counted. A tie, or an account
    without multi-word names, gives ``none``: names are written as they come, as CleverTap's own
    SDKs and API do.
    """
    snake = other = 0
    for name in dict.fromkeys(names):
        if is_reserved(name, CLEVERTAP_RESERVED_KEYS, CLEVERTAP_RESERVED_PREFIXES):
            continue
        converted = normalize_name(name, MATCH_STRATEGY)
        if "_" not in converted:
            continue
        if converted == name:
            snake += 1
        else:
            other += 1
    if snake > other:
        return Convention(
            "segment",
            snake,
            other,
            f"{snake} of the account's {snake + other} multi-word property names are in "
            "Segment's snake_case form, so new names are written that way",
        )
    counted = (
        f"{other} of the account's {snake + other} multi-word property names keep other "
        f"spellings and {snake} are snake_case"
        if snake + other
        else "the account has no multi-word property names yet"
    )
    tie = " (a tie)" if snake == other and snake else ""
    return Convention("none", snake, other, f"{counted}{tie}, so new names are written as sent")
