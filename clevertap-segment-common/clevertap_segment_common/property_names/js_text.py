r"""JavaScript string semantics that the Node.js references depend on and Python lacks.

Why: lodash and to-snake-case run on JavaScript strings. Reproducing them exactly needs
JavaScript's ``toLowerCase`` (Node's newer Unicode data and its own Final_Sigma decisions),
JavaScript's whitespace class (``\s`` includes U+FEFF but not U+001C..U+001F or U+0085, unlike
Python's) and JavaScript's view of a string as UTF-16 code units (lodash's emoji regexes are
written with surrogates).
"""

import re
from bisect import bisect_right
from typing import Final

from clevertap_segment_common.property_names.unicode_case_data import (
    CASE_IGNORABLE_RANGES,
    CASED_RANGES,
    LOWERCASE_OVERRIDES,
)

# ECMAScript WhiteSpace + LineTerminator: what JS ``\s`` matches and ``trim()`` strips.
JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# A character class body (for ``[...]``) equal to JS ``\s``.
JS_WHITESPACE_CLASS: Final = re.escape(JS_WHITESPACE)
# JS ``.`` outside dotAll mode: any code unit except the four line terminators.
JS_DOT: Final = "[^\n\r\u2028\u2029]"

_CAPITAL_SIGMA: Final = "\u03a3"
_NEEDS_SLOW_LOWERCASE = re.compile(
    "[" + re.escape(_CAPITAL_SIGMA + "".join(LOWERCASE_OVERRIDES)) + "]"
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _range_table(ranges: tuple[tuple[int, int], ...]) -> tuple[list[int], list[int]]:
    return [start for start, _ in ranges], [end for _, end in ranges]


_CASED_STARTS, _CASED_ENDS = _range_table(CASED_RANGES)
_IGNORABLE_STARTS, _IGNORABLE_ENDS = _range_table(CASE_IGNORABLE_RANGES)


def _in_table(char: str, starts: list[int], ends: list[int]) -> bool:
    code_point = ord(char)
    index = bisect_right(starts, code_point) - 1
    return index >= 0 and code_point <= ends[index]


def _is_cased(char: str) -> bool:
    return _in_table(char, _CASED_STARTS, _CASED_ENDS)


def _is_case_ignorable(char: str) -> bool:
    return _in_table(char, _IGNORABLE_STARTS, _IGNORABLE_ENDS)


def _is_final_sigma(text: str, index: int) -> bool:
    """Unicode's Final_Sigma condition; case-ignorable wins over cased, as in ICU and CPython."""
    before = index - 1
    while before >= 0 and _is_case_ignorable(text[before]):
        before -= 1
    if before < 0 or not _is_cased(text[before]):
        return False
    after = index + 1
    while after < len(text) and _is_case_ignorable(text[after]):
        after += 1
    return after == len(text) or not _is_cased(text[after])


def _lower_char(text: str, index: int) -> str:
    char = text[index]
    if char == _CAPITAL_SIGMA:
        return "\u03c2" if _is_final_sigma(text, index) else "\u03c3"
    return LOWERCASE_OVERRIDES.get(char) or char.lower()


def js_lower(text: str) -> str:
    """``String.prototype.toLowerCase`` of Node (root locale) for a string of code points."""
    if text.isascii() or _NEEDS_SLOW_LOWERCASE.search(text) is None:
        return text.lower()
    return "".join(_lower_char(text, index) for index in range(len(text)))


def _surrogate_pair(match: re.Match[str]) -> str:
    offset = ord(match.group()) - 0x10000
    return chr(0xD800 + (offset >> 10)) + chr(0xDC00 + (offset & 0x3FF))


def to_utf16_units(text: str) -> str:
    """The string as JavaScript sees it: one Python character per UTF-16 code unit."""
    return text if text.isascii() else _ASTRAL.sub(_surrogate_pair, text)


def from_utf16_units(units: str) -> str:
    """Inverse of :func:`to_utf16_units`; surrogates that do not form a pair stay as they are."""
    if units.isascii():
        return units
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
