"""Where the harness runs: credentials, executables, the sandbox and the work directory.

The credentials are distinctive on purpose (never the sandbox defaults), so that the secret scan
finds them if any plugin writes them anywhere.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from clevertap_segment_sandbox import SandboxProcess

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ACCOUNT_ID = "REL-ACCOUNT-0042"
PASSCODE = "Rel-Passcode-7f3c9a2e51d4"
WRITE_KEY = "rel-writekey-5b8d1e77a0c4"
#: Used by the runs that must fail on bad credentials; scanned for too.
WRONG_PASSCODE = "Wrong-Passcode-93be10c7aa"
WRONG_WRITE_KEY = "wrong-writekey-e1c0ffee42"
TIMEZONE = "Asia/Kolkata"
_SITE_PACKAGES = re.compile(r"[^\s\"']*/site-packages/")


def repo_relative(text: str) -> str:
    """``text`` with this checkout's absolute paths made relative, so results files are portable.

    Tracebacks in logs name files under the repository and the virtualenv; the results are
    committed, and a machine's directory layout says nothing about the plugins.
    """
    return _SITE_PACKAGES.sub("site-packages/", text.replace(f"{ROOT}/", ""))


TODAY = dt.date(2026, 11, 20)


def secret_strings() -> list[str]:
    """Every form in which a credential could leak: as is, and Basic-auth encoded (key + ':')."""
    plain = [PASSCODE, WRITE_KEY, WRONG_PASSCODE, WRONG_WRITE_KEY]
    # The first len(key) // 3 * 4 characters of base64(key + anything) depend on the key alone.
    stems = [base64.b64encode(key.encode()).decode()[: len(key) // 3 * 4] for key in plain]
    return plain + stems


MELTANO_PLUGINS = {
    "tap-clevertap": ROOT / ".meltano/extractors/tap-clevertap/venv/bin/tap-clevertap",
    # An inherited plugin with its parent's pip_url runs from the parent's virtualenv.
    "tap-segment-archive": ROOT / ".meltano/extractors/tap-jsonl/venv/bin/tap-jsonl",
    "target-segment": ROOT / ".meltano/loaders/target-segment/venv/bin/target-segment",
    "target-clevertap": ROOT / ".meltano/loaders/target-clevertap/venv/bin/target-clevertap",
}


def ensure_meltano_plugins() -> None:
    """`meltano install` the plugins the Meltano runs need, when their executables are missing."""
    missing = sorted(name for name, path in MELTANO_PLUGINS.items() if not path.exists())
    if missing:
        subprocess.run([str(BIN / "meltano"), "install", *missing], cwd=ROOT, check=True)


def private_meltano_dir(path: Path) -> Path:
    """A Meltano system directory of our own that shares the project's installed plugins.

    Meltano keeps generated configs and cached catalogs in ``.meltano/run``; other Meltano
    processes in the same project (tests, the demo) would race with ours there. Pointing
    ``MELTANO_SYS_DIR_ROOT`` here keeps ``run/`` private while the plugin venvs are shared.
    """
    path.mkdir(parents=True, exist_ok=True)
    for kind in ("extractors", "loaders", "utilities"):
        link = path / kind
        if not link.exists():
            link.symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
    return path


def start_sandbox(**overrides: t.Any) -> SandboxProcess:
    """A sandbox with the harness credentials and pinned clock (any SandboxSettings override)."""
    settings: dict[str, t.Any] = {
        "account_id": ACCOUNT_ID,
        "passcode": PASSCODE,
        "write_key": WRITE_KEY,
        "timezone": TIMEZONE,
        "today": TODAY.isoformat(),
        "startup_timeout": 60.0,
    }
    settings.update(overrides)
    return SandboxProcess(**settings).start()


@dataclass
class Workspace:
    """A scratch directory: configs (which hold secrets, by necessity) apart from outputs."""

    path: Path
    keep: bool = False
    _counter: dict[str, int] = field(default_factory=dict)

    @classmethod
    def create(cls, keep: bool = False) -> Workspace:
        """A new temporary workspace."""
        path = Path(tempfile.mkdtemp(prefix="reliability-"))
        (path / "configs").mkdir()
        (path / "outputs").mkdir()
        return cls(path, keep)

    def config(self, name: str, values: dict[str, t.Any]) -> Path:
        """Write a plugin config; configs are inputs and are not scanned for secrets."""
        target = self.path / "configs" / f"{name}.json"
        target.write_text(json.dumps(values, indent=2))
        return target

    def output_dir(self, name: str) -> Path:
        """A fresh output directory per run (numbered when a name repeats)."""
        count = self._counter.get(name, 0)
        self._counter[name] = count + 1
        directory = self.path / "outputs" / (name if count == 0 else f"{name}-{count}")
        directory.mkdir(parents=True)
        return directory

    @property
    def outputs(self) -> Path:
        """Everything the plugins wrote: logs, STATE, rejected records, summaries, journals."""
        return self.path / "outputs"

    def close(self) -> None:
        """Remove the workspace unless asked to keep it."""
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)
