"""Helpers for the target's tests: Singer messages, in-process runs, unit-level builders."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import typing as t
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import pytest
from clevertap_segment_common.property_names import PropertyNameNormalizer
from clevertap_segment_common.target_errors import RecordRejectedError
from scripted_http import ReceivedRequest, ScriptedHTTPServer
from target_clevertap.presets import StreamContext, mapping_for
from target_clevertap.target import TargetCleverTap
from target_clevertap.uploads import DroppedField, UploadBuilder, UploadRules

SAMPLE = Path(__file__).parents[1] / "samples" / "segment-archive.jsonl"
#: The installed command line, for tests that run the target as a user does.
TARGET = str(Path(sys.executable).parent / "target-clevertap")
UTC = zoneinfo.ZoneInfo("UTC")

#: A Segment message as a Singer stream: envelope fields typed, payloads free-form.
SEGMENT_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        **{
            name: {}
            for name in (
                "type",
                "userId",
                "anonymousId",
                "previousId",
                "groupId",
                "messageId",
                "event",
                "name",
                "category",
                "traits",
                "properties",
                "context",
                "integrations",
                "channel",
                "version",
                "sentAt",
                "receivedAt",
                "originalTimestamp",
            )
        },
        "timestamp": {"type": ["string", "null"], "format": "date-time"},
    },
}


def schema(stream: str, properties: dict[str, t.Any] | None = None, keys: t.Sequence[str] = ()):
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": properties or {}},
        "key_properties": list(keys),
    }


def record(stream: str, value: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"type": "RECORD", "stream": stream, "record": value}


def state(value: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"type": "STATE", "value": value}


def segment_messages(stream: str = "segment") -> list[dict[str, t.Any]]:
    """The sample archive as Singer messages."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    return [
        {"type": "SCHEMA", "stream": stream, "schema": SEGMENT_SCHEMA, "key_properties": []},
        *(record(stream, json.loads(line)) for line in lines),
    ]


def singer_text(messages: t.Iterable[dict[str, t.Any]]) -> str:
    return "".join(json.dumps(m, default=str) + "\n" for m in messages)


@dataclass
class Run:
    """What one in-process run printed and wrote."""

    states: list[dict[str, t.Any]]
    summary: dict[str, t.Any]
    rejects: list[dict[str, t.Any]]


def read_jsonl(path: Path) -> list[dict[str, t.Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def run_target(config: dict[str, t.Any], messages: t.Iterable[dict[str, t.Any]]) -> Run:
    """Run the target in this process on the messages; rejects are read back from disk."""
    stdout = io.StringIO()
    target = TargetCleverTap(config=config)
    with contextlib.redirect_stdout(stdout):
        target.listen(io.StringIO(singer_text(messages)))
    summary_path = Path(config["summary_path"])
    return Run(
        states=[json.loads(line) for line in stdout.getvalue().splitlines() if line.strip()],
        summary=json.loads(summary_path.read_text()),
        rejects=read_jsonl(Path(config["rejected_records_path"])),
    )


def start_target(
    config: dict[str, t.Any], directory: Path, stderr: int = subprocess.PIPE
) -> subprocess.Popen[str]:
    """The command line with ``config``, its input a pipe nothing was written to yet."""
    config_path = directory / "config.json"
    config_path.write_text(json.dumps(config))
    return subprocess.Popen(
        [TARGET, "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )


def config_for(process: t.Any, files: dict[str, str], **extra: t.Any) -> dict[str, t.Any]:
    """A config pointing at a sandbox started by sandbox_factory."""
    return {
        "account_id": process.settings.account_id,
        "passcode": process.settings.passcode,
        "api_url": process.clevertap_url,
        **files,
        **extra,
    }


def build(
    value: dict[str, t.Any],
    options: dict[str, t.Any] | None = None,
    *,
    keys: t.Sequence[str] = (),
    properties: t.Iterable[str] = (),
    property_names: str = "none",
    collision_policy: str = "error",
    **rules: t.Any,
) -> tuple[dict[str, t.Any], list[DroppedField]]:
    """Map and build one record without any I/O: the upload record and the fields left out."""
    context = StreamContext("s", tuple(keys), frozenset(properties), rules.pop("timezone", UTC))
    mapping = mapping_for({"s": options or {}}, context)
    builder = UploadBuilder(
        PropertyNameNormalizer(property_names, collision_policy=collision_policy),
        UploadRules(timezone=context.timezone, **rules),
    )
    upload, _ = builder.build(mapping.map(value))
    return upload, builder.dropped


def build_upload(
    value: dict[str, t.Any], options: dict[str, t.Any] | None = None, **kw: t.Any
) -> dict[str, t.Any]:
    """The upload record CleverTap would receive for one record (no I/O)."""
    return build(value, options, **kw)[0]


def rejection_of(value: dict[str, t.Any], options: dict[str, t.Any] | None = None, **kw: t.Any):
    """The local rejection a record gets (fails the test when it is accepted)."""
    with pytest.raises(RecordRejectedError) as caught:
        build_upload(value, options, **kw)
    return caught.value.rejection


EMPTY_SCHEMA = {
    "/getSchema?type=events": {"status": "success", "events": []},
    "/getSchema?type=userProperties": {"status": "success", "userProperties": []},
}


class ScriptedCleverTap:
    """A loopback HTTP server answering /1/upload with ``script(records, attempt)``.

    For answers the sandbox never gives (malformed-request 400s, unreadable bodies, Retry-After);
    everything else is tested against the sandbox. Schema reads (match_account) get an account
    without names and are not counted as requests.
    """

    def __init__(
        self, script: t.Callable[[list[dict[str, t.Any]], int], tuple[int, bytes, dict[str, str]]]
    ) -> None:
        self.script = script
        self.requests: list[list[dict[str, t.Any]]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.attempts: dict[str, int] = {}
        self.http = ScriptedHTTPServer(self._answer)
        self.url = self.http.url

    def _answer(self, request: ReceivedRequest) -> tuple[int, bytes, dict[str, str]]:
        if request.method == "GET" and request.path in EMPTY_SCHEMA:
            return answer(EMPTY_SCHEMA[request.path])
        records = json.loads(request.body)["d"]
        key = json.dumps(records, sort_keys=True)
        with self.http.lock:
            self.requests.append(records)
            self.headers.append(request.headers)
            self.paths.append(request.path)
            self.attempts[key] = self.attempts.get(key, 0) + 1
            attempt = self.attempts[key]
        return self.script(records, attempt)

    def close(self) -> None:
        self.http.close()


def answer(body: dict[str, t.Any], status: int = 200) -> tuple[int, bytes, dict[str, str]]:
    return status, json.dumps(body).encode(), {"Content-Type": "application/json"}
