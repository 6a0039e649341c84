"""plugins/: the Hub-format definitions agree with each plugin's `--about`, in a user's project.

A fresh `meltano init` project outside the repository adds the three plugins with
`meltano add --from-ref`; what Meltano then knows (`meltano config print`, where
`meltano config set` puts a secret) is compared with what each plugin says about itself.
This project's own meltano.yml declares the same settings (scripts/plugin_definitions.py
writes them).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = {
    "tap-clevertap": "extractors",
    "target-segment": "loaders",
    "target-clevertap": "loaders",
}
MELTANO = str(Path(sys.executable).parent / "meltano")
SINGULAR = {"extractors": "extractor", "loaders": "loader"}
CLASSES = {
    "tap-clevertap": "tap_clevertap.tap:TapCleverTap",
    "target-segment": "target_segment.target:TargetSegment",
    "target-clevertap": "target_clevertap.target:TargetCleverTap",
}


def own_settings(plugin: str) -> set[str]:
    """The settings a plugin declares itself, before the SDK adds its built-in ones.

    Read in a fresh process: the SDK adds the built-in settings to the class's schema in place
    when a plugin is instantiated, so in this process the answer would depend on test order.
    """
    module, name = CLASSES[plugin].split(":")
    code = (
        f"import json; from {module} import {name} as plugin; "
        "print(json.dumps(list(plugin.config_jsonschema['properties'])))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout))


def about(plugin: str) -> dict[str, t.Any]:
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / plugin), "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return t.cast("dict[str, t.Any]", json.loads(done.stdout))


def path(plugin: str) -> Path:
    return ROOT / "plugins" / PLUGINS[plugin] / f"{plugin}--clevertap-segment.yml"


def definition_kinds(plugin: str) -> dict[str, str]:
    definition = yaml.safe_load(path(plugin).read_text())
    return {s["name"]: s["kind"] for s in definition["settings"]}


def _meltano(project: Path, *args: str) -> str:
    done = subprocess.run(
        [MELTANO, *args], cwd=project, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"meltano {' '.join(args)}:\n{done.stderr[-3000:]}"
    return done.stdout


def config_list(project: Path, plugin: str) -> dict[str, tuple[str, str, str]]:
    """`meltano config list <plugin> --all`: name -> (env var, value, "label: description")."""
    listed: dict[str, tuple[str, str, str]] = {}
    name = ""
    for line in _meltano(project, "config", "list", plugin, "--all").splitlines():
        head = re.fullmatch(r"(\w+) \[env: (\w+)\] current value: (.*)", line)
        if head:
            name = head[1]
            listed[name] = (head[2], head[3], "")
        elif line.startswith("\t") and name:
            env_var, value, described = listed[name]
            listed[name] = (env_var, value, (described + "\n" + line[1:]).strip())
    return listed


@pytest.fixture(scope="module")
def user_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("own")
    _meltano(parent, "init", "project", "--no_usage_stats")
    project = parent / "project"
    for plugin, plugin_type in PLUGINS.items():
        _meltano(
            project,
            "add",
            "--no-install",
            "--from-ref",
            str(path(plugin)),
            SINGULAR[plugin_type],
            plugin,
        )
    return project


def test_definition_files_are_current() -> None:
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "scripts/plugin_definitions.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("plugin", list(PLUGINS))
def test_meltano_knows_every_setting_as_the_plugin_declares_it(
    plugin: str, user_project: Path
) -> None:
    declared = about(plugin)["settings"]["properties"]
    project = yaml.safe_load((user_project / "meltano.yml").read_text())
    (entry,) = [p for p in project["plugins"][PLUGINS[plugin]] if p["name"] == plugin]
    known = {s["name"]: s for s in entry["settings"]}
    assert list(known) == list(declared)
    kinds = definition_kinds(plugin)
    for name, schema in declared.items():
        assert known[name]["kind"] == kinds[name], name
        assert known[name].get("sensitive", False) == bool(schema.get("secret")), name
        assert known[name].get("value") == schema.get("default"), name
        if "enum" in schema:
            assert [o["value"] for o in known[name]["options"]] == schema["enum"], name

    printed = json.loads(_meltano(user_project, "config", "print", plugin, "--format", "json"))
    defaults = {n: s["default"] for n, s in declared.items() if "default" in s}
    assert {n: printed[n] for n in defaults if n in printed} == defaults
    assert set(defaults) <= set(printed)

    listed = config_list(user_project, plugin)
    assert set(listed) == set(declared)
    labels = {s["name"]: s["label"] for s in entry["settings"]}
    for name, schema in declared.items():
        env_var, value, described = listed[name]
        assert env_var == f"{plugin.upper().replace('-', '_')}_{name.upper()}", name
        assert described == f"{labels[name]}: {schema.get('description', '')}".rstrip(": "), name
        assert value == f"{schema.get('default')!r} (default)", name

    secret = next(n for n, s in declared.items() if s.get("secret"))
    _meltano(user_project, "config", "set", plugin, secret, f"value-of-{plugin}")
    assert f"value-of-{plugin}" in (user_project / ".env").read_text()
    assert f"value-of-{plugin}" not in (user_project / "meltano.yml").read_text()


@pytest.mark.parametrize("plugin", list(PLUGINS))
def test_this_projects_meltano_yml_declares_the_same_settings(plugin: str) -> None:
    """The same settings as the definition, defaults left to the plugin, and every own one."""
    declared = about(plugin)["settings"]
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (entry,) = [p for p in project["plugins"][PLUGINS[plugin]] if p["name"] == plugin]
    definition = yaml.safe_load(path(plugin).read_text())
    assert entry["settings"] == [
        {k: v for k, v in s.items() if k != "value"} for s in definition["settings"]
    ]
    assert entry["settings_group_validation"] == [declared.get("required", [])]
    ours = {s["name"]: s for s in entry["settings"]}
    assert own_settings(plugin) <= set(ours)
    for name, schema in declared["properties"].items():
        assert ours[name].get("sensitive", False) == bool(schema.get("secret")), name
        assert ours[name]["description"] == schema.get("description"), name


def _configs(node: t.Any, plugin: str) -> t.Iterator[dict[str, t.Any]]:
    """Every `config:` given to `plugin` or a plugin inheriting from it, anywhere in a file."""
    if isinstance(node, dict):
        if plugin in (node.get("name"), node.get("inherit_from")) and "config" in node:
            yield node["config"]
        for value in node.values():
            yield from _configs(value, plugin)
    elif isinstance(node, list):
        for value in node:
            yield from _configs(value, plugin)


@pytest.mark.parametrize("plugin", list(PLUGINS))
def test_no_project_file_restates_a_default(plugin: str) -> None:
    """A plugin's defaults live in its schema only (the definitions carry them, generated)."""
    declared = about(plugin)["settings"]["properties"]
    defaults = {name: schema["default"] for name, schema in declared.items() if "default" in schema}
    restated = [
        f"{path.name}: {name}: {value!r}"
        for path in [ROOT / "meltano.yml", *sorted((ROOT / "orchestrate").glob("*.yml"))]
        for config in _configs(yaml.safe_load(path.read_text()), plugin)
        for name, value in config.items()
        if name in defaults and value == defaults[name]
    ]
    assert not restated, f"{plugin}: defaults restated (delete them): {restated}"


def test_no_code_restates_a_settings_default() -> None:
    """`config.get("<setting>", <default>)` would be a second copy of the schema's default."""
    with_defaults = {
        name
        for plugin in PLUGINS
        for name, schema in about(plugin)["settings"]["properties"].items()
        if "default" in schema
    }
    packages = ["clevertap-segment-common", *PLUGINS]
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
        for path in sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))
        if "tests" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in with_defaults
            and "config" in ast.unparse(node.func.value)
        )
    ]
    assert not found, "settings defaults restated in code:\n" + "\n".join(found)
