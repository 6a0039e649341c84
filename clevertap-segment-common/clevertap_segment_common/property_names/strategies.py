"""The named property-name conversions, cached per strategy, and the collision audit over names."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, cast, get_args

from clevertap_segment_common.property_names.go_snakecase import go_snakecase
from clevertap_segment_common.property_names.lodash import lodash_snake_case
from clevertap_segment_common.property_names.reserved import is_reserved
from clevertap_segment_common.property_names.to_snake_case import to_snake_case

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

Strategy = Literal["segment", "lodash", "to-snake-case", "go-snakecase", "none"]
DEFAULT_STRATEGY: Final[Strategy] = "segment"


def _keep(name: str) -> str:
    return name


# "segment" is our best reading of Segment's cloud-mode CleverTap destination (see the README);
# "lodash" names the same function by its origin.
STRATEGIES: Final[Mapping[Strategy, Callable[[str], str]]] = MappingProxyType(
    {
        "segment": lodash_snake_case,
        "lodash": lodash_snake_case,
        "to-snake-case": to_snake_case,
        "go-snakecase": go_snakecase,
        "none": _keep,
    }
)
# One name per distinct conversion, for audits over "all" strategies.
DISTINCT_STRATEGIES: Final[tuple[Strategy, ...]] = (
    "segment",
    "to-snake-case",
    "go-snakecase",
    "none",
)

# Distinct names per strategy kept in memory; when full the memo starts over (names of a stream
# repeat, so the working set is small; this only bounds pathological inputs).
CACHE_LIMIT: Final = 100_000


class CachedConversion:
    """A bounded memo around one conversion; safe to share between threads."""

    __slots__ = ("_convert", "_limit", "_memo")

    def __init__(self, convert: Callable[[str], str], limit: int = CACHE_LIMIT) -> None:
        """Wrap ``convert``, remembering up to ``limit`` distinct names."""
        self._convert = convert
        self._limit = limit
        self._memo: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        """The converted name, computed once per distinct name."""
        converted = self._memo.get(name)
        if converted is None:
            converted = self._convert(name)
            if len(self._memo) >= self._limit:
                self._memo.clear()
            self._memo[name] = converted
        return converted


_CONVERSIONS: Final[dict[str, CachedConversion]] = {
    name: CachedConversion(convert) for name, convert in STRATEGIES.items()
}


def validate_strategy(strategy: str) -> Strategy:
    """``strategy`` if it names a strategy, else a ValueError that lists the valid names."""
    if strategy not in STRATEGIES:
        valid = ", ".join(get_args(Strategy))
        raise ValueError(
            f"Unknown property-name strategy {strategy!r}; valid strategies are: {valid}."
        )
    return cast("Strategy", strategy)


def cached_conversion(strategy: str) -> CachedConversion:
    """The shared, cached conversion of ``strategy``."""
    return _CONVERSIONS[validate_strategy(strategy)]


def normalize_name(name: str, strategy: str = DEFAULT_STRATEGY) -> str:
    """``name`` converted by ``strategy`` (no reserved-key protection)."""
    conversion = _CONVERSIONS.get(strategy)
    if conversion is None:
        conversion = cached_conversion(strategy)  # raises the ValueError naming valid strategies
    return conversion(name)


@dataclass(frozen=True)
class CollisionGroup:
    """Distinct source names that one strategy turns into the same property name."""

    strategy: Strategy
    normalized: str
    names: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for audit streams and the command line)."""
        return {"strategy": self.strategy, "normalized": self.normalized, "names": list(self.names)}


def collision_groups(
    names: Iterable[str],
    strategy: str = DEFAULT_STRATEGY,
    *,
    reserved_keys: frozenset[str] | None = None,
    reserved_prefixes: tuple[str, ...] = (),
) -> list[CollisionGroup]:
    """Every group of two or more distinct names that normalize to one key.

    Groups are sorted by normalized key and names within a group are sorted, so the result does
    not depend on input order. Reserved names (if given) keep their spelling, as in the normalizer.
    """
    valid = validate_strategy(strategy)
    conversion = _CONVERSIONS[valid]
    by_key: dict[str, set[str]] = {}
    for name in names:
        key = name if is_reserved(name, reserved_keys, reserved_prefixes) else conversion(name)
        by_key.setdefault(key, set()).add(name)
    return [
        CollisionGroup(valid, key, tuple(sorted(group)))
        for key, group in sorted(by_key.items())
        if len(group) > 1
    ]
