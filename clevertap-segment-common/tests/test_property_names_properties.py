"""Invariants of the strategies, checked with hypothesis.

Idempotence differs per reference: to-snake-case and go-snakecase are idempotent on every string,
lodash only on ASCII (it deburrs after lowercasing, so U+212B ANGSTROM SIGN -> "å" -> "a").
"""

from __future__ import annotations

import re

from clevertap_segment_common.property_names import collision_groups, normalize_name
from hypothesis import given, settings
from hypothesis import strategies as st

SNAKE_STRATEGIES = ["segment", "to-snake-case", "go-snakecase"]
ASCII_SNAKE = re.compile(r"(?:[a-z0-9]+(?:_[a-z0-9]+)*)?")
NO_ASCII_UPPER = re.compile(r"[^A-Z]*")
BAD_UNDERSCORES = re.compile(r"^_|_$|__")

name_parts = st.sampled_from(
    ["user", "User", "ID", "HTTP", "Server", "2", "1st", "2ND", "th", "_", "-", " ", ".", "$", "'"]
)
ascii_names = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=30),
    st.lists(name_parts, max_size=8).map("".join),
)
any_names = st.one_of(ascii_names, st.text(max_size=20))
names_without_zwj = any_names.filter(lambda name: "\u200d" not in name)


@settings(max_examples=150)
@given(name=ascii_names)
def test_every_strategy_is_idempotent_on_ascii(name: str):
    for strategy in [*SNAKE_STRATEGIES, "none"]:
        once = normalize_name(name, strategy)
        assert normalize_name(once, strategy) == once


@settings(max_examples=150)
@given(name=any_names)
def test_npm_and_go_strategies_are_idempotent_on_any_string(name: str):
    for strategy in ["to-snake-case", "go-snakecase"]:
        once = normalize_name(name, strategy)
        assert normalize_name(once, strategy) == once


def test_lodash_is_not_idempotent_beyond_ascii():
    assert normalize_name("\u212b", "segment") == "\u00e5"
    assert normalize_name("\u00e5", "segment") == "a"


@settings(max_examples=150)
@given(name=any_names)
def test_snake_output_has_no_ascii_uppercase(name: str):
    for strategy in SNAKE_STRATEGIES:
        assert NO_ASCII_UPPER.fullmatch(normalize_name(name, strategy))


@settings(max_examples=150)
@given(name=any_names)
def test_npm_and_go_output_is_ascii_snake_case(name: str):
    for strategy in ["to-snake-case", "go-snakecase"]:
        assert ASCII_SNAKE.fullmatch(normalize_name(name, strategy))


@settings(max_examples=150)
@given(name=names_without_zwj)
def test_no_leading_trailing_or_doubled_underscores(name: str):
    # lodash keeps a zero-width-joiner emoji sequence whole, "_" included ("😀\u200d_").
    for strategy in SNAKE_STRATEGIES:
        assert not BAD_UNDERSCORES.search(normalize_name(name, strategy))


@settings(max_examples=150)
@given(name=any_names)
def test_none_is_the_identity(name: str):
    assert normalize_name(name, "none") == name


@settings(max_examples=100)
@given(names=st.lists(ascii_names, max_size=12))
def test_collision_groups_are_exactly_the_names_sharing_a_key(names: list[str]):
    for strategy in SNAKE_STRATEGIES:
        groups = collision_groups(names, strategy)
        for group in groups:
            assert len(group.names) >= 2
            assert {normalize_name(name, strategy) for name in group.names} == {group.normalized}
        grouped = {name for group in groups for name in group.names}
        for name in set(names) - grouped:
            key = normalize_name(name, strategy)
            assert [other for other in set(names) if normalize_name(other, strategy) == key] == [
                name
            ]
        assert collision_groups(reversed(names), strategy) == groups
