"""The repository is portable and self-contained: no machine paths, a licence, no working notes.

Committed results and docs are read on other machines; a path like ``/home/<user>/...`` in them
says nothing about the plugins and leaks how one machine is laid out.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Absolute paths that only exist on one developer's or CI machine.
MACHINE_PATH = re.compile(r"(?<![\w.-])/(?:work|root|home)/|/tmp/pytest")
#: This file names the patterns it looks for.
EXEMPT = {"tests/test_repository_hygiene.py"}


def tracked_files() -> list[Path]:
    """Every file git tracks in this checkout (text or not)."""
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    return [Path(name) for name in out.decode().split("\0") if name]


def test_no_absolute_machine_paths() -> None:
    """Tracked text files name files relative to the repository, never by a machine path."""
    offenders = []
    for relative in tracked_files():
        if relative.as_posix() in EXEMPT:
            continue
        path = ROOT / relative
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if MACHINE_PATH.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()[:120]}")
    assert offenders == []


def _path(*parts: str) -> str:
    return "/" + "/".join(parts)


def test_pattern_catches_machine_paths() -> None:
    """The rule flags the paths it is meant for and leaves relative and system paths alone.

    The probes are assembled here so that this file holds no machine path itself.
    """
    assert MACHINE_PATH.search(f'File "{_path("work", "main", "tap", "x.py")}"')
    assert MACHINE_PATH.search(_path("home", "someone", ".venv", "lib"))
    assert MACHINE_PATH.search(_path("tmp", "pytest-of-root", "pytest-3", "x"))
    assert not MACHINE_PATH.search("site-packages/singer_sdk/target_base.py")
    assert not MACHINE_PATH.search("bench/results/reliability.json")
    assert not MACHINE_PATH.search('Path("/usr/lib/postgresql")')


def test_license_is_apache_2() -> None:
    """Every package declares Apache-2.0, so the full licence text ships at the root."""
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    for pyproject in sorted(ROOT.glob("*/pyproject.toml")):
        content = pyproject.read_text(encoding="utf-8")
        if "[project]" in content:
            assert 'license = "Apache-2.0"' in content, pyproject


def test_no_working_notes() -> None:
    """Notes about how the project was worked on do not belong in the repository."""
    assert not any(p.parts[:2] == ("docs", "dev") for p in tracked_files())


#: A path to a document in this repository, as code and docs cite it.
DOC_PATH = re.compile(r"(?<![\w/.-])docs/[\w./-]+\.md")
#: A section number, or a range of them: "§2.1", "§1-4", "§1.3-1.5".
SECTION = re.compile(r"§\s*(\d+(?:\.\d+)*)(?:\s*-\s*(\d+(?:\.\d+)*))?")
#: Vendor notes cited by bare name, without their place in the repository.
BARE_NOTE = re.compile(r"(?<![\w/-])(?:clevertap-api|segment-api|singer-meltano|architecture)\.md")
HEADING = re.compile(r"^#+\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)


def text_files() -> list[tuple[Path, str]]:
    """Tracked files that read as UTF-8 text, with their text."""
    found = []
    for relative in tracked_files():
        path = ROOT / relative
        if path.suffix in {".png", ".svg", ".lock", ".json"} or not path.is_file():
            continue
        try:
            found.append((relative, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue
    return found


def numbered_sections(document: Path) -> set[str]:
    """The section numbers of a markdown document's headings ("2.1" for "### 2.1 ...")."""
    return set(HEADING.findall(document.read_text(encoding="utf-8")))


def test_cited_documents_and_sections_exist() -> None:
    """Each ``docs/<name>.md`` cited exists, and each § on a line citing one document is a heading.

    A line like "docs/clevertap-api.md §2.1 [O], §2.6 [U]" checks both numbers against that file.
    """
    problems: list[str] = []
    for relative, text in text_files():
        if relative.as_posix() in EXEMPT:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            cited = sorted(set(DOC_PATH.findall(line)))
            problems.extend(
                f"{relative}:{number}: {name} does not exist"
                for name in cited
                if not (ROOT / name).is_file()
            )
            if len(cited) != 1 or not (ROOT / cited[0]).is_file():
                continue
            sections = numbered_sections(ROOT / cited[0])
            problems.extend(
                f"{relative}:{number}: {cited[0]} has no §{section}"
                for bounds in SECTION.findall(line)
                for section in bounds
                if section and section not in sections
            )
    assert problems == []


def test_vendor_notes_are_cited_by_their_path() -> None:
    """Vendor notes are cited as ``docs/<name>.md`` so a reader can open them."""
    problems = [
        f"{relative}:{number}: {line.strip()[:100]}"
        for relative, text in text_files()
        if relative.as_posix() not in EXEMPT
        for number, line in enumerate(text.splitlines(), start=1)
        if BARE_NOTE.search(line)
    ]
    assert problems == []


def test_citation_rules_catch_what_they_should() -> None:
    """The patterns read paths, single sections and ranges, and notice bare names."""
    assert DOC_PATH.findall("(docs/clevertap-api.md §2.1-2.4)") == ["docs/clevertap-api.md"]
    assert SECTION.findall("§2.1 [O], §1-4") == [("2.1", ""), ("1", "4")]
    assert BARE_NOTE.search("see clevertap-api.md 4.4")
    assert not BARE_NOTE.search("see docs/clevertap-api.md §4.4")
    assert "2.1" in numbered_sections(ROOT / "docs" / "clevertap-api.md")


def test_no_sys_path_manipulation() -> None:
    """Helpers are importable through pytest's ``pythonpath``, never by editing sys.path."""
    pattern = re.compile(r"sys\.path\.(?:insert|append)\(")
    problems = [
        f"{relative}:{number}"
        for relative, text in text_files()
        if relative.suffix == ".py" and relative.as_posix() not in EXEMPT
        for number, line in enumerate(text.splitlines(), start=1)
        if pattern.search(line)
    ]
    assert problems == []


#: The packages users install; pytest and singer_sdk.testing are not among their dependencies.
RUNTIME_PACKAGES = (
    "clevertap-segment-common/clevertap_segment_common",
    "clevertap-segment-sandbox/clevertap_segment_sandbox",
    "tap-clevertap/tap_clevertap",
    "target-segment/target_segment",
    "target-clevertap/target_clevertap",
)
#: Loaded only by pytest itself (the sandbox's ``pytest11`` entry point), so it may import pytest.
PYTEST_PLUGINS = {"clevertap-segment-sandbox/clevertap_segment_sandbox/pytest_plugin.py"}
TEST_IMPORT = re.compile(r"^\s*(?:import|from)\s+(?:pytest\b|singer_sdk\.testing\b)", re.MULTILINE)


def test_runtime_packages_do_not_import_test_tools() -> None:
    """Test helpers live under tests/, so an installed plugin never needs pytest."""
    problems = [
        str(path.relative_to(ROOT))
        for package in RUNTIME_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.relative_to(ROOT).as_posix() not in PYTEST_PLUGINS
        and TEST_IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert problems == []
