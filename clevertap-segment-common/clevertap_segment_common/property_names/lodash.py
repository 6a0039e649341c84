r"""lodash 4.17.21 ``_.snakeCase``, ported regex for regex from ``lodash.js``.

snakeCase(s) = words(deburr(s).replace(reApos, '')).map(toLowerCase).join('_').

Why a port and not ``pydash.snake_case``: pydash 8.1.0 differs from lodash on 2,298 of the 6,072
names of our differential corpus, not only on emoji (``"some😀emoji"`` stays unchanged where
lodash gives ``"some_😀_emoji"``): it matches on code points, so astral characters and
zero-width-joiner sequences split differently, and it keeps some combining marks that lodash's
deburr removes. Here every regex runs on a string of UTF-16 code units with lodash's literal
ranges (surrogates included), ``\d`` and ``\b`` are ASCII as in JavaScript, ``$`` is ``\Z``
(Python's ``$`` also matches before a final newline), and each word is lowercased with
JavaScript's ``toLowerCase``.
"""

import re
from typing import Final

from clevertap_segment_common.property_names.js_text import (
    from_utf16_units,
    js_lower,
    to_utf16_units,
)

# Character-class bodies, named and written as in lodash.js.
_rs_astral_range = "\\ud800-\\udfff"
_rs_combo_marks_range = "\\u0300-\\u036f"
_re_combo_half_marks_range = "\\ufe20-\\ufe2f"
_rs_combo_symbols_range = "\\u20d0-\\u20ff"
_rs_combo_range = _rs_combo_marks_range + _re_combo_half_marks_range + _rs_combo_symbols_range
_rs_dingbat_range = "\\u2700-\\u27bf"
_rs_lower_range = "a-z\\xdf-\\xf6\\xf8-\\xff"
_rs_math_op_range = "\\xac\\xb1\\xd7\\xf7"
_rs_non_char_range = "\\x00-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\xbf"
_rs_punctuation_range = "\\u2000-\\u206f"
_rs_space_range = (
    " \\t\\x0b\\f\\xa0\\ufeff\\n\\r\\u2028\\u2029\\u1680\\u180e\\u2000\\u2001\\u2002\\u2003"
    "\\u2004\\u2005\\u2006\\u2007\\u2008\\u2009\\u200a\\u202f\\u205f\\u3000"
)
_rs_upper_range = "A-Z\\xc0-\\xd6\\xd8-\\xde"
_rs_var_range = "\\ufe0e\\ufe0f"
_rs_break_range = _rs_math_op_range + _rs_non_char_range + _rs_punctuation_range + _rs_space_range

# Capture groups.
_rs_apos = "['\u2019]"
_rs_break = "[" + _rs_break_range + "]"
_rs_combo = "[" + _rs_combo_range + "]"
_rs_digits = "\\d+"
_rs_dingbat = "[" + _rs_dingbat_range + "]"
_rs_lower = "[" + _rs_lower_range + "]"
# lodash puts "\\d+" inside this class, so "+" is excluded too (it is in the break range anyway).
_rs_misc = (
    "[^"
    + _rs_astral_range
    + _rs_break_range
    + _rs_digits
    + _rs_dingbat_range
    + _rs_lower_range
    + _rs_upper_range
    + "]"
)
_rs_fitz = "\\ud83c[\\udffb-\\udfff]"
_rs_modifier = "(?:" + _rs_combo + "|" + _rs_fitz + ")"
_rs_non_astral = "[^" + _rs_astral_range + "]"
_rs_regional = "(?:\\ud83c[\\udde6-\\uddff]){2}"
_rs_surr_pair = "[\\ud800-\\udbff][\\udc00-\\udfff]"
_rs_upper = "[" + _rs_upper_range + "]"
_rs_zwj = "\\u200d"

# Composite groups.
_rs_misc_lower = "(?:" + _rs_lower + "|" + _rs_misc + ")"
_rs_misc_upper = "(?:" + _rs_upper + "|" + _rs_misc + ")"
_rs_opt_contr_lower = "(?:" + _rs_apos + "(?:d|ll|m|re|s|t|ve))?"
_rs_opt_contr_upper = "(?:" + _rs_apos + "(?:D|LL|M|RE|S|T|VE))?"
_re_opt_mod = _rs_modifier + "?"
_rs_opt_var = "[" + _rs_var_range + "]?"
_rs_opt_join = (
    "(?:"
    + _rs_zwj
    + "(?:"
    + "|".join([_rs_non_astral, _rs_regional, _rs_surr_pair])
    + ")"
    + _rs_opt_var
    + _re_opt_mod
    + ")*"
)
_rs_ord_lower = "\\d*(?:1st|2nd|3rd|(?![123])\\dth)(?=\\b|[A-Z_])"
_rs_ord_upper = "\\d*(?:1ST|2ND|3RD|(?![123])\\dTH)(?=\\b|[a-z_])"
_rs_seq = _rs_opt_var + _re_opt_mod + _rs_opt_join
_rs_emoji = "(?:" + "|".join([_rs_dingbat, _rs_regional, _rs_surr_pair]) + ")" + _rs_seq
_END = "\\Z"  # JavaScript's "$" without the multiline flag

_RE_UNICODE_WORD: Final = re.compile(
    "|".join(
        [
            _rs_upper
            + "?"
            + _rs_lower
            + "+"
            + _rs_opt_contr_lower
            + "(?="
            + "|".join([_rs_break, _rs_upper, _END])
            + ")",
            _rs_misc_upper
            + "+"
            + _rs_opt_contr_upper
            + "(?="
            + "|".join([_rs_break, _rs_upper + _rs_misc_lower, _END])
            + ")",
            _rs_upper + "?" + _rs_misc_lower + "+" + _rs_opt_contr_lower,
            _rs_upper + "+" + _rs_opt_contr_upper,
            _rs_ord_upper,
            _rs_ord_lower,
            _rs_digits,
            _rs_emoji,
        ]
    ),
    re.ASCII,
)
_RE_ASCII_WORD: Final = re.compile("[^\\x00-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]+")
_RE_HAS_UNICODE_WORD: Final = re.compile(
    "[a-z][A-Z]|[A-Z]{2}[a-z]|[0-9][a-zA-Z]|[a-zA-Z][0-9]|[^a-zA-Z0-9 ]"
)
_RE_APOS: Final = re.compile(_rs_apos)
_RE_LATIN: Final = re.compile("[\\xc0-\\xd6\\xd8-\\xf6\\xf8-\\xff\\u0100-\\u017f]")
_RE_COMBO_MARK: Final = re.compile(_rs_combo)

# lodash's deburredLetters: Latin-1 Supplement and Latin Extended-A letters to basic Latin.
_DEBURR_GROUPS: Final = (
    ("\xc0\xc1\xc2\xc3\xc4\xc5", "A"), ("\xe0\xe1\xe2\xe3\xe4\xe5", "a"),
    ("\xc7", "C"), ("\xe7", "c"), ("\xd0", "D"), ("\xf0", "d"),
    ("\xc8\xc9\xca\xcb", "E"), ("\xe8\xe9\xea\xeb", "e"),
    ("\xcc\xcd\xce\xcf", "I"), ("\xec\xed\xee\xef", "i"),
    ("\xd1", "N"), ("\xf1", "n"),
    ("\xd2\xd3\xd4\xd5\xd6\xd8", "O"), ("\xf2\xf3\xf4\xf5\xf6\xf8", "o"),
    ("\xd9\xda\xdb\xdc", "U"), ("\xf9\xfa\xfb\xfc", "u"),
    ("\xdd", "Y"), ("\xfd\xff", "y"),
    ("\xc6", "Ae"), ("\xe6", "ae"), ("\xde", "Th"), ("\xfe", "th"), ("\xdf", "ss"),
    ("\u0100\u0102\u0104", "A"), ("\u0101\u0103\u0105", "a"),
    ("\u0106\u0108\u010a\u010c", "C"), ("\u0107\u0109\u010b\u010d", "c"),
    ("\u010e\u0110", "D"), ("\u010f\u0111", "d"),
    ("\u0112\u0114\u0116\u0118\u011a", "E"), ("\u0113\u0115\u0117\u0119\u011b", "e"),
    ("\u011c\u011e\u0120\u0122", "G"), ("\u011d\u011f\u0121\u0123", "g"),
    ("\u0124\u0126", "H"), ("\u0125\u0127", "h"),
    ("\u0128\u012a\u012c\u012e\u0130", "I"), ("\u0129\u012b\u012d\u012f\u0131", "i"),
    ("\u0134", "J"), ("\u0135", "j"),
    ("\u0136", "K"), ("\u0137\u0138", "k"),
    ("\u0139\u013b\u013d\u013f\u0141", "L"), ("\u013a\u013c\u013e\u0140\u0142", "l"),
    ("\u0143\u0145\u0147\u014a", "N"), ("\u0144\u0146\u0148\u014b", "n"),
    ("\u014c\u014e\u0150", "O"), ("\u014d\u014f\u0151", "o"),
    ("\u0154\u0156\u0158", "R"), ("\u0155\u0157\u0159", "r"),
    ("\u015a\u015c\u015e\u0160", "S"), ("\u015b\u015d\u015f\u0161", "s"),
    ("\u0162\u0164\u0166", "T"), ("\u0163\u0165\u0167", "t"),
    ("\u0168\u016a\u016c\u016e\u0170\u0172", "U"), ("\u0169\u016b\u016d\u016f\u0171\u0173", "u"),
    ("\u0174", "W"), ("\u0175", "w"),
    ("\u0176\u0178", "Y"), ("\u0177", "y"),
    ("\u0179\u017b\u017d", "Z"), ("\u017a\u017c\u017e", "z"),
    ("\u0132", "IJ"), ("\u0133", "ij"), ("\u0152", "Oe"), ("\u0153", "oe"),
    ("\u0149", "'n"), ("\u017f", "s"),
)  # fmt: skip
_DEBURRED_LETTERS: Final = {
    letter: basic for letters, basic in _DEBURR_GROUPS for letter in letters
}


def _deburr_letter(match: re.Match[str]) -> str:
    return _DEBURRED_LETTERS[match.group()]


def _words(units: str) -> list[str]:
    if _RE_HAS_UNICODE_WORD.search(units):
        return _RE_UNICODE_WORD.findall(units)
    return _RE_ASCII_WORD.findall(units)


def lodash_snake_case(name: str) -> str:
    """``_.snakeCase(name)`` of lodash 4.17.21 running on Node."""
    units = to_utf16_units(name)
    deburred = _RE_COMBO_MARK.sub("", _RE_LATIN.sub(_deburr_letter, units))
    words = _words(_RE_APOS.sub("", deburred))
    return "_".join(js_lower(from_utf16_units(word)) for word in words)
