"""segmentio/go-snakecase v1.1.0 ``Snakecase`` (``snake.go``), ported exactly.

Why: Segment's Go services (e.g. Warehouses) name columns with it, so it is a candidate for the
algorithm of Segment's cloud-mode CleverTap destination. Go walks UTF-8 bytes and only
``[A-Za-z0-9_]`` are meaningful; every byte of a non-ASCII character is a separator, so walking code
points (each non-ASCII code point is one separator) gives the same result.
"""

from typing import Final

_LOWER: Final = frozenset("abcdefghijklmnopqrstuvwxyz")
_UPPER: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT: Final = frozenset("0123456789")
_LOWER_OR_DIGIT: Final = _LOWER | _DIGIT
_UPPER_OR_DIGIT: Final = _UPPER | _DIGIT
_ALPHANUMERIC: Final = _LOWER | _UPPER | _DIGIT


def _fast_path_end(name: str) -> tuple[int, bool]:
    """How far ``name`` is already snake case, and whether the glue special case applies there."""
    has_lower = has_underscore = lowercase_since_underscore = False
    index = 0
    while index < len(name):
        char = name[index]
        if char in _LOWER:
            has_lower = True
            if has_underscore:
                lowercase_since_underscore = True
        elif char in _DIGIT:
            pass
        elif char == "_" and 0 < index < len(name) - 1 and name[index + 1] in _LOWER_OR_DIGIT:
            has_underscore = True
            lowercase_since_underscore = False
        else:
            break
        index += 1
    glue = (
        index < len(name)
        and name[index] in _UPPER
        and (not has_lower or (has_underscore and not lowercase_since_underscore))
    )
    return index, glue


def go_snakecase(name: str) -> str:
    """``snakecase.Snakecase(name)`` of segmentio/go-snakecase v1.1.0."""
    index, glue = _fast_path_end(name)
    if index == len(name):
        return name
    out = [name[:index]]
    size = len(name)
    if glue:
        # Upstream's special case: the word starting here joins the prefix without "_".
        start = index
        while index < size and name[index] in _UPPER_OR_DIGIT:
            index += 1
        while index < size and name[index] in _LOWER_OR_DIGIT:
            index += 1
        out.append(name[start:index].lower())
    written = any(out)
    while index < size:
        if name[index] not in _ALPHANUMERIC:
            index += 1
            continue
        if written:
            out.append("_")
        start = index
        while index < size and name[index] in _UPPER_OR_DIGIT:
            index += 1
        while index < size and name[index] in _LOWER_OR_DIGIT:
            index += 1
        out.append(name[start:index].lower())
        written = True
    return "".join(out)
