r"""npm ``to-snake-case`` 1.0.0 with ``to-space-case`` 1.0.0 and ``to-no-case`` 1.0.2, exactly.

Why exact: Segment's analytics.js integrations use this package, so it is a candidate for the
algorithm of Segment's cloud-mode CleverTap destination. JavaScript details kept here: ``\W`` is
ASCII (every non-ASCII letter is a separator), ``\s`` is JavaScript's whitespace set, ``.``
excludes only the four line terminators, ``$`` is the very end, and lowercasing is JavaScript's
(it turns U+0130 and U+212A into ASCII letters). The regexes run on code points rather than
UTF-16 code units: every non-ASCII code unit is ``\W`` and ``.`` only ever captures an ASCII
word character here, so the two views give the same result.
"""

import re
from typing import Final

from clevertap_segment_common.property_names.js_text import (
    JS_DOT,
    JS_WHITESPACE,
    JS_WHITESPACE_CLASS,
    js_lower,
)

_WHITESPACE: Final = re.compile("[" + JS_WHITESPACE_CLASS + "]")  # /\s/
_HAS_SEPARATOR: Final = re.compile(r"(_|-|\.|:)")
_HAS_CAMEL: Final = re.compile(r"([a-z][A-Z]|[A-Z][a-z])")
_SEPARATOR_SPLITTER: Final = re.compile("[^A-Za-z0-9]+(" + JS_DOT + "|\\Z)")  # /[\W_]+(.|$)/g
_CAMEL_SPLITTER: Final = re.compile("(" + JS_DOT + ")([A-Z]+)")


def _separator_to_space(match: re.Match[str]) -> str:
    following = match.group(1)
    return " " + following if following else ""


def _split_uppers(match: re.Match[str]) -> str:
    return match.group(1) + " " + " ".join(js_lower(match.group(2)))


def _to_no_case(text: str) -> str:
    if _WHITESPACE.search(text):
        return js_lower(text)
    if _HAS_SEPARATOR.search(text):
        return js_lower(_SEPARATOR_SPLITTER.sub(_separator_to_space, text) or text)
    if _HAS_CAMEL.search(text):
        return js_lower(_CAMEL_SPLITTER.sub(_split_uppers, text))
    return js_lower(text)


def _to_space_case(text: str) -> str:
    return _SEPARATOR_SPLITTER.sub(_separator_to_space, _to_no_case(text)).strip(JS_WHITESPACE)


def to_snake_case(name: str) -> str:
    """``require('to-snake-case')(name)`` of to-snake-case 1.0.0 running on Node."""
    return _WHITESPACE.sub("_", _to_space_case(name))
