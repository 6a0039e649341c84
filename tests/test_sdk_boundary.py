"""singer-sdk internals are used in one module only, and an SDK upgrade that changes one fails here.

The boundary is clevertap_segment_common/sdk_compat.py. Every other Python file of the repository
(plugins, shared package, sandbox, tests, bench, scripts) is read with the AST: no import of a
private SDK module or name, no override of a private method of an SDK class the file's classes
derive from, and no access to a private attribute of those classes. The private names are read
from the installed SDK itself (class members and the ``self._x`` attributes their methods set).
The fingerprints in ``SDK_INTERNALS`` are checked against the installed SDK's source.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import subprocess
import textwrap
import typing as t
from pathlib import Path

import pytest
from clevertap_segment_common import sdk_compat

ROOT = Path(__file__).resolve().parents[1]
BOUNDARY = ROOT / "clevertap-segment-common" / "clevertap_segment_common" / "sdk_compat.py"


def python_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name) != BOUNDARY]


def resolve(qualified: str) -> t.Any:
    """The object a dotted name denotes (longest importable module, then attributes)."""
    parts = qualified.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: t.Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)
        return target
    raise LookupError(qualified)


def fingerprint(qualified: str) -> str:
    source = textwrap.dedent(inspect.getsource(resolve(qualified)))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def private_members(cls: type) -> set[str]:
    """Private names an SDK class and its SDK bases define or set on ``self``."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("singer_sdk"):
            continue
        names.update(n for n in vars(klass) if n.startswith("_") and not n.endswith("__"))
        for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(klass)))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and isinstance(node.ctx, ast.Store)
                and node.attr.startswith("_")
            ):
                names.add(node.attr)
    return names


def sdk_imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> qualified name of everything the module imports from singer_sdk."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
            module = node.module or ""
            names = [a.name for a in node.names if a.name.startswith("_")]
            if any(part.startswith("_") for part in module.split(".")) or names:
                found.append(f"{where}:{node.lineno}: imports from {node.module}")
    imported = sdk_imports(tree)
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        private: set[str] = set()
        for node in cls.bases:
            base = node.value if isinstance(node, ast.Subscript) else node  # Reader[str]
            if isinstance(base, ast.Name) and base.id in imported:
                sdk_class = resolve(imported[base.id])
                if inspect.isclass(sdk_class):
                    private |= private_members(sdk_class)
        for node in ast.walk(cls):
            if isinstance(node, ast.FunctionDef) and node.name in private:
                found.append(f"{where}:{node.lineno}: overrides {cls.name}.{node.name}")
            if isinstance(node, ast.Attribute) and node.attr in private:
                found.append(f"{where}:{node.lineno}: uses {node.attr} of an SDK class")
    return found


def our_sdk_subclasses() -> set[str]:
    """Every SDK member name that is private to the classes the plugins derive from."""
    import singer_sdk
    from singer_sdk.sinks import BatchSink, RecordSink

    names: set[str] = set()
    for cls in (singer_sdk.Tap, singer_sdk.Target, singer_sdk.Stream, BatchSink, RecordSink):
        names |= private_members(cls)
    return names


def test_private_sdk_names_appear_only_in_the_boundary_module() -> None:
    sdk_private = our_sdk_subclasses()
    problems = []
    for path in python_files():
        problems += violations(path)
        # classes derived from ours hide the SDK base: any use of an SDK-private method name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in sdk_private
                and node.attr.startswith(("_process_", "_handle_", "_write_state", "_generate_"))
            ):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: uses {node.attr}")
    assert not problems, "private singer-sdk names outside sdk_compat.py:\n" + "\n".join(problems)


def test_the_check_finds_a_private_name(tmp_path: Path) -> None:
    """The scanner itself: a file overriding and calling SDK internals is reported."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from singer_sdk import Target\n"
        "from singer_sdk.helpers._typing import conform_record_data_types\n"
        "class T(Target):\n"
        "    def _process_record_message(self, message_dict):\n"
        "        self._MAX_RECORD_AGE_IN_MINUTES = 1\n",
        encoding="utf-8",
    )
    found = violations(sample)
    assert len(found) == 3, found


@pytest.mark.parametrize("qualified", sorted(sdk_compat.SDK_INTERNALS))
def test_sdk_internals_are_the_versions_the_overrides_were_written_for(qualified: str) -> None:
    assert fingerprint(qualified) == sdk_compat.SDK_INTERNALS[qualified], (
        f"singer-sdk changed {qualified}: read its new source, adapt sdk_compat.py's use of "
        "it, then update its fingerprint in SDK_INTERNALS"
    )


#: The Singer adapters: settings schemas, streams, sinks, the target base and the reader/writer.
#: Every other module of the packages is vendor core (HTTP, delivery, journal, mapping, names).
ADAPTERS = {
    "clevertap-segment-common/clevertap_segment_common/clevertap_account.py",
    "clevertap-segment-common/clevertap_segment_common/delivery_sink.py",
    "clevertap-segment-common/clevertap_segment_common/record_checks.py",
    "clevertap-segment-common/clevertap_segment_common/sdk_compat.py",
    "clevertap-segment-common/clevertap_segment_common/singer_reader.py",
    "clevertap-segment-common/clevertap_segment_common/singer_target.py",
    "clevertap-segment-common/clevertap_segment_common/target_settings.py",
    *(
        f"tap-clevertap/tap_clevertap/{name}.py"
        for name in (
            "audience_stream",
            "campaign_streams",
            "count_streams",
            "errors",
            "report_streams",
            "schema_streams",
            "selection",
            "settings",
            "streams",
            "tap",
            "writer",
        )
    ),
    "target-segment/target_segment/settings.py",
    "target-clevertap/target_clevertap/resolve.py",
    "target-clevertap/target_clevertap/settings.py",
    "target-clevertap/target_clevertap/sink.py",
}


def test_the_vendor_core_does_not_import_singer_sdk() -> None:
    packages = [
        "clevertap-segment-common/clevertap_segment_common",
        "tap-clevertap/tap_clevertap",
        "target-segment/target_segment",
        "target-clevertap/target_clevertap",
    ]
    importing = set()
    for path in (p for package in packages for p in (ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(m.split(".")[0] == "singer_sdk" for m in modules):
                importing.add(str(path.relative_to(ROOT)))
    assert importing - ADAPTERS == set(), "vendor-core modules importing singer_sdk"
    assert ADAPTERS - importing == set(), "listed as adapters but no longer importing singer_sdk"
