"""Record-level property-name normalization, called by both targets on every record."""

from __future__ import annotations

import json
from collections.abc import Mapping
from operator import ne
from typing import TYPE_CHECKING, Any, Final, Literal, cast, get_args

from clevertap_segment_common.property_names.reserved import (
    CLEVERTAP_RESERVED_KEYS,
    CLEVERTAP_RESERVED_PREFIXES,
    is_reserved,
)
from clevertap_segment_common.property_names.stats import NormalizationStats
from clevertap_segment_common.property_names.strategies import (
    CACHE_LIMIT,
    DEFAULT_STRATEGY,
    cached_conversion,
    validate_strategy,
)

if TYPE_CHECKING:
    from clevertap_segment_common.property_names.strategies import Strategy

CollisionPolicy = Literal["error", "first_wins", "last_wins"]
Path = tuple[str | int, ...]

_CONTAINERS: Final = (list, tuple)


def render_path(path: Path) -> str:
    """JSONPath-like location of a nested mapping, ``$`` being the record itself."""
    return "$" + "".join(
        f"[{json.dumps(step, ensure_ascii=False)}]" if isinstance(step, str) else f"[{step}]"
        for step in path
    )


class PropertyNameCollisionError(ValueError):
    """Two different source keys of one mapping normalize to the same key."""

    def __init__(
        self, source_keys: tuple[str, str], normalized_key: str, strategy: str, path: Path
    ) -> None:
        """Describe the collision by key names only (values may hold personal data)."""
        self.source_keys = source_keys
        self.normalized_key = normalized_key
        self.strategy = strategy
        self.path = path
        where = "" if not path else f" inside {render_path(path)}"
        first, second = source_keys
        super().__init__(
            f"Property names {first!r} and {second!r}{where} both normalize to "
            f"{normalized_key!r} with the {strategy!r} property-name strategy, so one value "
            f"would be lost. Rename one of them in the source data, or set collision_policy to "
            f"'first_wins' or 'last_wins' to keep one value and count the collision."
        )


def validate_collision_policy(policy: str) -> CollisionPolicy:
    """``policy`` if valid, else a ValueError listing the valid policies."""
    valid = get_args(CollisionPolicy)
    if policy not in valid:
        raise ValueError(
            f"Unknown collision_policy {policy!r}; valid policies are: {', '.join(valid)}."
        )
    return cast("CollisionPolicy", policy)


class PropertyNameNormalizer:
    """Renames the keys of record mappings with one strategy; share one instance across threads.

    Reserved CleverTap keys keep their spelling (pass ``reserved_keys=None`` and
    ``reserved_prefixes=()`` to rewrite them too). Names are converted once per distinct name.
    """

    def __init__(
        self,
        strategy: Strategy | str = DEFAULT_STRATEGY,
        *,
        normalize_nested: bool = False,
        reserved_keys: frozenset[str] | None = CLEVERTAP_RESERVED_KEYS,
        reserved_prefixes: tuple[str, ...] = CLEVERTAP_RESERVED_PREFIXES,
        collision_policy: CollisionPolicy | str = "error",
        trim_values: bool = False,
        sample_size: int = 20,
    ) -> None:
        """Configure once per target run; see the README section "Property names"."""
        self.strategy: Strategy = validate_strategy(strategy)
        self.collision_policy: CollisionPolicy = validate_collision_policy(collision_policy)
        self.normalize_nested = normalize_nested
        self.trim_values = trim_values
        self.reserved_keys = reserved_keys
        self.reserved_prefixes = tuple(reserved_prefixes)
        self.stats = NormalizationStats(sample_size)
        self._convert = cached_conversion(self.strategy)
        self._names: dict[str, str] = {}
        self._visits_values = normalize_nested or trim_values
        self._copies_only = self.strategy == "none" and not self._visits_values

    def normalize_key(self, key: str) -> str:
        """The output name of one key (reserved keys unchanged)."""
        normalized = self._names.get(key)
        return self._learn(key) if normalized is None else normalized

    def normalize(self, mapping: Mapping[str, Any]) -> dict[str, Any]:
        """A new dict with renamed keys; values are shared unless trimmed or nested-normalized.

        Raises:
            PropertyNameCollisionError: two keys normalize alike and the policy is "error".
        """
        if self._copies_only:
            self.stats.add_record(len(mapping), 0)
            return dict(mapping)
        counts = [0, 0]
        result = self._normalize_mapping(mapping, (), counts)
        self.stats.add_record(counts[0], counts[1])
        return result

    def _learn(self, key: str) -> str:
        if not isinstance(key, str):
            raise TypeError(
                f"Property names must be strings, got {key!r} ({type(key).__name__}); "
                f"convert the record's keys to strings before loading."
            )
        if is_reserved(key, self.reserved_keys, self.reserved_prefixes):
            normalized = key
        else:
            normalized = self._convert(key)
            if normalized != key:
                self.stats.note_rename(key, normalized)
        if len(self._names) >= CACHE_LIMIT:
            self._names.clear()
        self._names[key] = normalized
        return normalized

    def _normalize_mapping(
        self, mapping: Mapping[str, Any], path: Path, counts: list[int]
    ) -> dict[str, Any]:
        if not self._visits_values:
            # Fast path for the common case: C-level comprehension, then a collision check.
            names = self._names
            try:
                out = {names[key]: value for key, value in mapping.items()}
            except KeyError:
                out = {self.normalize_key(key): value for key, value in mapping.items()}
            if len(out) == len(mapping):
                counts[0] += len(mapping)
                counts[1] += sum(map(ne, mapping, out))  # no collision: same order, one to one
                return out
        return self._normalize_each(mapping, path, counts)

    def _normalize_each(
        self, mapping: Mapping[str, Any], path: Path, counts: list[int]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        renamed = 0
        for key, value in mapping.items():
            new_key = self.normalize_key(key)
            renamed += new_key != key
            new_value = self._visit(value, (*path, key), counts) if self._visits_values else value
            if new_key not in out or self._collide(mapping, key, new_key, path):
                out[new_key] = new_value
        counts[0] += len(mapping)
        counts[1] += renamed
        return out

    def _visit(self, value: Any, path: Path, counts: list[int]) -> Any:
        if isinstance(value, str):
            return value.strip() if self.trim_values else value
        if self.normalize_nested:
            if isinstance(value, Mapping):
                return self._normalize_mapping(value, path, counts)
            if isinstance(value, _CONTAINERS):
                return [
                    self._visit(item, (*path, index), counts) for index, item in enumerate(value)
                ]
        return value

    def _collide(self, mapping: Mapping[str, Any], key: str, new_key: str, path: Path) -> bool:
        """Apply the collision policy; True when the later value replaces the earlier one."""
        earlier = next(name for name in mapping if self.normalize_key(name) == new_key)
        return resolve_collision(
            self.collision_policy, self.stats, (earlier, key), new_key, self.strategy, path=path
        )


def resolve_collision(
    policy: CollisionPolicy,
    stats: NormalizationStats,
    keys: tuple[str, str],
    written: str,
    strategy: str,
    *,
    path: Path = (),
) -> bool:
    """Two source keys written as one: count it, raise (``error``), or say whether the later wins.

    Raises:
        PropertyNameCollisionError: the policy is "error".
    """
    earlier, later = keys
    kept = None if policy == "error" else earlier if policy == "first_wins" else later
    stats.note_collision(written, keys, kept, render_path(path))
    if policy == "error":
        raise PropertyNameCollisionError(keys, written, strategy, path)
    return policy == "last_wins"
