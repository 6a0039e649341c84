"""Every strategy against recorded outputs of the real libraries and upstream test vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clevertap_segment_common.property_names import (
    DEFAULT_STRATEGY,
    STRATEGIES,
    normalize_name,
    validate_strategy,
)

VECTORS_FILE = Path(__file__).parent / "data" / "snakecase_vectors.json"
VECTORS = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
COLUMN = {
    "segment": "lodash",
    "lodash": "lodash",
    "to-snake-case": "to_snake_case_1_0_0",
    "go-snakecase": "go_snakecase",
}

# segmentio/go-snakecase snake_test.go (commit 5e4a23e7, the v1.1.0 snake.go), in upstream order.
GO_SNAKECASE_UPSTREAM = [
    ("@49L0S145_¬fwHƒ0TSLNVp", "49l0s145_fw_h_0tslnvp"),
    ("lk0B@bFmjrLQ_Z6YL", "lk0_b_b_fmjr_lq_z6yl"),
    ("samPLE text", "sam_ple_text"),
    ("sample text", "sample_text"),
    ("sample-text", "sample_text"),
    ("sample_text", "sample_text"),
    ("sample___text", "sample_text"),
    ("sampleText", "sample_text"),
    ("inviteYourCustomersAddInvites", "invite_your_customers_add_invites"),
    ("sample 2 Text", "sample_2_text"),
    ("   sample   2    Text   ", "sample_2_text"),
    ("   $#$sample   2    Text   ", "sample_2_text"),
    ("SAMPLE 2 TEXT", "sample_2_text"),
    ("___$$Base64Encode", "base64_encode"),
    ("FOO:BAR$BAZ", "foo_bar_baz"),
    ("FOO#BAR#BAZ", "foo_bar_baz"),
    ("something.com", "something_com"),
    ("$something%", "something"),
    ("something.com", "something_com"),
    ("•¶§ƒ˚foo˙∆˚¬", "foo"),
    ("CStringRef", "cstring_ref"),
    ("5test", "5test"),
    ("test5", "test5"),
    ("THE5r", "the5r"),
    ("5TEst", "5test"),
    ("_5TEst", "5test"),
    ("@%#&5TEst", "5test"),
    ("edf_6N", "edf_6n"),
    ("f_pX9", "f_p_x9"),
    ("p_z9Rg", "p_z9_rg"),
    ("2FA Enabled", "2fa_enabled"),
    ("Enabled 2FA", "enabled_2fa"),
]


def test_vector_file_has_the_expected_shape():
    assert len(VECTORS) == 72
    assert {"input", "lodash", "to_snake_case_1_0_0", "go_snakecase"} <= set(VECTORS[0])


@pytest.mark.parametrize("strategy", sorted(COLUMN))
@pytest.mark.parametrize("row", VECTORS, ids=[repr(row["input"]) for row in VECTORS])
def test_shared_vectors(strategy: str, row: dict[str, str]):
    assert normalize_name(row["input"], strategy) == row[COLUMN[strategy]]


@pytest.mark.parametrize("row", VECTORS, ids=[repr(row["input"]) for row in VECTORS])
def test_none_keeps_every_vector(row: dict[str, str]):
    assert normalize_name(row["input"], "none") == row["input"]


@pytest.mark.parametrize(("name", "expected"), GO_SNAKECASE_UPSTREAM)
def test_go_snakecase_upstream_vectors(name: str, expected: str):
    assert normalize_name(name, "go-snakecase") == expected


def test_go_snakecase_upstream_vector_count():
    assert len({name for name, _ in GO_SNAKECASE_UPSTREAM}) == 31


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Fast path: already snake case comes back as the very same string.
        ("a1_b2", "a1_b2"),
        # The special case glues only where the fast path stopped.
        ("ab_CD", "ab_cd"),
        ("ab_cD", "ab_c_d"),
        ("9X", "9x"),
        ("a_9Xy", "a_9xy"),
        # Non-ASCII letters are separators (every UTF-8 byte in Go).
        ("naïve_user", "na_ve_user"),
        ("__", ""),
        ("_a", "a"),
    ],
)
def test_go_snakecase_paths(name: str, expected: str):
    assert normalize_name(name, "go-snakecase") == expected


@pytest.mark.parametrize(
    ("name", "lodash", "to_snake_case"),
    [
        # Outputs recorded from Node 20.20 (lodash 4.17.21, to-snake-case 1.0.0).
        ("ΟΔΥΣΣΕΥΣ", "οδυσσευς", ""),  # final sigma per word
        ("aΣ_b", "aς_b", "a_b"),
        ("İstanbul", "istanbul", "i_stanbul"),  # deburr first in lodash; JS lowercasing in npm
        ("\u212ax", "kx", "kx"),  # KELVIN SIGN lowercases to ASCII k
        ("\ufeffa b", "a_b", "a_b"),  # U+FEFF is JS whitespace
        ("a\x85b", "a_b", "a_b"),  # U+0085 is not (Python disagrees)
        ("\U00010400bc", "\U00010428_bc", "bc"),  # astral letters are their own lodash word
        ("👍🏽ok", "👍🏽_ok", "ok"),
        ("🇺🇸flag", "🇺🇸_flag", "flag"),
        ("👩\u200d👩\u200d👧x", "👩\u200d👩\u200d👧_x", "x"),
        ("😀\u200d_", "😀\u200d_", ""),  # a ZWJ sequence may end in "_" in lodash
        ("x\u0301\u0302y", "xy", "x_y"),  # combining marks removed by deburr
        ("\u0149x", "nx", "x"),  # deburr gives "'n", then apostrophes go
        ("ab\u2019s", "abs", "ab_s"),
        ("A1STb", "a_1st_b", "a1_s_tb"),
        ("11th", "11_th", "11th"),
        ("2NDPlace", "2_nd_place", "2_n_d_place"),
        ("-\u0130", "i", "i"),
        ("\u1c89", "\u1c8a", ""),  # a Unicode 16 case pair, unknown to Python 3.11's str.lower
    ],
)
def test_javascript_details(name: str, lodash: str, to_snake_case: str):
    assert normalize_name(name, "lodash") == lodash
    assert normalize_name(name, "to-snake-case") == to_snake_case


def test_segment_is_lodash_and_the_default():
    assert DEFAULT_STRATEGY == "segment"
    assert STRATEGIES["segment"] is STRATEGIES["lodash"]
    assert normalize_name("userID") == "user_id"


def test_registry_lists_every_strategy():
    assert set(STRATEGIES) == {"segment", "lodash", "to-snake-case", "go-snakecase", "none"}


def test_unknown_strategy_names_the_valid_ones():
    with pytest.raises(ValueError, match="'snake'") as raised:
        normalize_name("First Name", "snake")
    for valid in ("segment", "lodash", "to-snake-case", "go-snakecase", "none"):
        assert valid in str(raised.value)
    with pytest.raises(ValueError, match="valid strategies"):
        validate_strategy("Segment")


def test_repeated_names_are_served_from_the_cache():
    name = "Cache Probe Name"
    first = normalize_name(name, "to-snake-case")
    assert first == "cache_probe_name"
    assert normalize_name(name, "to-snake-case") is first
