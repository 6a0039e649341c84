"""Bad input: every record is delivered or rejected with its reason, and the counts add up.

Each target gets one input file mixing good records, malformed lines, records that break their
stream's SCHEMA, records the vendor would refuse (or silently drop) and huge messages. Every
record carries a ``case`` name; afterwards each case must be found exactly once, either in the
sandbox or in the rejected-records file under the rule the README documents. A record delivered
without one property (target-clevertap's on_invalid_field: drop_field) is found in the sandbox,
and its dropped property in the rejected-records file under its rule. The run must exit 0.

Then the runs that must fail (wrong credentials, a stream nobody mapped, impossible settings,
``on_rejected: fail``, a RECORD before its SCHEMA) must exit non-zero with a message that names
what to fix.
"""

from __future__ import annotations

import json
import time
import typing as t
from dataclasses import dataclass

from bench.reliability import plugins, segment_archive
from bench.reliability.environment import (
    WRONG_PASSCODE,
    WRONG_WRITE_KEY,
    repo_relative,
    start_sandbox,
)
from bench.reliability.outcome import Outcome, summary_adds_up
from bench.reliability.pipeline import run_chain

if t.TYPE_CHECKING:
    from pathlib import Path

    from clevertap_segment_sandbox import SandboxProcess

    from bench.reliability.environment import Workspace

DELIVERED = "delivered"
AT = "2026-11-19T10:00:00Z"
MALFORMED_LINES = [
    "this is not json",
    '{"type": "RECORD", "stream": "events", "record": {"id": 99,',
    "[1, 2, 3]",
    '{"type": "BANANA"}',
    '{"stream": "events", "record": {"id": 98}}',
]


@dataclass(frozen=True)
class Case:
    """One input record and the outcomes the README allows for it."""

    name: str
    stream: str
    record: dict[str, t.Any]
    expected: frozenset[str]


def _case(name: str, stream: str, record: dict[str, t.Any], *expected: str) -> Case:
    """Tag the record (and its property object, so a delivered call can be found) with ``name``."""
    tagged = {**record, "case": name}
    for part in ("props", "properties", "traits"):
        if isinstance(tagged.get(part), dict):
            tagged[part] = {**tagged[part], "case": name}
    return Case(name, stream, tagged, frozenset(expected))


# -- target-segment ------------------------------------------------------------------------------

SEGMENT_SCHEMAS: dict[str, tuple[list[str], dict[str, t.Any]]] = {
    "events": (
        ["id"],
        {
            "id": {"type": "integer"},
            "case": {"type": "string"},
            "user_id": {},
            "anonymous_id": {"type": ["string", "null"]},
            "event": {},
            "ts": {"type": ["string", "null"]},
            "props": {},
        },
    ),
    "users": (
        ["id"],
        {
            "id": {"type": "integer"},
            "case": {"type": "string"},
            "user_id": {"type": ["string", "null"]},
            "traits": {"type": ["object", "null"]},
        },
    ),
    "audit": (["id"], {"id": {"type": "integer"}, "case": {"type": "string"}}),
}
SEGMENT_MAPPINGS = {
    "events": {
        "type": "track",
        "event": "event",
        "user_id": "user_id",
        "anonymous_id": "anonymous_id",
        "timestamp": "ts",
        "properties": "props",
    },
    "users": {"type": "identify", "user_id": "user_id", "traits": "traits"},
}


def _track(seq: int, **changes: t.Any) -> dict[str, t.Any]:
    """A good events record; ``...`` as a value removes the field."""
    record: dict[str, t.Any] = {
        "id": seq,
        "user_id": f"u-{seq}",
        "anonymous_id": None,
        "event": "Order Completed",
        "ts": AT,
        "props": {"total": 12.5},
    }
    record.update(changes)
    return {key: value for key, value in record.items() if value is not ...}


def segment_cases() -> list[Case]:
    """Records for target-segment and the outcome each must have."""
    big = {"blob": "x" * 40_000}
    return [
        _case("valid_track", "events", _track(1), DELIVERED),
        _case("no_ids", "events", _track(2, user_id=None), "no_user_anon_id"),
        _case("event_missing", "events", _track(3, event=None), "event_not_defined"),
        _case("event_not_string", "events", _track(4, event=42), "event_not_string"),
        _case("bad_timestamp", "events", _track(5, ts="last tuesday"), "timestamp_invalid"),
        _case("schema_violation", "events", _track(6, id="six"), "schema"),
        _case("missing_key_property", "events", _track(7, id=...), "schema"),
        _case("object_user_id", "events", _track(8, user_id={"a": 1}), "id_not_string"),
        _case("properties_not_object", "events", _track(9, props="text"), "properties_not_object"),
        _case("message_over_32kb", "events", _track(10, props=big), "message_too_large"),
        _case(
            "huge_3mb_message",
            "events",
            _track(11, props={"blob": "y" * 3_000_000}),
            "message_too_large",
        ),
        _case(
            "too_many_properties",
            "events",
            _track(12, props={f"p{i}": i for i in range(10_001)}),
            "too_many_properties",
            "message_too_large",
        ),
        _case(
            "valid_identify",
            "users",
            {"id": 13, "user_id": "u-13", "traits": {"email": "a@b.co"}},
            DELIVERED,
        ),
        _case(
            "traits_break_schema",
            "users",
            {"id": 14, "user_id": "u-14", "traits": "text"},
            "schema",
        ),
        _case("unmapped_stream", "audit", {"id": 15}, "unmapped_stream"),
        _case("valid_after_bad", "events", _track(16), DELIVERED),
    ]


# -- target-clevertap ----------------------------------------------------------------------------


def _message(name: str, kind: str = "track", **changes: t.Any) -> dict[str, t.Any]:
    """A good Segment message; ``...`` removes a field, dicts merge into properties/traits."""
    record: dict[str, t.Any] = {"type": kind, "userId": f"user-{name}", "messageId": f"bad-{name}"}
    if kind == "track":
        record.update(event="Order Viewed", timestamp=AT, properties={"price": 3})
    else:
        record.update(timestamp=AT, traits={"name": "Asha"})
    for key, value in changes.items():
        if value is ...:
            record.pop(key, None)
        elif key in ("properties", "traits") and isinstance(value, dict):
            record[key] = {**record[key], **value}
        else:
            record[key] = value
    return record


#: The properties target-clevertap leaves out (on_invalid_field: drop_field), by case.
CLEVERTAP_DROPPED = {
    "value_over_512_bytes": ["value_too_long"],
    "key_over_120_bytes": ["key_too_long"],
    "huge_3mb_message": ["value_too_long"],
}


def clevertap_cases() -> list[Case]:
    """Segment-spec messages for target-clevertap (segment preset) and their outcomes."""
    stream = segment_archive.STREAM
    many = {f"prop_{i}": i for i in range(150)}
    return [
        _case("valid_track", stream, _message("valid_track"), DELIVERED),
        _case("valid_identify", stream, _message("valid_identify", "identify"), DELIVERED),
        _case("no_identity", stream, _message("no_identity", userId=...), "missing_identity"),
        _case(
            "invalid_email",
            stream,
            _message("invalid_email", "identify", traits={"email": "not-an-email"}),
            "invalid_email",
        ),
        _case(
            "invalid_phone",
            stream,
            _message("invalid_phone", "identify", traits={"phone": "12"}),
            "invalid_phone",
        ),
        _case(
            "invalid_gender",
            stream,
            _message("invalid_gender", "identify", traits={"gender": "robot"}),
            "invalid_gender",
        ),
        _case(
            "invalid_age",
            stream,
            _message("invalid_age", "identify", traits={"Age": 300}),
            "invalid_age",
        ),
        _case(
            "restricted_event",
            stream,
            _message("restricted_event", event="Notification Clicked"),
            "restricted_event",
        ),
        _case(
            "value_over_512_bytes",
            stream,
            _message("value_over_512_bytes", properties={"note": "z" * 600}),
            DELIVERED,  # without "note"
        ),
        _case(
            "key_over_120_bytes",
            stream,
            _message("key_over_120_bytes", properties={"k" * 130: 1}),
            DELIVERED,  # without the long name
        ),
        _case(
            "too_many_properties",
            stream,
            _message("too_many_properties", properties=many),
            "too_many_properties",
        ),
        _case(
            "group_call",
            stream,
            _message("group_call", "group", groupId="g-1"),
            "unsupported_message_type",
        ),
        _case(
            "huge_3mb_message",
            stream,
            _message("huge_3mb_message", properties={"blob": "y" * 3_000_000}),
            DELIVERED,  # without "blob"
        ),
        _case(
            "bad_timestamp",
            stream,
            _message("bad_timestamp", timestamp="not-a-time"),
            "invalid_timestamp",
        ),
        _case("event_missing", stream, _message("event_missing", event=...), "event_name_missing"),
        _case(
            "object_id_refused_by_clevertap",
            stream,
            _message(
                "object_id_refused_by_clevertap", userId=..., anonymousId="bad id with spaces!"
            ),
            "invalid_object_id",
        ),
        _case(
            "names_collide_after_snake_case",
            stream,
            _message(
                "names_collide_after_snake_case", properties={"First Name": "a", "first_name": "b"}
            ),
            "property_name_collision",
        ),
        _case("schema_violation", stream, _message("schema_violation", type=5), "schema"),
        _case(
            "missing_key_property",
            stream,
            _message("missing_key_property", messageId=...),
            "schema",
        ),
        _case("valid_after_bad", stream, _message("valid_after_bad"), DELIVERED),
    ]


# -- running and checking ------------------------------------------------------------------------


def write_input(
    path: Path, schemas: dict[str, tuple[list[str], dict[str, t.Any]]], cases: list[Case]
) -> None:
    """SCHEMAs, then the cases with the malformed lines spread among them, then a STATE."""
    lines = [
        json.dumps(
            {
                "type": "SCHEMA",
                "stream": stream,
                "key_properties": keys,
                "schema": {"type": "object", "properties": properties},
            }
        )
        for stream, (keys, properties) in schemas.items()
    ]
    for index, case in enumerate(cases):
        lines.append(json.dumps({"type": "RECORD", "stream": case.stream, "record": case.record}))
        if index < len(MALFORMED_LINES):
            lines.append(MALFORMED_LINES[index])
    lines.append(json.dumps({"type": "STATE", "value": {"bad_input": "done"}}))
    path.write_text("\n".join(lines) + "\n")


def _case_of(record: t.Any) -> str | None:
    if not isinstance(record, dict):
        return None
    for part in (record, record.get("props"), record.get("properties"), record.get("traits")):
        if isinstance(part, dict) and isinstance(part.get("case"), str):
            return str(part["case"])
    return None


def judge(
    cases: list[Case], delivered: list[str], rejects: list[dict[str, t.Any]]
) -> dict[str, t.Any]:
    """Match every case to where it ended up; list what is missing, doubled or unexpected."""
    found: dict[str, list[str]] = {case.name: [] for case in cases}
    for name in delivered:
        found.setdefault(name, []).append(DELIVERED)
    malformed = 0
    dropped: dict[str, list[str]] = {}
    for line in rejects:
        if line.get("kind") == "dropped_field":  # a property of a delivered record
            owner = str(line.get("record_key") or "").removeprefix("bad-")
            dropped.setdefault(owner, []).append(line["rule"])
            continue
        if line["rule"] == "malformed_input_line":
            malformed += 1
            continue
        found.setdefault(_case_of(line.get("record")) or "<unknown>", []).append(line["rule"])
    outcomes: dict[str, dict[str, t.Any]] = {}
    for case in cases:
        seen = found.get(case.name, [])
        outcomes[case.name] = {
            "expected": sorted(case.expected),
            "got": seen,
            "ok": len(seen) == 1 and seen[0] in case.expected,
        }
    strays = {name: where for name, where in found.items() if name not in outcomes}
    return {
        "cases": outcomes,
        "unaccounted": [name for name, o in outcomes.items() if not o["got"]],
        "accounted_twice": [name for name, o in outcomes.items() if len(o["got"]) > 1],
        "unexpected_outcome": [name for name, o in outcomes.items() if not o["ok"]],
        "strays": strays,
        "malformed_lines_rejected": malformed,
        "dropped_fields": dropped,
    }


def _reasons_are_specific(rejects: list[dict[str, t.Any]]) -> bool:
    """Every rejection has a rule and a reason longer than a word."""
    return all(line.get("rule") and len(str(line.get("reason") or "")) > 15 for line in rejects)


def segment_bad_input(workspace: Workspace, sandbox: SandboxProcess) -> Outcome:
    """target-segment on the bad-input file."""
    started = time.monotonic()
    sandbox.client.reset()
    out = workspace.output_dir("bad-input-target-segment")
    cases = segment_cases()
    source = out / "input.jsonl"
    write_input(source, SEGMENT_SCHEMAS, cases)
    config = workspace.config(
        "bad-input-target-segment",
        plugins.segment_target_config(sandbox, out, stream_mappings=SEGMENT_MAPPINGS),
    )
    attempt = run_chain(
        [plugins.target_command(plugins.TARGET_SEGMENT, config, "--input", str(source))],
        out,
        "run",
    )
    messages = sandbox.client.segment_messages()
    delivered = [name for m in messages if (name := _case_of(m)) is not None]
    rejects = plugins.read_rejects(out, "target-segment")
    summary = plugins.read_summary(out, "target-segment")
    verdict = judge(cases, delivered, rejects)
    dropped = sandbox.client.segment_stats()["dropped"]
    return _outcome(
        "target-segment",
        cases,
        exit_ok=attempt.succeeded,
        verdict=verdict,
        rejects=rejects,
        summary=summary,
        extra_counts={"silently_dropped_by_segment": dropped},
        started=started,
        extra_checks={"segment_dropped_nothing": dropped == 0},
    )


def clevertap_bad_input(workspace: Workspace, sandbox: SandboxProcess) -> Outcome:
    """target-clevertap (segment preset, snake_case names) on the bad-input file."""
    started = time.monotonic()
    sandbox.client.reset()
    out = workspace.output_dir("bad-input-target-clevertap")
    cases = clevertap_cases()
    source = out / "input.jsonl"
    schema = dict(segment_archive.SCHEMA["properties"])
    write_input(source, {segment_archive.STREAM: (["messageId"], schema)}, cases)
    config = workspace.config(
        "bad-input-target-clevertap",
        plugins.clevertap_target_config(sandbox, out, out / "journal.sqlite"),
    )
    attempt = run_chain(
        [plugins.target_command(plugins.TARGET_CLEVERTAP, config, "--input", str(source))],
        out,
        "run",
    )
    client = sandbox.client
    delivered = [
        name
        for event in client.clevertap_uploaded_events()
        if (name := _case_of({"case": event.get("evtData", {}).get("case")})) is not None
    ] + [
        name
        for profile in client.clevertap_profiles()
        if (name := _case_of({"case": profile.get("profileData", {}).get("case")})) is not None
    ]
    rejects = plugins.read_rejects(out, "target-clevertap")
    summary = plugins.read_summary(out, "target-clevertap")
    verdict = judge(cases, delivered, rejects)
    return _outcome(
        "target-clevertap",
        cases,
        exit_ok=attempt.succeeded,
        verdict=verdict,
        rejects=rejects,
        summary=summary,
        extra_counts={"dropped_fields": verdict["dropped_fields"]},
        started=started,
        extra_checks={"dropped_fields_listed": verdict["dropped_fields"] == CLEVERTAP_DROPPED},
    )


def _outcome(
    target: str,
    cases: list[Case],
    *,
    exit_ok: bool,
    verdict: dict[str, t.Any],
    rejects: list[dict[str, t.Any]],
    summary: dict[str, t.Any],
    extra_counts: dict[str, t.Any],
    started: float,
    extra_checks: dict[str, bool] | None = None,
) -> Outcome:
    records = len(cases) + len(MALFORMED_LINES)
    delivered = sum(1 for o in verdict["cases"].values() if o["got"] == [DELIVERED])
    return Outcome(
        scenario="bad input",
        pipeline=f"bad-input file → {target}",
        counts={
            "records": records,
            "malformed_lines": len(MALFORMED_LINES),
            "delivered": delivered,
            "rejected": sum(1 for line in rejects if line.get("kind") != "dropped_field"),
            "summary": {
                k: summary.get(k) for k in ("received", "delivered", "rejected", "skipped")
            },
            "rejected_by_rule": summary.get("rejected_by_rule"),
            **extra_counts,
        },
        checks={
            "exit_0": exit_ok,
            "every_record_accounted_once": not verdict["unaccounted"]
            and not verdict["accounted_twice"]
            and not verdict["strays"],
            "every_malformed_line_rejected": verdict["malformed_lines_rejected"]
            == len(MALFORMED_LINES),
            "outcomes_as_documented": not verdict["unexpected_outcome"],
            "reasons_are_specific": _reasons_are_specific(rejects),
            "summary_adds_up": summary_adds_up(summary),
            "summary_counts_every_line": summary.get("received") == records,
            **(extra_checks or {}),
        },
        details={"verdict": verdict, "reasons": _sample_reasons(rejects)},
        seconds=time.monotonic() - started,
    )


def _sample_reasons(rejects: list[dict[str, t.Any]]) -> dict[str, str]:
    """One reason per rule, as the file gives it (to show what a user reads)."""
    reasons: dict[str, str] = {}
    for line in rejects:
        reasons.setdefault(line["rule"], str(line.get("reason"))[:300])
    return reasons


# -- runs that must fail -------------------------------------------------------------------------


@dataclass(frozen=True)
class MustFail:
    """A run that must stop with a non-zero exit and a message containing ``hints``."""

    name: str
    target: str
    overrides: dict[str, t.Any]
    lines: list[str]
    hints: tuple[str, ...]


def must_fail_runs() -> list[MustFail]:
    """The runs where stopping is the right answer."""
    good = segment_cases()[0]
    segment_schema = json.dumps(
        {
            "type": "SCHEMA",
            "stream": "events",
            "key_properties": ["id"],
            "schema": {"type": "object", "properties": SEGMENT_SCHEMAS["events"][1]},
        }
    )
    segment_good = json.dumps({"type": "RECORD", "stream": "events", "record": good.record})
    segment_bad = json.dumps(
        {"type": "RECORD", "stream": "events", "record": _track(2, user_id=None)}
    )
    ghost = json.dumps({"type": "RECORD", "stream": "ghost", "record": {"id": 1}})
    stream = segment_archive.STREAM
    ct_schema = json.dumps(
        {
            "type": "SCHEMA",
            "stream": stream,
            "key_properties": ["messageId"],
            "schema": segment_archive.SCHEMA,
        }
    )
    ct_good = json.dumps({"type": "RECORD", "stream": stream, "record": _message("good")})
    ct_bad = json.dumps({"type": "RECORD", "stream": stream, "record": _message("bad", userId=...)})
    mappings = {"stream_mappings": SEGMENT_MAPPINGS}
    return [
        MustFail(
            "unknown write key",
            "target-segment",
            {**mappings, "write_key": WRONG_WRITE_KEY},
            [segment_schema, segment_good],
            ("write key",),
        ),
        MustFail(
            "on_rejected: fail",
            "target-segment",
            {**mappings, "on_rejected": "fail"},
            [segment_schema, segment_bad],
            ("on_rejected",),
        ),
        MustFail(
            "RECORD before its SCHEMA", "target-segment", mappings, [ghost], ("ghost", "schema")
        ),
        MustFail(
            "track mapping without event",
            "target-segment",
            {"stream_mappings": {"events": {"type": "track", "user_id": "user_id"}}},
            [segment_schema, segment_good],
            ("event",),
        ),
        MustFail(
            "max_concurrency out of range",
            "target-segment",
            {**mappings, "max_concurrency": 99},
            [segment_schema, segment_good],
            ("max_concurrency",),
        ),
        MustFail(
            "wrong passcode",
            "target-clevertap",
            {"passcode": WRONG_PASSCODE},
            [ct_schema, ct_good],
            ("passcode",),
        ),
        MustFail(
            "stream without a mapping",
            "target-clevertap",
            {"stream_mappings": {}},
            [ct_schema, ct_good],
            ("stream_mappings", stream),
        ),
        MustFail(
            "batch_size_rows out of range",
            "target-clevertap",
            {"batch_size_rows": 5000},
            [ct_schema, ct_good],
            ("batch_size_rows",),
        ),
        MustFail(
            "on_rejected: fail",
            "target-clevertap",
            {"on_rejected": "fail"},
            [ct_schema, ct_bad],
            ("on_rejected",),
        ),
    ]


def error_message(log: str) -> str:
    """The last lines of a failed run's log: where the message for the user is."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return repo_relative("\n".join(lines[-4:]))


def run_must_fail(
    workspace: Workspace, sandbox: SandboxProcess, case: MustFail
) -> dict[str, t.Any]:
    """Run one must-fail case; return its exit code, message and whether the message helps."""
    slug = case.name.replace(" ", "-").replace(":", "").replace("_", "-")
    out = workspace.output_dir(f"must-fail-{case.target}-{slug}")
    if case.target == "target-segment":
        values = plugins.segment_target_config(sandbox, out, **case.overrides)
        executable = plugins.TARGET_SEGMENT
    else:
        values = plugins.clevertap_target_config(
            sandbox, out, out / "journal.sqlite", **case.overrides
        )
        executable = plugins.TARGET_CLEVERTAP
    source = out / "input.jsonl"
    source.write_text("\n".join(case.lines) + "\n")
    config = workspace.config(f"must-fail-{case.target}-{slug}", values)
    attempt = run_chain(
        [plugins.target_command(executable, config, "--input", str(source))], out, "run"
    )
    log = attempt.logs[0].read_text(errors="replace")
    message = error_message(log)
    return {
        "name": case.name,
        "target": case.target,
        "exit_code": attempt.exit_codes[0],
        "message": message,
        "traceback_printed": "Traceback (most recent call last)" in log,
        "ok": attempt.exit_codes[0] not in (0, None)
        and all(hint.lower() in message.lower() for hint in case.hints),
        "hints": list(case.hints),
    }


def must_fail(workspace: Workspace, sandbox: SandboxProcess) -> Outcome:
    """Every must-fail run stops non-zero with a message naming what to fix."""
    started = time.monotonic()
    runs = [run_must_fail(workspace, sandbox, case) for case in must_fail_runs()]
    return Outcome(
        scenario="bad input",
        pipeline="runs that must stop (both targets)",
        counts={
            "runs": len(runs),
            "stopped_with_a_helpful_message": sum(run["ok"] for run in runs),
            "printed_a_traceback": sum(run["traceback_printed"] for run in runs),
        },
        checks={f"{run['target']}: {run['name']}": run["ok"] for run in runs},
        details={"runs": runs},
        seconds=time.monotonic() - started,
    )


def run_all(workspace: Workspace) -> list[Outcome]:
    """Both bad-input files and the must-fail runs, on one sandbox."""
    sandbox = start_sandbox(days=1)
    try:
        return [
            segment_bad_input(workspace, sandbox),
            clevertap_bad_input(workspace, sandbox),
            must_fail(workspace, sandbox),
        ]
    finally:
        sandbox.stop()
