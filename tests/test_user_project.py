"""The plugins in a user's own Meltano project, installed from git with either venv backend.

As a user would: `meltano init` in a directory outside the repository, `meltano add --from-ref`
with the definition files of plugins/ (their pip_url pointed at a git clone of this checkout's
HEAD), `meltano install` with Meltano's uv backend and, in a second project, its virtualenv
(pip) backend, settings through `meltano config set` (secrets land in .env), then `meltano run`
against the sandbox: tap-clevertap into target-segment, a Segment archive file (tap-jsonl from
PyPI) into target-clevertap, and tap-clevertap into MeltanoLabs' target-csv from PyPI, a loader
nothing else here uses. Counts are compared with the sandbox's ground truth and with the archive
read by the test itself.
"""

from __future__ import annotations

import csv
import json
import os
import typing as t
from collections import Counter
from pathlib import Path

import pytest
import yaml
from install_support import ROOT, clone_checkout, run
from sandbox_truth import FIRST_DAY, LAST_DAY, expected_events, read_jsonl
from segment_testkit import WRITE_KEY

MELTANO = str(ROOT / ".venv" / "bin" / "meltano")
OURS = {"tap-clevertap": "extractor", "target-segment": "loader", "target-clevertap": "loader"}
EVENTS = ["App Launched", "Charged", "Added To Cart"]
#: Plugins from PyPI, defined as a user would write them for `meltano add --from-ref`.
FROM_PYPI: dict[str, tuple[str, dict[str, t.Any]]] = {
    "tap-jsonl": (
        "extractor",
        {
            "name": "tap-jsonl",
            "namespace": "tap_jsonl",
            "pip_url": "tap-jsonl==0.3.1",
            "executable": "tap-jsonl",
            "capabilities": ["catalog", "discover", "state", "about"],
            "settings": [
                {"name": "path"},
                {"name": "stream_name"},
                {"name": "primary_keys", "kind": "array"},
            ],
        },
    ),
    "target-csv": (
        "loader",
        {
            "name": "target-csv",
            "namespace": "target_csv",
            "variant": "meltanolabs",
            "pip_url": "meltanolabs-target-csv==0.5.0",
            "executable": "target-csv",
            "capabilities": ["about", "stream-maps", "schema-flattening"],
            "settings": [{"name": "output_path"}, {"name": "file_naming_scheme"}],
        },
    ),
}


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone_checkout(tmp_path_factory.mktemp("clone"))


def meltano(project: Path, *args: str, timeout: float = 600) -> str:
    ours = ("TAP_", "TARGET_", "MELTANO_DATABASE")  # nothing of this project's environment
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env |= {"MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "NO_COLOR": "1"}
    return run([MELTANO, *args], cwd=project, env=env, timeout=timeout).stdout


def definition_files(clone: Path, into: Path) -> dict[str, tuple[str, Path]]:
    """Our definitions with pip_url pointing at the clone, and the PyPI plugins' definitions."""
    files: dict[str, tuple[str, Path]] = {}
    for plugin, plugin_type in OURS.items():
        path = ROOT / "plugins" / f"{plugin_type}s" / f"{plugin}--clevertap-segment.yml"
        definition = yaml.safe_load(path.read_text())
        assert definition["pip_url"].endswith(f"#subdirectory={plugin}")
        definition["pip_url"] = f"git+file://{clone}#subdirectory={plugin}"
        files[plugin] = (plugin_type, into / path.name)
        files[plugin][1].write_text(yaml.safe_dump(definition))
    for plugin, (plugin_type, definition) in FROM_PYPI.items():
        files[plugin] = (plugin_type, into / f"{plugin}.yml")
        files[plugin][1].write_text(yaml.safe_dump(definition))
    return files


def segment_would_send_to_clevertap(message: dict[str, t.Any]) -> bool:
    """Segment's `integrations` rule: an explicit entry wins, else the `All` default (true)."""
    integrations = message.get("integrations") or {}
    return bool(integrations.get("CleverTap", integrations.get("All", True)))


def clevertap_event_name(message: dict[str, t.Any]) -> str:
    """The event Segment's CleverTap destination writes (docs/segment-api.md, CleverTap)."""
    return "Charged" if message["event"] == "Order Completed" else str(message["event"])


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize("backend", ["uv", "virtualenv"])
def test_a_users_project_adds_installs_configures_and_runs_the_plugins(
    backend: str, clone: Path, sandbox: t.Any, sandbox_client: t.Any, tmp_path: Path
) -> None:
    assert not tmp_path.is_relative_to(ROOT)
    meltano(tmp_path, "init", "project", "--no_usage_stats")
    project = tmp_path / "project"
    meltano(project, "config", "set", "meltano", "venv.backend", backend)
    for plugin, (plugin_type, path) in definition_files(clone, tmp_path).items():
        meltano(project, "add", "--no-install", "--from-ref", str(path), plugin_type, plugin)
    meltano(project, "install", timeout=1200)
    for plugin, plugin_type in OURS.items():
        venv = project / ".meltano" / f"{plugin_type}s" / plugin / "venv"
        # the virtualenv backend installs with pip inside the venv; uv leaves no pip there
        assert (venv / "bin" / "pip").exists() == (backend == "virtualenv"), plugin

    settings = sandbox.settings
    output = tmp_path / "output"
    config: dict[str, dict[str, t.Any]] = {
        "tap-clevertap": {
            "account_id": settings.account_id,
            "passcode": settings.passcode,
            "api_url": sandbox.clevertap_url,
            "timezone": settings.timezone,
            "start_date": FIRST_DAY,
            "event_names": EVENTS,
            "profile_events": ["App Launched"],
        },
        "target-segment": {
            "write_key": WRITE_KEY,
            "api_url": sandbox.segment_url,
            "settings_url": sandbox.segment_url,
            "mapping_preset": "clevertap",
            "summary_path": str(output / "segment-summary.json"),
            "rejected_records_path": str(output / "segment-rejected.jsonl"),
        },
        "target-clevertap": {
            "account_id": settings.account_id,
            "passcode": settings.passcode,
            "api_url": sandbox.clevertap_url,
            "stream_mappings": {"segment_archive": {"preset": "segment"}},
            "journal_path": str(output / "journal.sqlite"),
            "summary_path": str(output / "clevertap-summary.json"),
            "rejected_records_path": str(output / "clevertap-rejected.jsonl"),
        },
        "tap-jsonl": {
            "path": str(clone / "target-clevertap" / "samples" / "segment-archive.jsonl"),
            "stream_name": "segment_archive",
            "primary_keys": ["messageId"],
        },
        "target-csv": {"output_path": str(output / "csv")},
    }
    for plugin, values in config.items():
        for name, value in values.items():
            text = value if isinstance(value, str) else json.dumps(value)
            meltano(project, "config", "set", plugin, name, text)
    meltano(project, "select", "tap-clevertap", "events", "*")
    meltano(project, "select", "tap-clevertap", "profiles", "*")
    (output / "csv").mkdir(parents=True)
    project_file = (project / "meltano.yml").read_text()
    for secret in (settings.passcode, WRITE_KEY):
        assert secret not in project_file
        assert secret in (project / ".env").read_text()

    truth = sandbox_client.seed_summary()
    expected = {k: v for k, v in expected_events(truth, FIRST_DAY, LAST_DAY).items() if k in EVENTS}

    meltano(project, "run", "tap-clevertap", "target-segment")
    messages = sandbox_client.segment_messages()
    assert dict(Counter(m["event"] for m in messages if m["type"] == "track")) == expected
    identifies = [m for m in messages if m["type"] == "identify"]
    assert truth["profiles"]["by_event"]["App Launched"] == len(identifies) > 0
    assert sandbox_client.segment_stats()["duplicates"] == 0

    meltano(project, "run", "tap-jsonl", "target-clevertap")
    archive = read_jsonl(Path(config["tap-jsonl"]["path"]))
    sent = [m for m in archive if segment_would_send_to_clevertap(m)]
    # the sample archive holds records CleverTap refuses: each must be in the rejects file
    rejected = {
        r["record"]["messageId"]
        for r in read_jsonl(output / "clevertap-rejected.jsonl")
        if r["kind"] == "rejected_record"
    }
    loaded = [m for m in sent if m["messageId"] not in rejected]
    tracks = Counter(clevertap_event_name(m) for m in loaded if m["type"] == "track")
    uploaded = Counter(e["evtName"] for e in sandbox_client.clevertap_uploaded_events())
    assert {name: uploaded[name] for name in tracks} == dict(tracks)
    assert not set(uploaded) & {m.get("event") for m in archive if m not in sent}
    profiles = {p["identity"] for p in sandbox_client.clevertap_profiles()}
    assert {m["userId"] for m in loaded if m["type"] == "identify"} <= profiles
    summary = json.loads((output / "clevertap-summary.json").read_text())
    assert summary["received"] == len(archive)
    assert summary["rejected"] == len(rejected) > 0
    assert summary["skipped_by_reason"] == {"integrations_opt_out": len(archive) - len(sent)}
    assert summary["delivered"] + summary["rejected"] + summary["skipped"] == len(archive)

    meltano(project, "run", "tap-clevertap", "target-csv")
    events = csv_rows(output / "csv" / "events.csv")
    assert dict(Counter(row["event_name"] for row in events)) == expected
    assert len(csv_rows(output / "csv" / "profiles.csv")) == len(identifies)
