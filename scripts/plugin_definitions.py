"""Write the plugins' definitions in Meltano Hub's format, for `meltano add --from-ref`.

Every setting (name, kind, label, description, default, options, sensitive) comes from the
plugin's own `--about --format=json`; the plugin-level facts (namespace, label, description,
executable, capabilities) from this project's meltano.yml. The settings of the three plugins in
meltano.yml are written from the same facts (defaults left to the plugin), so nothing is kept by
hand twice. `python scripts/plugin_definitions.py` rewrites plugins/ and those settings in
meltano.yml; `--check` exits 1 when either is stale.
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


#: Words a label spells in capitals.
ACRONYMS = {"id": "ID", "ids": "IDs", "url": "URL", "api": "API", "json": "JSON"}


def label(name: str, schema: dict[str, t.Any]) -> str:
    """The schema's title, else the name in words: `api_url` -> `API URL`."""
    if schema.get("title"):
        return str(schema["title"])
    words = [ACRONYMS.get(word, word) for word in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def setting(name: str, schema: dict[str, t.Any]) -> dict[str, t.Any]:
    """One setting in Hub form."""
    entry: dict[str, t.Any] = {"name": name, "kind": kind(schema), "label": label(name, schema)}
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
        **({"commands": entry["commands"]} if "commands" in entry else {}),
        "keywords": KEYWORDS[plugin_type],
        "settings_group_validation": [info["settings"].get("required", [])],
        "settings": [
            setting(name, schema) for name, schema in info["settings"]["properties"].items()
        ],
    }
    return result


def path(plugin: str) -> Path:
    """Where the definition of ``plugin`` lives."""
    return ROOT / "plugins" / PLUGINS[plugin] / f"{plugin}--{VARIANT}.yml"


def render(result: dict[str, t.Any]) -> str:
    """A definition as YAML text."""
    return str(yaml.safe_dump(result, sort_keys=False, allow_unicode=True, width=100))


def project_block(definition: dict[str, t.Any]) -> list[str]:
    """The plugin's settings as meltano.yml lists them: one flow mapping per line, no defaults."""
    lines = ["    settings_group_validation:"]
    lines += [f"    - {flow(group)}" for group in definition["settings_group_validation"]]
    lines.append("    settings:")
    for entry in definition["settings"]:
        lines.append(f"    - {flow({k: v for k, v in entry.items() if k != 'value'})}")
    return lines


def flow(value: t.Any) -> str:
    """One YAML flow-style line."""
    return str(yaml.safe_dump(value, default_flow_style=True, width=1 << 20, sort_keys=False))[
        :-1
    ].removesuffix("\n...")


def with_project_settings(text: str, blocks: dict[str, list[str]]) -> str:
    """meltano.yml with each plugin's settings block replaced.

    A block is the run of lines from `settings_group_validation:` or `settings:` whose other lines
    are list items (`    - ...`), inside the plugin's entry.
    """
    lines = text.split("\n")
    for plugin, block in blocks.items():
        start = lines.index(f"  - name: {plugin}") + 1
        while lines[start] not in {"    settings_group_validation:", "    settings:"}:
            start += 1
        end = start + 1
        while lines[end].startswith("    - ") or lines[end] == "    settings:":
            end += 1
        lines[start:end] = block
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Rewrite (or with --check, compare) every definition file and meltano.yml's settings."""
    stale = []
    blocks = {}
    for plugin in PLUGINS:
        result = definition(plugin)
        blocks[plugin] = project_block(result)
        target = path(plugin)
        text = render(result)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(str(target.relative_to(ROOT)))
            if "--check" not in argv:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    project = ROOT / "meltano.yml"
    current = project.read_text(encoding="utf-8")
    wanted = with_project_settings(current, blocks)
    if wanted != current:
        stale.append("meltano.yml (plugin settings)")
        if "--check" not in argv:
            project.write_text(wanted, encoding="utf-8")
    if stale and "--check" in argv:
        print(f"stale: {', '.join(stale)}; run scripts/plugin_definitions.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
