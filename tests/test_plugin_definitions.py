"""Every plugin of the project, ours or from PyPI, is defined completely in the project files.

Meltano passes only declared settings to a plugin the way users expect (env vars, `meltano config`),
so a key used in some `config:` but not declared is a setting nobody can see or set properly.
"""

from __future__ import annotations

import typing as t

import yaml
from pipeline_support import ROOT

KINDS = ("extractors", "loaders", "mappers")


def project_files() -> list[dict[str, t.Any]]:
    """meltano.yml and the files it includes (include_paths)."""
    files = [ROOT / "meltano.yml", *sorted((ROOT / "orchestrate").glob("*.meltano.yml"))]
    return [yaml.safe_load(path.read_text()) for path in files]


def plugins() -> dict[str, dict[str, t.Any]]:
    found: dict[str, dict[str, t.Any]] = {}
    for project in project_files():
        for kind in KINDS:
            for plugin in (project.get("plugins") or {}).get(kind, []):
                found[plugin["name"]] = plugin
    return found


def declared_settings(name: str, every: dict[str, dict[str, t.Any]]) -> set[str]:
    """Settings of a plugin, following inherit_from up to the defining plugin."""
    plugin = every[name]
    if "inherit_from" in plugin:
        return declared_settings(plugin["inherit_from"], every)
    return {setting["name"] for setting in plugin.get("settings", [])}


def test_every_defined_plugin_declares_its_capabilities() -> None:
    for name, plugin in plugins().items():
        if "inherit_from" not in plugin:
            assert "capabilities" in plugin, f"{name} declares no capabilities"


def test_every_configured_key_is_a_declared_setting() -> None:
    every = plugins()
    configs: list[tuple[str, str, dict[str, t.Any]]] = [
        (name, "plugin definition", plugin.get("config") or {}) for name, plugin in every.items()
    ]
    for project in project_files():
        for environment in project.get("environments") or []:
            env_plugins = ((environment.get("config") or {}).get("plugins")) or {}
            for kind in KINDS:
                for plugin in env_plugins.get(kind, []):
                    where = f"environment {environment['name']}"
                    configs.append((plugin["name"], where, plugin.get("config") or {}))
    assert len(configs) > len(every)
    for name, where, config in configs:
        undeclared = sorted(set(config) - declared_settings(name, every))
        assert undeclared == [], f"{name} ({where}) sets undeclared settings {undeclared}"


def test_target_duckdb_declares_the_settings_of_its_readme() -> None:
    # target-duckdb has no --about; these are its README's configuration table (0.8.0).
    readme = {
        "path",
        "dbname",
        "token",
        "delimiter",
        "quotechar",
        "batch_size_rows",
        "flush_all_streams",
        "default_target_schema",
        "schema_mapping",
        "add_metadata_columns",
        "hard_delete",
        "data_flattening_max_level",
        "primary_key_required",
        "validate_records",
        "temp_dir",
    }
    every = plugins()
    assert declared_settings("target-duckdb", every) == readme
    token = next(s for s in every["target-duckdb"]["settings"] if s["name"] == "token")
    assert token.get("sensitive") is True
