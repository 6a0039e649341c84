"""Look for the credentials in everything the plugins wrote during the harness run.

Scanned: every file under the workspace's ``outputs`` directory (stderr logs of every tap,
target and meltano process, the targets' STATE output, rejected-records files, run summaries,
journals, Meltano's stored state) and any extra text handed in. Configs are inputs and hold the
secrets by necessity; they live apart and are not scanned.
"""

from __future__ import annotations

import typing as t

from bench.reliability.environment import secret_strings

if t.TYPE_CHECKING:
    from pathlib import Path

LABELS = ("passcode", "write key", "wrong passcode", "wrong write key")


def _labelled() -> list[tuple[str, bytes]]:
    secrets = secret_strings()
    plain = len(LABELS)
    return [
        (LABELS[i % plain] + ("" if i < plain else " (base64)"), s.encode())
        for i, s in enumerate(secrets)
    ]


def scan(directory: Path, extra: dict[str, str] | None = None) -> dict[str, t.Any]:
    """Count what was scanned and every hit (the file and which secret, never its value)."""
    secrets = _labelled()
    hits: list[dict[str, str]] = []
    files = lines = size = 0
    sources: list[tuple[str, bytes]] = [
        (str(path.relative_to(directory)), path.read_bytes())
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    ]
    sources += [(name, text.encode()) for name, text in (extra or {}).items()]
    kinds: dict[str, int] = {}
    for name, content in sources:
        files += 1
        size += len(content)
        lines += content.count(b"\n")
        kind = _kind(name)
        kinds[kind] = kinds.get(kind, 0) + 1
        hits += [{"file": name, "secret": label} for label, secret in secrets if secret in content]
    return {"files": files, "lines": lines, "bytes": size, "by_kind": kinds, "hits": hits}


def _kind(name: str) -> str:
    if name.endswith(".log"):
        return "log"
    if name.endswith(".stdout.jsonl") or name.startswith("meltano-state") or "state-in" in name:
        return "state"
    if "rejected" in name:
        return "rejected records"
    if "summary" in name:
        return "summary"
    if "journal" in name:
        return "journal"
    return "other"
