"""The plugins install from a git URL alone, with pip or uv, on Python 3.11, 3.12 and 3.13.

Each plugin goes into its own virtual environment (as Meltano, `uv tool` and `pipx` do) from
`git+file://<clone>#subdirectory=<plugin>`: a clone of this checkout's committed HEAD, so
uncommitted changes are not what is installed. The shared package travels inside each plugin's
wheel (packaging/hatch_bundle_common.py). Then the installed commands run for real: tap-clevertap
piped into target-segment against the sandbox, every extracted event arriving as a track call.
Under CI a missing interpreter fails the test instead of skipping it.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from segment_testkit import WRITE_KEY
from tap_clevertap_testkit import LAST_DAY, tap_config

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("tap-clevertap", "target-segment", "target-clevertap")
#: (Python version, installer): pip is what Meltano's virtualenv backend runs, uv its default.
CASES = [("3.11", "pip"), ("3.12", "uv"), ("3.13", "uv"), ("3.13", "pip")]


def _interpreter(version: str) -> str:
    """A python<version> from PATH or pyenv; fails under CI, skips elsewhere, when missing."""
    if sys.version_info[:2] == tuple(int(part) for part in version.split(".")):
        return sys.executable
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    matches = sorted(glob.glob(str(pyenv_root / "versions" / f"{version}.*" / "bin" / "python3")))
    found = matches[-1] if matches else shutil.which(f"python{version}")
    if found is not None and "shims" in Path(found).parts:
        found = None  # a pyenv shim runs only the versions pyenv has selected
    if found is None:
        message = f"Python {version} not found on PATH or under pyenv (pyenv install {version})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _uv() -> str:
    return shutil.which("uv") or str(ROOT / ".bootstrap" / "bin" / "uv")


def _run(command: list[str], **kwargs: t.Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert done.returncode == 0, f"{command[:4]} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("clone") / "repository"
    _run(["git", "clone", "--quiet", "--no-local", str(ROOT), str(target)])
    return target


def _install(python: str, installer: str, plugin: str, url: str, venv: Path) -> Path:
    """A fresh environment holding only `plugin` (and what its wheel depends on)."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    if installer == "uv":
        _run([_uv(), "venv", "--quiet", "--python", python, str(venv)], env=env)
        _run(
            [_uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), url],
            env=env,
        )
    else:
        _run([python, "-m", "venv", str(venv)])
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", url])
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
    python = _interpreter(version)
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
        about = json.loads(_run([str(bin_dir / plugin), "--about", "--format", "json"]).stdout)
        assert about["name"] == plugin
        probe = "import sys, clevertap_segment_common as c; print(sys.version_info[:2], c.__file__)"
        where = _run([str(bin_dir / "python"), "-c", probe]).stdout
        assert where.startswith(f"({version.replace('.', ', ')})"), where
        assert str(bin_dir.parent) in where, (
            f"{plugin}: shared package not in its own venv: {where}"
        )
    converted = _run(
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
    catalog = _run(
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
    extracted = _run(
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
    _run(
        [str(bins["target-segment"] / "target-segment"), "--config", str(tmp_path / "target.json")],
        input=extracted,
    )
    tracks = [m for m in sandbox_client.segment_messages() if m.get("type") == "track"]
    assert len(tracks) == records
    assert {m["event"] for m in tracks} == {"Charged"}
