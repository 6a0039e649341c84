"""Deterministic hashing: every seeded value derives from (seed, names, day, index)."""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

T = TypeVar("T")

MASK64 = (1 << 64) - 1


def key64(*parts: object) -> int:
    """A stable 64-bit key for names/numbers (blake2b: independent of PYTHONHASHSEED)."""
    data = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def mix64(x: int) -> int:
    """splitmix64 finaliser: a cheap bijective scramble of a 64-bit integer."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


class Stream:
    """A seeded Mersenne Twister with the few draws the generators need.

    CPython's C generator: seeding costs a few microseconds, each draw well under one, which
    matters because one stream is created per generated record.
    """

    __slots__ = ("_bits", "unit")

    def __init__(self, seed: int) -> None:
        generator = random.Random(seed & MASK64)
        self._bits = generator.getrandbits
        self.unit: Callable[[], float] = generator.random

    def next64(self) -> int:
        """A uniform 64-bit integer."""
        return self._bits(64)

    def below(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        return int(self.unit() * n)

    def choice(self, options: Sequence[T]) -> T:
        """One element, uniformly."""
        return options[int(self.unit() * len(options))]

    def chance(self, probability: float) -> bool:
        """True with the given probability."""
        return self.unit() < probability
