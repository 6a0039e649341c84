"""Keep each plugin README's settings table equal to the plugin's `--about --format=markdown`.

`python scripts/readme_settings.py` rewrites the tables; `--check` exits 1 when one is stale.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ("tap-clevertap", "target-segment", "target-clevertap")
HEADER = "| Setting | Required | Default | Description |"


def table(lines: list[str]) -> tuple[int, int]:
    """Start and end (exclusive) line index of the settings table."""
    start = lines.index(HEADER)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return start, end


def generated(plugin: str) -> list[str]:
    """The settings table the plugin prints about itself."""
    about = subprocess.run(
        [str(ROOT / ".venv" / "bin" / plugin), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    start, end = table(about)
    return about[start:end]


def main(argv: list[str]) -> int:
    """Rewrite (or with --check, compare) every plugin README's settings table."""
    stale = []
    for plugin in PLUGINS:
        readme = ROOT / plugin / "README.md"
        lines = readme.read_text(encoding="utf-8").splitlines()
        start, end = table(lines)
        fresh = generated(plugin)
        if lines[start:end] != fresh:
            stale.append(plugin)
            if "--check" not in argv:
                lines[start:end] = fresh
                readme.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if stale and "--check" in argv:
        print(f"stale settings tables: {', '.join(stale)}; run scripts/readme_settings.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
