"""The shared target base, through a minimal target against a scripted batch API on loopback."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import os
import threading
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from clevertap_segment_common.delivery import Item, Rejection
from clevertap_segment_common.delivery_sink import DeliverySink
from clevertap_segment_common.singer_target import DeliveryTarget
from clevertap_segment_common.target_errors import ConnectionCheckError, RecordRejectedError
from clevertap_segment_common.target_settings import DeliveryLimits, common_target_settings
from click.testing import CliRunner
from delivery_testkit import JsonTransport
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

LIMITS = DeliveryLimits(max_concurrency=4, max_batch_rows=50, concurrency_reason=" (test API)")
SCHEMA = {
    "type": "object",
    "properties": {
        "n": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "at": {"type": ["string", "null"], "format": "date-time"},
        "day": {"type": ["string", "null"], "format": "date"},
        "clock": {"type": ["string", "null"], "format": "time"},
        "refuse": {"type": ["boolean", "null"]},
        "vendor_refuses": {"type": ["boolean", "null"]},
    },
}


class EchoSink(DeliverySink):
    """Sends each record as it is; `refuse` makes it break a local rule."""

    target: EchoTarget

    def prepare(self, record: dict[str, t.Any]) -> Item | None:
        if record.get("refuse"):
            raise RecordRejectedError("refused_locally", "the record asks to be refused")
        self.target.prepared.append(dict(record))
        payload = orjson.dumps(record, default=str)
        return Item(payload, self.stream_name, record, key=str(record.get("n")))


class EchoTarget(DeliveryTarget):
    """The smallest DeliveryTarget: JSON items to `{api_url}`, answered by a ScriptedServer."""

    name = "target-echo"
    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType, required=True),
        th.Property("secret", th.StringType, secret=True),
        *common_target_settings(
            plugin="target-echo", default_concurrency=2, default_batch_rows=5, limits=LIMITS
        ),
    ).to_dict()
    default_sink_class = EchoSink
    secret_settings = ("secret",)
    limits = LIMITS

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared: list[dict[str, t.Any]] = []
        self.vendor_rejected: list[tuple[int, str]] = []

    def build_transport(self) -> JsonTransport:
        return JsonTransport(self.config["api_url"])

    def check_connection(self) -> str:
        if self.config.get("secret") != "right-secret":
            msg = "the API refused the secret; check `secret`"
            raise ConnectionCheckError(msg)
        return "the API accepted the secret"

    def on_vendor_rejected(self, item: Item, rejection: Rejection) -> None:
        self.vendor_rejected.append((item.record["n"], rejection.rule))


def vendor(items: list[dict[str, t.Any]], attempt: int) -> tuple[int, dict[str, t.Any], dict]:
    """Accepts every item except those marked `vendor_refuses`."""
    _ = attempt
    return 200, {"rejected": [i for i, item in enumerate(items) if item.get("vendor_refuses")]}, {}


def schema_line(stream: str = "s", keys: tuple[str, ...] = ("n",)) -> dict[str, t.Any]:
    return {"type": "SCHEMA", "stream": stream, "schema": SCHEMA, "key_properties": list(keys)}


def record_line(value: dict[str, t.Any], stream: str = "s") -> dict[str, t.Any]:
    return {"type": "RECORD", "stream": stream, "record": value}


@dataclass
class Run:
    target: EchoTarget
    states: list[dict[str, t.Any]]
    summary: dict[str, t.Any]
    rejects: list[dict[str, t.Any]] = field(default_factory=list)


def run(config: dict[str, t.Any], messages: t.Iterable[dict[str, t.Any] | str]) -> Run:
    target = EchoTarget(config=config)
    lines = [m if isinstance(m, str) else json.dumps(m) for m in messages]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        target.listen(io.StringIO("\n".join(lines) + "\n"))
    rejected = Path(config["rejected_records_path"])
    return Run(
        target=target,
        states=[json.loads(line) for line in out.getvalue().splitlines() if line.strip()],
        summary=json.loads(Path(config["summary_path"]).read_text()),
        rejects=[json.loads(x) for x in rejected.read_text().splitlines()]
        if rejected.exists()
        else [],
    )


@pytest.fixture
def config(server_factory, tmp_path: Path) -> dict[str, t.Any]:
    server = server_factory(vendor)
    return {
        "api_url": server.url,
        "rejected_records_path": str(tmp_path / "rejected.jsonl"),
        "summary_path": str(tmp_path / "summary.json"),
        "_server": server,
    }


def settings(config: dict[str, t.Any], **extra: t.Any) -> dict[str, t.Any]:
    return {k: v for k, v in config.items() if not k.startswith("_")} | extra


MIXED_RECORDS = [
    {"n": 1, "name": "plain", "at": "2024-05-01T12:00:00Z", "day": "2024-05-01", "clock": "12:30"},
    {"n": 2, "name": 7},  # wrong type
    {"n": 3, "at": "yesterday at noon"},  # a date-time that does not parse
    {"name": "no key"},  # key property missing
    {"n": 5, "name": "with metadata", "_sdc_extracted_at": "2024-05-01T00:00:00Z"},
    {"n": 6, "refuse": True},  # breaks the target's own rule
    {"n": 7, "vendor_refuses": True},  # the vendor refuses it
    {"n": 8, "at": "2024-05-01T12:00:00+02:00"},
]


def accepted(server: t.Any) -> list[dict[str, t.Any]]:
    """What the scripted API kept, in record order."""
    kept = [i for b in server.received for i in b if not i.get("vendor_refuses")]
    return sorted(kept, key=lambda item: item["n"])


def test_records_with_stream_maps_take_the_sdk_path_and_end_up_the_same(config) -> None:
    server = config["_server"]
    messages = [schema_line(), *(record_line(r) for r in MIXED_RECORDS)]
    direct = run(settings(config), messages)
    direct_items = accepted(server)
    server.received.clear()
    mapped_config = settings(
        config,
        stream_maps={"s": {"__filter__": "True"}},
        rejected_records_path=config["rejected_records_path"] + ".sdk",
    )
    through_sdk = run(mapped_config, messages)

    assert accepted(server) == direct_items
    assert [i["n"] for i in direct_items] == [1, 5, 8]
    assert direct_items[1] == {"n": 5, "name": "with metadata"}  # metadata columns removed
    for result in (direct, through_sdk):
        assert sorted((r["rule"], str(r["record"].get("n"))) for r in result.rejects) == [
            ("refused_locally", "6"),
            ("remote", "7"),
            ("schema", "2"),
            ("schema", "3"),
            ("schema", "None"),  # the missing key property, filled in as null
        ]
        assert result.summary["received"] == len(MIXED_RECORDS)
        assert result.summary["delivered"] + result.summary["rejected"] == len(MIXED_RECORDS)
    assert direct.target.prepared == through_sdk.target.prepared


def test_a_date_time_that_does_not_parse_is_rejected_not_a_crash(config) -> None:
    result = run(
        settings(config),
        [
            schema_line(),
            record_line({"n": 1, "at": "2024-13-45T99:00:00Z"}),
            record_line({"n": 2, "at": "2024-05-01T12:00:00Z"}),
            {"type": "STATE", "value": {"done": 2}},
        ],
    )
    (reject,) = result.rejects
    assert reject["rule"] == "schema"
    assert "field 'at' is typed date-time" in reject["reason"]
    assert "not an ISO 8601 date-time" in reject["reason"]
    assert reject["record"] == {"n": 1, "at": "2024-13-45T99:00:00Z"}
    assert [i["n"] for i in accepted(config["_server"])] == [2]
    assert result.states == [{"done": 2}]


def test_fields_typed_date_like_reach_the_sink_parsed(config) -> None:
    result = run(settings(config), [schema_line(), record_line(MIXED_RECORDS[0])])
    (prepared,) = result.target.prepared
    assert prepared["at"] == dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    assert prepared["day"] == dt.date(2024, 5, 1)
    assert prepared["clock"] == dt.time(12, 30)
    assert prepared["name"] == "plain"


def test_vendor_rejections_reach_the_public_hook(config) -> None:
    result = run(
        settings(config),
        [schema_line(), record_line({"n": 1}), record_line({"n": 2, "vendor_refuses": True})],
    )
    assert result.target.vendor_rejected == [(2, "remote")]
    assert [r["record"]["n"] for r in result.rejects] == [2]


def open_paths() -> set[str]:
    """Files this process holds open."""
    paths = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            paths.add(os.readlink(f"/proc/self/fd/{fd}"))
    return paths


@pytest.mark.parametrize(
    ("bad", "rule"),
    [({"n": 2, "refuse": True}, "refused_locally"), ({"n": 2, "vendor_refuses": True}, "remote")],
)
def test_on_rejected_fail_closes_the_rejects_file_before_stopping(config, bad, rule) -> None:
    path = Path(config["rejected_records_path"])
    target = EchoTarget(config=settings(config, on_rejected="fail", batch_size_rows=1))
    lines = [schema_line(), record_line({"n": 1}), record_line(bad), record_line({"n": 3})]
    with (
        contextlib.redirect_stdout(io.StringIO()) as out,
        pytest.raises(RuntimeError, match="on_rejected is 'fail'"),
    ):
        target.listen(io.StringIO("\n".join(json.dumps(m) for m in lines) + "\n"))
    assert str(path.resolve()) not in open_paths()
    (reject,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert reject["rule"].startswith(rule)
    assert reject["record"]["n"] == 2
    assert out.getvalue() == ""  # no STATE past the rejected record


class SlowInput:
    """A tap that writes one line every `pause` seconds."""

    def __init__(self, lines: list[str], pause: float) -> None:
        self.lines = lines
        self.pause = pause

    def __iter__(self) -> t.Iterator[str]:
        for line in self.lines:
            time.sleep(self.pause)
            yield line + "\n"


class StateLog(io.StringIO):
    """Stdout that notes, for each STATE line, which records the API had accepted by then."""

    def __init__(self, delivered: t.Callable[[], set[int]]) -> None:
        super().__init__()
        self.delivered = delivered
        self.seen: list[tuple[dict[str, t.Any], set[int]]] = []

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self.seen.append((json.loads(line), self.delivered()))
        return super().write(text)


def test_state_is_emitted_every_state_interval_after_what_it_covers_is_delivered(
    config,
) -> None:
    server = config["_server"]
    lines = [json.dumps(schema_line())]
    for n in range(60):
        lines.append(json.dumps(record_line({"n": n})))
        if n % 5 == 4:
            lines.append(json.dumps({"type": "STATE", "value": {"upto": n}}))
    target = EchoTarget(config=settings(config, state_interval_seconds=0.2, batch_size_rows=50))
    states = StateLog(lambda: set(server.delivered_numbers()))
    started = time.monotonic()
    with contextlib.redirect_stdout(states):
        target.listen(t.cast("t.IO[str]", SlowInput(lines, pause=0.015)))
    assert time.monotonic() - started > 0.9  # the run was long enough for several intervals
    assert len(states.seen) >= 3  # mid-run STATEs, not only the final one
    for state, delivered in states.seen:
        assert set(range(state["upto"] + 1)) <= delivered
    assert states.seen[-1][0] == {"upto": 59}


def test_shared_settings_are_checked_at_start(config) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        EchoTarget(
            config=settings(config, max_concurrency=0, batch_size_rows=51, state_interval_seconds=0)
        )
    assert caught.value.errors == [
        "max_concurrency must be 1-4, got 0 (test API).",
        "batch_size_rows must be 1-50, got 51.",
        "state_interval_seconds must be positive, got 0.",
    ]


def test_the_record_count_metric_counts_every_record(config, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="singer_sdk.metrics"):
        run(settings(config), [schema_line(), *(record_line({"n": n}) for n in range(23))])
    counted = [
        json.loads(r.getMessage().split("METRIC: ", 1)[1])
        for r in caplog.records
        if "METRIC: " in r.getMessage() and '"record_count"' in r.getMessage()
    ]
    assert sum(m["value"] for m in counted if m["tags"]["stream"] == "s") == 23


def test_a_field_the_schema_does_not_declare_is_warned_about_once(config, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        result = run(
            settings(config),
            [schema_line(), *(record_line({"n": n, "surprise": n}) for n in range(3))],
        )
    assert result.summary["delivered"] == 3
    assert caplog.text.count("No schema for record field 'surprise'") == 1


def test_secrets_of_every_target_in_the_process_are_masked(config) -> None:
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        EchoTarget(config=settings(config, secret="alpha-secret-1"))
        EchoTarget(config=settings(config, secret="bravo-secret-2"))
        logging.getLogger("some.library").warning("sent alpha-secret-1 and bravo-secret-2")
    finally:
        root.removeHandler(handler)
    assert "alpha-secret-1" not in captured.getvalue()
    assert "bravo-secret-2" not in captured.getvalue()
    assert "sent *** and ***" in captured.getvalue()


def test_the_test_flag_runs_the_connection_check(config, tmp_path: Path) -> None:
    def cli(secret: str) -> t.Any:
        path = tmp_path / f"{secret}.json"
        path.write_text(json.dumps(settings(config, secret=secret)))
        return CliRunner().invoke(EchoTarget.cli, ["--config", str(path), "--test"])

    passed, refused = cli("right-secret"), cli("wrong-secret")
    assert passed.exit_code == 0
    assert "the API accepted the secret" in passed.stdout
    assert refused.exit_code == 1
    assert config["_server"].received == []


def test_the_engine_sends_batches_while_input_is_read(config) -> None:
    """STATE is not the only moment batches go out: full batches leave as soon as they fill."""
    server = config["_server"]
    seen_during_input: list[int] = []
    lock = threading.Lock()

    def lines() -> t.Iterator[str]:
        yield json.dumps(schema_line()) + "\n"
        for n in range(40):
            yield json.dumps(record_line({"n": n})) + "\n"
            if n == 30:
                time.sleep(0.3)  # the first batches have time to land
                with lock:
                    seen_during_input.extend(server.delivered_numbers())

    target = EchoTarget(config=settings(config, batch_size_rows=10, max_concurrency=1))
    with contextlib.redirect_stdout(io.StringIO()):
        target.listen(t.cast("t.IO[str]", lines()))
    assert set(range(30)) <= set(seen_during_input)
    assert sorted(server.delivered_numbers()) == list(range(40))


@pytest.mark.parametrize(("dry_run", "expected"), [(True, []), (False, [{"done": 2}])])
def test_a_dry_run_emits_no_state_so_no_bookmark_moves(config, dry_run, expected) -> None:
    result = run(
        settings(config, dry_run=dry_run),
        [
            schema_line(),
            record_line({"n": 1}),
            record_line({"n": 2}),
            {"type": "STATE", "value": {"done": 2}},
        ],
    )
    assert result.states == expected
