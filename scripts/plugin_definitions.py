"""Write the plugins' definitions in Meltano Hub's format, for `meltano add --from-ref`.

Every setting (name, kind, label, description, default, options, sensitive) comes from the
plugin's own `--about --format=json`; the plugin-level facts (namespace, label, executable,
capabilities) from this project's meltano.yml. Nothing is written by
hand twice. `python scripts/plugin_definitions.py` rewrites plugins/; `--check` exits 1 when a
file is stale.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
VARIANT = "clevertap-segment"
#: The canonical location of the repository; pin a version with @<tag> before the '#'.
REPOSITORY = "https://github.com/clevertap-segment/connectors"
PLUGINS = {
    "tap-clevertap": "extractors",
    "target-segment": "loaders",
    "target-clevertap": "loaders",
}
KEYWORDS = {
    "extractors": ["meltano_sdk", "clevertap"],
    "loaders": ["meltano_sdk", "segment", "clevertap"],
}


def about(plugin: str) -> dict[str, t.Any]:
    """What the installed plugin says about itself."""
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / plugin), "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return t.cast("dict[str, t.Any]", json.loads(done.stdout))


def project_entry(plugin: str) -> dict[str, t.Any]:
    """The plugin's entry in meltano.yml."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    for entries in project["plugins"].values():
        for entry in entries:
            if entry["name"] == plugin:
                return t.cast("dict[str, t.Any]", entry)
    msg = f"{plugin} is not defined in meltano.yml"
    raise KeyError(msg)


def kind(schema: dict[str, t.Any]) -> str:
    """Meltano's setting kind for a JSON schema."""
    if "enum" in schema:
        return "options"
    types = [name for name in schema.get("type", ["string"]) if name != "null"]
    first = types[0] if types else "string"
    if first == "string" and schema.get("format") == "date":
        return "date_iso8601"
    if first == "string" and schema.get("format") == "date-time":
        return "date_iso8601"
    return {"integer": "integer", "number": "decimal", "boolean": "boolean"}.get(
        first, {"array": "array", "object": "object"}.get(first, "string")
    )


def setting(name: str, schema: dict[str, t.Any], labels: dict[str, str]) -> dict[str, t.Any]:
    """One setting in Hub form."""
    entry: dict[str, t.Any] = {"name": name, "kind": kind(schema)}
    label = schema.get("title") or labels.get(name)
    if label:
        entry["label"] = label
    if schema.get("description"):
        entry["description"] = schema["description"]
    if "default" in schema:
        entry["value"] = schema["default"]
    if "enum" in schema:
        entry["options"] = [{"label": str(value), "value": value} for value in schema["enum"]]
    if schema.get("secret"):
        entry["sensitive"] = True
    return entry


def definition(plugin: str) -> dict[str, t.Any]:
    """The Hub definition of one plugin."""
    info, entry = about(plugin), project_entry(plugin)
    labels = {s["name"]: s["label"] for s in entry.get("settings", []) if "label" in s}
    plugin_type = PLUGINS[plugin]
    result: dict[str, t.Any] = {
        "name": plugin,
        "namespace": entry["namespace"],
        "variant": VARIANT,
        "label": entry.get("label", plugin),
        "description": entry.get("description", info["description"]),
        "repo": REPOSITORY,
        "docs": f"{REPOSITORY}/tree/main/{plugin}#readme",
        "pip_url": f"git+{REPOSITORY}.git#subdirectory={plugin}",
        "executable": entry.get("executable", plugin),
        "capabilities": entry["capabilities"],
        "keywords": KEYWORDS[plugin_type],
        "settings_group_validation": [info["settings"].get("required", [])],
        "settings": [
            setting(name, schema, labels) for name, schema in info["settings"]["properties"].items()
        ],
    }
    return result


def path(plugin: str) -> Path:
    """Where the definition of ``plugin`` lives."""
    return ROOT / "plugins" / PLUGINS[plugin] / f"{plugin}--{VARIANT}.yml"


def render(plugin: str) -> str:
    """The definition as YAML text."""
    return str(yaml.safe_dump(definition(plugin), sort_keys=False, allow_unicode=True, width=100))


def main(argv: list[str]) -> int:
    """Rewrite (or with --check, compare) every definition file."""
    stale = []
    for plugin in PLUGINS:
        target, text = path(plugin), render(plugin)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(plugin)
            if "--check" not in argv:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    if stale and "--check" in argv:
        print(f"stale plugin definitions: {', '.join(stale)}; run scripts/plugin_definitions.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
