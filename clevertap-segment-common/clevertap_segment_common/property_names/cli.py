"""``property-names``: try a strategy on names, or audit names for collisions, from the shell.

Input is one JSON string per line (``"First Name"``), so any name, including ones with newlines or
leading spaces, fits on a line unambiguously. CleverTap's reserved keys keep their spelling, as in
both targets (the same ``PropertyNameNormalizer`` and key set), so the output is what a load would
produce; ``--no-reserved-keys`` shows the bare strategy.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, get_args

from clevertap_segment_common.property_names.normalizer import PropertyNameNormalizer
from clevertap_segment_common.property_names.reserved import (
    CLEVERTAP_RESERVED_KEYS,
    CLEVERTAP_RESERVED_PREFIXES,
)
from clevertap_segment_common.property_names.strategies import (
    DEFAULT_STRATEGY,
    DISTINCT_STRATEGIES,
    Strategy,
    collision_groups,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from typing import TextIO


class InputError(Exception):
    """A stdin line that is not one JSON string."""


def read_names(lines: Iterable[str]) -> Iterator[str]:
    """The JSON string on each line; InputError names the first bad line."""
    for number, line in enumerate(lines, start=1):
        try:
            name = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(
                f"stdin line {number}: not valid JSON ({error.msg}); each line must be one JSON "
                f'string, for example "First Name" with the quotes'
            ) from None
        if not isinstance(name, str):
            raise InputError(
                f"stdin line {number}: expected a JSON string, got {type(name).__name__} "
                f'{line.strip()[:80]}; quote the name, for example "First Name"'
            )
        yield name


# Characters that some line readers treat as line breaks; escaped so every output is one line.
_LINE_BREAKS: Final = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False).translate(_LINE_BREAKS)


@dataclass(frozen=True)
class Reserved:
    """The names that keep their spelling: the targets' set, or none."""

    keys: frozenset[str] | None
    prefixes: tuple[str, ...]


TARGETS_RESERVED: Final = Reserved(CLEVERTAP_RESERVED_KEYS, CLEVERTAP_RESERVED_PREFIXES)
NOTHING_RESERVED: Final = Reserved(None, ())


def _normalize(strategy: Strategy, reserved: Reserved, stdin: TextIO, stdout: TextIO) -> None:
    normalizer = PropertyNameNormalizer(
        strategy, reserved_keys=reserved.keys, reserved_prefixes=reserved.prefixes
    )
    for name in read_names(stdin):
        stdout.write(_dump(normalizer.normalize_key(name)) + "\n")


def _audit(
    strategies: Sequence[Strategy], reserved: Reserved, stdin: TextIO, stdout: TextIO
) -> None:
    names = list(read_names(stdin))
    for strategy in strategies:
        groups = collision_groups(
            names, strategy, reserved_keys=reserved.keys, reserved_prefixes=reserved.prefixes
        )
        for group in groups:
            stdout.write(_dump(group.to_dict()) + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (separate so the help text can be tested and documented)."""
    strategies = get_args(Strategy)
    parser = argparse.ArgumentParser(
        prog="property-names",
        description="Convert property names the way Segment's CleverTap destination may, "
        "or find names that would collide. Reads one JSON string per line on stdin.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    normalize = commands.add_parser(
        "normalize", help="write the normalized name of each input name (one JSON string a line)"
    )
    normalize.add_argument(
        "--strategy", choices=strategies, default=DEFAULT_STRATEGY, help="default: %(default)s"
    )
    audit = commands.add_parser(
        "audit",
        help="write each group of names that normalize to the same key (one JSON object a line)",
    )
    audit.add_argument(
        "--strategy",
        choices=strategies,
        help=f"default: every distinct strategy ({', '.join(DISTINCT_STRATEGIES)})",
    )
    for command in (normalize, audit):
        command.add_argument(
            "--no-reserved-keys",
            dest="reserved",
            action="store_const",
            const=NOTHING_RESERVED,
            default=TARGETS_RESERVED,
            help="also rewrite CleverTap's reserved keys (Name, Email, Customer Type, MSG-..., "
            "$add...), which the targets never rewrite; by default they keep their spelling",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``property-names`` console script."""
    arguments = build_parser().parse_args(argv)
    stdin, stdout = sys.stdin, sys.stdout
    for stream in (stdin, stdout):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8")  # names are Unicode whatever the locale says
    try:
        if arguments.command == "normalize":
            _normalize(arguments.strategy, arguments.reserved, stdin, stdout)
        else:
            chosen = (arguments.strategy,) if arguments.strategy else DISTINCT_STRATEGIES
            _audit(chosen, arguments.reserved, stdin, stdout)
    except InputError as error:
        stdout.flush()
        print(f"property-names: error: {error}", file=sys.stderr)
        return 1
    return 0
