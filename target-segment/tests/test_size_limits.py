"""Segment's size limits: 32 KB per message, < 500 KB and <= 2,500 messages per batch request."""

from __future__ import annotations

import json

import pytest
from segment_testkit import STRING, record, run_target, schema
from singer_sdk.exceptions import ConfigValidationError
from target_segment.target import TargetSegment

MAPPING = {"s": {"type": "identify", "user_id": "uid", "traits": ["pad"]}}
LINES_HEAD = [schema("s", {"uid": STRING, "pad": STRING}, ["uid"])]


def library_size(message: dict) -> int:
    """The size analytics-python (and the sandbox) check: json.dumps with its defaults."""
    return len(json.dumps(message).encode())


def test_exactly_32768_bytes_is_sent_and_32769_is_rejected(segment_config, sandbox_client) -> None:
    config = {**segment_config, "stream_mappings": MAPPING}
    # Calibrate: the size of a message with a known pad, as the sandbox stored it.
    run_target(config, [*LINES_HEAD, record("s", {"uid": "u0", "pad": "x" * 1000})])
    (probe,) = sandbox_client.segment_messages()
    probe.pop("receivedAt")
    overhead = library_size(probe) - 1000
    sandbox_client.reset()

    at_limit = 32_768 - overhead
    result = run_target(
        config,
        [
            *LINES_HEAD,
            record("s", {"uid": "u1", "pad": "x" * at_limit}),
            record("s", {"uid": "u2", "pad": "x" * (at_limit + 1)}),
        ],
    )
    (sent,) = sandbox_client.segment_messages()
    assert sent["userId"] == "u1"
    sent.pop("receivedAt")
    assert library_size(sent) == 32_768
    (rejected,) = result.rejects
    assert rejected["record"]["uid"] == "u2"
    assert rejected["rule"] == "message_too_large"
    assert rejected["code"] == 32_769
    assert sandbox_client.segment_stats()["bad_requests_by_reason"] == {}


def test_size_is_counted_with_ascii_escapes_like_segments_library(
    segment_config, sandbox_client
) -> None:
    """16,000 'é' are 32,000 bytes of UTF-8 but 96,000 bytes as json.dumps writes them."""
    config = {**segment_config, "stream_mappings": MAPPING}
    result = run_target(config, [*LINES_HEAD, record("s", {"uid": "u1", "pad": "é" * 16_000})])
    (rejected,) = result.rejects
    assert rejected["rule"] == "message_too_large"
    assert rejected["code"] > 96_000
    assert sandbox_client.segment_messages() == []


def test_batches_are_packed_close_to_but_below_500_kb(scripted) -> None:
    server, config = scripted(lambda batch, attempt: (200, {}))
    config |= {"stream_mappings": MAPPING, "batch_size_rows": 2500, "max_concurrency": 1}
    pad = "y" * 2_000  # ~2.2 KB per message: about 220 per request
    lines = [
        *LINES_HEAD,
        *(record("s", {"uid": "one-user", "pad": f"{i}{pad}"}) for i in range(1200)),
    ]
    result = run_target(config, lines)
    assert result.summary["delivered"] == 1200
    sizes = [exchange.raw_size for exchange in server.exchanges]
    assert max(sizes) < 500_000
    assert sorted(sizes)[-2] > 490_000  # full batches are packed to within 2 % of the limit
    assert len(server.accepted) == 1200


def test_batches_respect_batch_size_rows(scripted) -> None:
    server, config = scripted(lambda batch, attempt: (200, {}))
    config |= {
        "stream_mappings": {"s": {"type": "track", "event": {"value": "E"}, "user_id": "uid"}},
        "batch_size_rows": 100,
        "max_concurrency": 2,
    }
    lines = [
        schema("s", {"uid": STRING, "n": {"type": "integer"}}),
        *(record("s", {"uid": f"u{i % 2}", "n": i}) for i in range(1000)),
    ]
    result = run_target(config, lines)
    counts = [len(exchange.body["batch"]) for exchange in server.exchanges]
    assert max(counts) == 100
    assert sum(counts) == 1000
    assert result.summary["delivered"] == 1000


def test_more_than_2500_rows_per_batch_is_refused_at_start(segment_config) -> None:
    with pytest.raises(ConfigValidationError, match=r"batch_size_rows must be 1-2500, got 2501"):
        TargetSegment(config={**segment_config, "batch_size_rows": 2501})
