"""The plugins install from a git URL alone, with pip or uv, on Python 3.11, 3.12 and 3.13.

Each plugin goes into its own virtual environment (as Meltano, `uv tool` and `pipx` do) from
`git+file://<clone>#subdirectory=<plugin>`: a clone of this checkout's committed HEAD, so
uncommitted changes are not what is installed. The shared package travels inside each plugin's
wheel (packaging/hatch_bundle_common.py). Then the installed commands run for real: tap-clevertap
piped into target-segment against the sandbox, every extracted event arriving as a track call.
Under CI a missing interpreter fails the test instead of skipping it.
"""

from __future__ import annotations

import json
import os
import typing as t

import pytest
from install_support import PLUGINS, clone_checkout, interpreter, run, uv
from segment_testkit import WRITE_KEY
from tap_clevertap_testkit import LAST_DAY, tap_config

if t.TYPE_CHECKING:
    from pathlib import Path

#: (Python version, installer): pip is what Meltano's virtualenv backend runs, uv its default,
#: uv-tool what the README suggests for plain Singer use. Python 3.11 with pip and with uv is what
#: tests/test_user_project.py installs through Meltano's two backends.
CASES = [("3.12", "uv-tool"), ("3.13", "uv"), ("3.13", "pip")]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone_checkout(tmp_path_factory.mktemp("clone"))


def _install(python: str, installer: str, plugin: str, url: str, venv: Path) -> Path:
    """A fresh environment holding only `plugin` (and what its wheel depends on)."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    if installer == "uv-tool":  # `uv tool install`: the tool's venv and its commands' links
        env |= {"UV_TOOL_DIR": str(venv / "tools"), "UV_TOOL_BIN_DIR": str(venv / "bin")}
        run([uv(), "tool", "install", "--quiet", "--python", python, url], env=env)
        commands = ["property-names", plugin] if plugin == "target-clevertap" else [plugin]
        for command in commands:  # what the user runs: the links uv puts on their PATH
            assert (venv / "bin" / command).resolve().parent == venv / "tools" / plugin / "bin"
        return venv / "tools" / plugin / "bin"
    if installer == "uv":
        run([uv(), "venv", "--quiet", "--python", python, str(venv)], env=env)
        run(
            [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), url],
            env=env,
        )
    else:
        run([python, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", url])
    return venv / "bin"


@pytest.mark.parametrize(("version", "installer"), CASES, ids=[f"{v}-{i}" for v, i in CASES])
def test_plugins_install_from_a_git_url_and_run(
    version: str,
    installer: str,
    clone: Path,
    sandbox: t.Any,
    sandbox_client: t.Any,
    tmp_path: Path,
) -> None:
    python = interpreter(version)
    bins = {
        plugin: _install(
            python,
            installer,
            plugin,
            f"git+file://{clone}#subdirectory={plugin}",
            tmp_path / plugin,
        )
        for plugin in PLUGINS
    }
    for plugin, bin_dir in bins.items():
        about = json.loads(run([str(bin_dir / plugin), "--about", "--format", "json"]).stdout)
        assert about["name"] == plugin
        probe = "import sys, clevertap_segment_common as c; print(sys.version_info[:2], c.__file__)"
        where = run([str(bin_dir / "python"), "-c", probe]).stdout
        assert where.startswith(f"({version.replace('.', ', ')})"), where
        assert str(bin_dir.parent) in where, (
            f"{plugin}: shared package not in its own venv: {where}"
        )
    converted = run(
        [str(bins["target-clevertap"] / "property-names"), "normalize"],
        input='"Industry Of Traits"\n',
    ).stdout
    assert "industry_of_traits" in converted

    tap = tap_config(sandbox, event_names=["Charged"], start_date=LAST_DAY.isoformat())
    target = {
        "write_key": WRITE_KEY,
        "api_url": sandbox.segment_url,
        "verify_write_key": False,
        "mapping_preset": "clevertap",
        "rejected_records_path": str(tmp_path / "rejected.jsonl"),
    }
    (tmp_path / "tap.json").write_text(json.dumps(tap))
    (tmp_path / "target.json").write_text(json.dumps(target))
    catalog = run(
        [
            str(bins["tap-clevertap"] / "tap-clevertap"),
            "--config",
            str(tmp_path / "tap.json"),
            "--discover",
        ]
    ).stdout
    selected = json.loads(catalog)
    for entry in selected["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == "events"
    (tmp_path / "catalog.json").write_text(json.dumps(selected))
    extracted = run(
        [
            str(bins["tap-clevertap"] / "tap-clevertap"),
            "--config",
            str(tmp_path / "tap.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ]
    ).stdout
    records = sum(json.loads(line)["type"] == "RECORD" for line in extracted.splitlines())
    assert records == len(sandbox_client.seed_event_records("Charged", LAST_DAY, LAST_DAY)) > 0
    run(
        [str(bins["target-segment"] / "target-segment"), "--config", str(tmp_path / "target.json")],
        input=extracted,
    )
    tracks = [m for m in sandbox_client.segment_messages() if m.get("type") == "track"]
    assert len(tracks) == records
    assert {m["event"] for m in tracks} == {"Charged"}
