"""Differential tests: our ports against the real lodash / to-snake-case running on Node.

The pinned packages are installed with ``npm ci`` into ``node_reference/`` when missing; thousands
of seeded, generated names go through one Node process over stdin/stdout.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from clevertap_segment_common.property_names import normalize_name
from clevertap_segment_common.property_names.js_text import js_lower
from clevertap_segment_common.property_names.unicode_case_data import (
    CASE_IGNORABLE_RANGES,
    CASED_RANGES,
    UNICODE_VERSION,
)

NODE_REFERENCE = Path(__file__).parent / "node_reference"
VECTORS = Path(__file__).parent / "data" / "snakecase_vectors.json"
GENERATED_NAMES = 6000
SEED = 20240611

NODE = shutil.which("node")
NPM = shutil.which("npm")


@pytest.fixture(scope="session", autouse=True)
def node_and_npm_installed() -> None:
    """Skip without Node locally; fail under CI, which must run the differential tests."""
    absent = [name for name, path in (("node", NODE), ("npm", NPM)) if path is None]
    if absent:
        missing = (
            f"{' and '.join(absent)} not found on PATH (they run the lodash / to-snake-case "
            "references): install Node.js >= 18 with npm (Debian: `apt-get install nodejs npm`)"
        )
        if os.environ.get("CI"):
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)


@pytest.fixture(scope="session")
def node_reference() -> Path:
    """The reference folder with its pinned node_modules installed (once, even under xdist)."""
    assert NPM is not None
    with (NODE_REFERENCE / "package-lock.json").open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one installer at a time under pytest-xdist
        if not (NODE_REFERENCE / "node_modules" / "to-snake-case").is_dir():
            subprocess.run(
                [NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=NODE_REFERENCE,
                check=True,
                timeout=300,
            )
    return NODE_REFERENCE


def run_node(folder: Path, script: str, names: list[str]) -> list[dict[str, str]]:
    assert NODE is not None
    stdin = "".join(json.dumps(name) + "\n" for name in names)
    completed = subprocess.run(
        [NODE, script],
        cwd=folder,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [json.loads(line) for line in completed.stdout.splitlines()]


# --- generated names -------------------------------------------------------------------------

ASCII_WORDS = [
    "user", "User", "USER", "id", "ID", "Id", "http", "HTTP", "Http", "xml", "XML", "server",
    "Server", "name", "Name", "first", "First", "a", "A", "b", "Z", "iOS", "mixedCASE", "camelCase",
    "PascalCase", "snake_case", "CONSTANT_CASE", "kebab-case", "e", "s", "t", "ll", "ve", "re", "d",
    "LL", "VE", "RE", "D", "S", "T", "M", "m", "th", "TH", "nd", "ND", "st", "ST", "rd", "RD",
]  # fmt: skip
NUMBERS = ["0", "1", "2", "3", "4", "9", "10", "11", "12", "13", "21", "22", "23", "101", "2FA"]
ORDINALS = ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "1ST", "2ND", "3RD", "5TH"]
SEPARATORS = [*" _-.:/$#()[]{}'\"@+*,;!?&%=<>|\\^`~\u2019\u2018\xb4", "  ", "__", "--", " - "]
WHITESPACE = [
    "\t", "\n", "\r", "\v", "\f", "\xa0", "\u1680", "\u180e", "\u2000", "\u2005", "\u200a",
    "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff", "\x85", "\x1c", "\x1f", "\u200b",
]  # fmt: skip
SPECIAL_LETTERS = [
    "\u0130", "\u0131", "\u212a", "\u212b", "\u1e9e", "\u01c5", "\u01c4", "\u0149", "\u017f",
    "\ufb00", "\u0345", "\u03a3", "\u03c3", "\u03c2", "\u0390", "\u1f88", "\U00010400",
    "\U0001d400", "\U00010d50", "\U00010d70", "\u1c89", "\ua7cb", "\ua7dc", "\U00016ea0",
    "\u13a0", "\u1c90",
    "\u2c00", "\u0587", "\u00b5", "\u00aa", "\u02b0", "\u00ad", "\u034f", "\u2019", "\u00b7",
    "\u0387", "\u05f4", "\u2024", "\ufe13", "\uff07",
]  # fmt: skip
SCRIPT_WORDS = [
    "Имя", "ПОЛЬЗОВАТЕЛЯ", "пользователя", "ΟΔΥΣΣΕΥΣ", "Σίσυφος", "ΑΣ", "ΣΑ", "名前", "ユーザー",
    "데이터", "مرحبا", "שלום", "नमस्ते", "ქართული", "\u13a0\u13a1", "Straße", "Café", "naïve",
    "Ünïcödé", "Ðe",
    "Œuvre", "Ĳssel", "Łódź", "Ħal", "ﬁle",
]  # fmt: skip
COMBINING = ["\u0301", "\u0308", "\u0327", "\u0345", "\u036f", "\ufe20", "\ufe2f", "\u20dd"]
EMOJI = [
    "😀", "👍🏽", "👍🏿", "👩\u200d👩\u200d👧", "👨\u200d💻", "🇺🇸", "🇫🇷🇩🇪", "❤\ufe0f", "✂", "✅",
    "1\ufe0f\u20e3", "🏳\ufe0f\u200d🌈", "\U0001f3fb", "🤷\u200d♀\ufe0f", "\u200d", "\ufe0f",
    "😀\u200d_",
]  # fmt: skip


def random_code_point(rng: random.Random) -> str:
    block = rng.random()
    if block < 0.35:
        code_point = rng.randrange(0x80, 0x250)  # Latin-1, Extended-A/B, x-math ops
    elif block < 0.5:
        code_point = rng.choice([rng.randrange(0x300, 0x370), rng.randrange(0xFE20, 0xFE30),
                                 rng.randrange(0x20D0, 0x2100)])  # fmt: skip
    elif block < 0.6:
        code_point = rng.randrange(0x2000, 0x2070)  # general punctuation
    elif block < 0.85:
        code_point = rng.randrange(0x250, 0xD800)
    elif block < 0.95:
        code_point = rng.randrange(0xE000, 0x10000)
    else:
        code_point = rng.randrange(0x10000, 0x110000)
    return chr(code_point)


def generated_names(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pools = [
        (ASCII_WORDS, 30), (NUMBERS, 6), (ORDINALS, 5), (SEPARATORS, 20), (WHITESPACE, 5),
        (SPECIAL_LETTERS, 6), (SCRIPT_WORDS, 6), (EMOJI, 6), (COMBINING, 5),
    ]  # fmt: skip
    choices = [pool for pool, weight in pools for _ in range(weight)]
    names: list[str] = []
    for _ in range(count):
        parts: list[str] = []
        for _ in range(rng.randint(0, 7)):
            if rng.random() < 0.1:
                parts.append(random_code_point(rng))
            else:
                parts.append(rng.choice(rng.choice(choices)))
        names.append("".join(parts))
    return names


def reference_corpus() -> list[str]:
    vectors = [row["input"] for row in json.loads(VECTORS.read_text(encoding="utf-8"))]
    return vectors + generated_names(GENERATED_NAMES, SEED)


def test_generated_corpus_is_varied():
    names = reference_corpus()
    assert len(names) >= 6000
    joined = "".join(names)
    for needle in ["\u200d", "\U0001f3fd", "\u03a3", "\u0301", "\u00e9", "\ufeff", "名", "1st"]:
        assert needle in joined


@pytest.fixture(scope="module")
def corpus_and_node_outputs(node_reference: Path) -> tuple[list[str], list[dict[str, str]]]:
    names = reference_corpus()
    return names, run_node(node_reference, "reference.js", names)


@pytest.mark.parametrize("strategy", ["lodash", "segment", "to-snake-case"])
def test_matches_node_reference_on_every_generated_name(
    corpus_and_node_outputs: tuple[list[str], list[dict[str, str]]], strategy: str
):
    names, outputs = corpus_and_node_outputs
    column = "to_snake_case" if strategy == "to-snake-case" else "lodash"
    expected = [row[column] for row in outputs]
    assert len(expected) == len(names)
    mismatches = [
        (name, ours, theirs)
        for name, theirs in zip(names, expected, strict=True)
        if (ours := normalize_name(name, strategy)) != theirs
    ]
    assert mismatches == [], (
        f"{len(mismatches)} of {len(names)} names differ, first: {mismatches[:5]}"
    )


FINAL_SIGMA_SCRIPT = """
const readline = require('readline');
const out = [];
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  out.push(JSON.stringify(JSON.parse(line).toLowerCase()));
}).on('close', () => process.stdout.write(out.join('\\n') + '\\n'));
"""


def test_final_sigma_contexts_match_node(node_reference: Path, tmp_path: Path):
    """Σ next to every cased / case-ignorable character, lowercased by Node and by us."""
    script = tmp_path / "lower.js"
    script.write_text(FINAL_SIGMA_SCRIPT, encoding="utf-8")
    neighbours = [
        chr(code_point)
        for start, end in (*CASED_RANGES, *CASE_IGNORABLE_RANGES)
        for code_point in range(start, min(end, start + 40) + 1)
    ]
    texts = [
        text
        for char in neighbours
        for text in (f"A\u03a3{char}", f"A{char}\u03a3", f"A\u03a3{char}B", f"{char}\u03a3")
    ]
    expected = run_node(node_reference, str(script), texts)
    mismatches = [
        (text, js_lower(text), theirs)
        for text, theirs in zip(texts, expected, strict=True)
        if js_lower(text) != theirs
    ]
    assert mismatches == []


CASE_DATA_SCRIPT = """
function ranges(re) {
  const r = []; let start = -1;
  for (let cp = 0; cp <= 0x110000; cp++) {
    const m = cp <= 0x10ffff && re.test(String.fromCodePoint(cp));
    if (m && start < 0) start = cp;
    if (!m && start >= 0) { r.push([start, cp - 1]); start = -1; }
  }
  return r;
}
const lower = {};
for (let cp = 0; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const s = String.fromCodePoint(cp), l = s.toLowerCase();
  if (l !== s) lower[cp] = l;
}
process.stdout.write(JSON.stringify({unicode: process.versions.unicode,
  cased: ranges(/^\\p{Cased}$/u), ignorable: ranges(/^\\p{Case_Ignorable}$/u), lower}));
"""


def test_unicode_case_data_matches_node(tmp_path: Path):
    """The embedded case tables are those of the installed Node (regenerate if Node changed)."""
    assert NODE is not None
    script = tmp_path / "case_data.js"
    script.write_text(CASE_DATA_SCRIPT, encoding="utf-8")
    dumped = json.loads(
        subprocess.run(
            [NODE, str(script)], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )
    if dumped["unicode"] != UNICODE_VERSION:
        pytest.skip(
            f"installed Node uses Unicode {dumped['unicode']}, the tables are from Unicode "
            f"{UNICODE_VERSION}; only the Node that produced them can confirm them"
        )
    assert [tuple(pair) for pair in dumped["cased"]] == list(CASED_RANGES)
    assert [tuple(pair) for pair in dumped["ignorable"]] == list(CASE_IGNORABLE_RANGES)
    node_lower = {chr(int(code_point)): lowered for code_point, lowered in dumped["lower"].items()}
    differences = [
        (hex(code_point), js_lower(char), node_lower.get(char, char))
        for code_point in range(0x110000)
        if not 0xD800 <= code_point <= 0xDFFF
        and js_lower(char := chr(code_point)) != node_lower.get(char, char)
    ]
    assert differences == []
