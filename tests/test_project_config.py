"""meltano.yml stays true to the plugins: every setting declared, secrets sensitive, no Hub."""

from __future__ import annotations

import json
import subprocess
import typing as t

import pytest
import yaml
from pipeline_support import MELTANO, ROOT

# Settings every SDK plugin accepts that a Meltano user rarely sets; meltano.yml may omit them.
SDK_BUILTINS = {
    "add_record_metadata",
    "load_method",
    "validate_records",
    "faker_config",
    "flattening_max_key_length",
    "flattening_separator",
    "stream_map_config",
}
KINDS = {"integer": "integer", "boolean": "boolean", "number": "decimal", "object": "object"}
OURS = ("tap-clevertap", "target-segment", "target-clevertap")


def project_plugins() -> dict[str, dict[str, t.Any]]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugins: dict[str, dict[str, t.Any]] = {}
    for kind in ("extractors", "loaders", "mappers", "utilities"):
        for plugin in project["plugins"].get(kind, []):
            plugins[plugin["name"]] = plugin
    return plugins


def about(executable: str) -> dict[str, t.Any]:
    output = subprocess.run(
        [str(ROOT / ".venv" / "bin" / executable), "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(output))


@pytest.mark.parametrize("name", OURS)
def test_every_plugin_setting_is_declared_with_its_kind_and_secrecy(name: str) -> None:
    plugin = project_plugins()[name]
    declared = {setting["name"]: setting for setting in plugin["settings"]}
    properties = about(plugin["executable"])["settings"]["properties"]
    missing = sorted(set(properties) - set(declared) - SDK_BUILTINS)
    assert missing == [], f"{name}: settings missing from meltano.yml: {missing}"
    unknown = sorted(set(declared) - set(properties))
    assert unknown == [], (
        f"{name}: meltano.yml declares settings the plugin does not have: {unknown}"
    )
    for setting_name, setting in declared.items():
        spec = properties[setting_name]
        assert bool(setting.get("sensitive")) == bool(spec.get("secret")), setting_name
        types = spec.get("type")
        json_type = next(x for x in (types if isinstance(types, list) else [types]) if x != "null")
        if "enum" in spec:
            assert setting.get("kind") == "options", setting_name
            assert {o["value"] for o in setting["options"]} == {v for v in spec["enum"] if v}
        elif json_type in KINDS:
            assert setting.get("kind") == KINDS[json_type], setting_name
        elif json_type == "array":
            assert setting.get("kind") == "array", setting_name


def test_every_plugin_is_custom_and_complete() -> None:
    for name, plugin in project_plugins().items():
        if "inherit_from" in plugin:
            continue
        for key in ("namespace", "pip_url", "executable"):
            assert plugin.get(key), f"{name} lacks {key}: it would need Meltano Hub"
        if name in OURS:
            assert "${MELTANO_PROJECT_ROOT}" in plugin["pip_url"]
            assert "capabilities" in plugin


def test_no_hub_needed(meltano_installed: None) -> None:
    """With the Hub unreachable, listing plugins and schedules still works."""
    env = {"MELTANO_HUB_URL": "http://127.0.0.1:9/hub", "PATH": str(ROOT / ".venv" / "bin")}
    for args in (("schedule", "list"), ("config", "list", "tap-clevertap"), ("job", "list")):
        result = subprocess.run(
            [MELTANO, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert "hub" not in result.stderr.lower() or "error" not in result.stderr.lower()


def test_plugin_readmes_show_the_settings_the_plugins_print() -> None:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "scripts/readme_settings.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
