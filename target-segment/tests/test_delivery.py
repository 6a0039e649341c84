"""Concurrency within max_concurrency, and one user's calls keep their order."""

from __future__ import annotations

from segment_testkit import INTEGER, STRING, record, run_target, schema


def test_batches_go_out_concurrently_within_the_limit_in_order_per_user(
    segment_config, sandbox_client
) -> None:
    sandbox_client.set_latency(40, server="segment")
    config = {
        **segment_config,
        "stream_mappings": {"e": {"type": "track", "event": {"value": "Step"}, "user_id": "uid"}},
        "batch_size_rows": 10,
        "max_concurrency": 4,
    }
    lines = [schema("e", {"seq": INTEGER, "uid": STRING}, ["seq"])]
    lines += [record("e", {"seq": n, "uid": f"user-{n % 13}"}) for n in range(600)]
    result = run_target(config, lines)
    stats = sandbox_client.segment_stats()
    assert stats["accepted"] == 600
    assert 2 <= stats["max_concurrent"] <= 4
    assert result.summary["requests"] >= 60
    per_user: dict[str, list[int]] = {}
    for message in sandbox_client.segment_messages():  # in the order the sandbox accepted them
        per_user.setdefault(message["userId"], []).append(message["properties"]["seq"])
    assert len(per_user) == 13
    for seqs in per_user.values():
        assert seqs == sorted(seqs)
