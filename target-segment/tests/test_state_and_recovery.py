"""STATE only after delivery, and exactly-once after SIGKILL + re-run (real processes, latency)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from segment_testkit import INTEGER, STRING, TARGET_BIN, record, schema

CHUNKS = 60
PER_CHUNK = 20
TOTAL = CHUNKS * PER_CHUNK

pytestmark = pytest.mark.slow


def chunk_lines(first_chunk: int = 0) -> str:
    """A tap's output: chunks of events, each followed by a STATE naming the chunk."""
    lines = [schema("events", {"seq": INTEGER, "uid": STRING}, ["seq"])]
    for chunk in range(first_chunk, CHUNKS):
        for n in range(PER_CHUNK):
            seq = chunk * PER_CHUNK + n
            lines.append(record("events", {"seq": seq, "uid": f"user-{seq % 7}"}))
        lines.append(json.dumps({"type": "STATE", "value": {"chunk": chunk}}))
    return "\n".join(lines) + "\n"


def config_file(segment_config: dict, tmp_path) -> str:
    config = {
        **segment_config,
        "stream_mappings": {
            "events": {"type": "track", "event": {"value": "Step"}, "user_id": "uid"}
        },
        "batch_size_rows": 10,
        "max_concurrency": 2,
        "state_interval_seconds": 0.3,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


def run_until_states(
    config_path: str, input_text: str, states_before_kill: int, linger: float
) -> list[dict]:
    """Start the target, SIGKILL it `linger` s after the n-th STATE line; return the STATEs seen."""
    with subprocess.Popen(
        [TARGET_BIN, "--config", config_path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(input_text)
        process.stdin.close()
        states: list[dict] = []
        for line in process.stdout:
            states.append(json.loads(line))
            if len(states) == states_before_kill:
                time.sleep(linger)
                os.kill(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=30)
        states += [json.loads(line) for line in process.stdout.read().splitlines() if line.strip()]
    time.sleep(0.5)  # requests the sandbox was still serving when the target died may land
    return states


def delivered_seqs(client) -> list[int]:
    return sorted(m["properties"]["seq"] for m in client.segment_messages())


def test_state_is_emitted_only_after_everything_before_it_is_delivered(
    segment_config, sandbox_client, tmp_path
) -> None:
    sandbox_client.set_latency(100, server="segment")
    states = run_until_states(config_file(segment_config, tmp_path), chunk_lines(), 1, 0.0)
    assert states, "the target emitted no STATE before finishing"
    chunk = states[-1]["chunk"]
    seqs = set(delivered_seqs(sandbox_client))
    assert set(range((chunk + 1) * PER_CHUNK)) <= seqs
    assert len(seqs) < TOTAL  # the kill really interrupted the run


def test_kill_and_rerun_from_the_last_state_delivers_each_message_once(
    segment_config, sandbox_client, tmp_path
) -> None:
    sandbox_client.set_latency(100, server="segment")
    config_path = config_file(segment_config, tmp_path)
    states = run_until_states(config_path, chunk_lines(), 1, 0.5)
    resume_from = states[-1]["chunk"] + 1
    assert resume_from < CHUNKS
    first_run = len(delivered_seqs(sandbox_client))
    assert first_run > resume_from * PER_CHUNK  # data past the last STATE went out before the kill

    sandbox_client.set_latency(0, server="segment")
    done = subprocess.run(
        [TARGET_BIN, "--config", config_path],
        input=chunk_lines(resume_from),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"chunk": CHUNKS - 1}
    assert delivered_seqs(sandbox_client) == list(range(TOTAL))
    stats = sandbox_client.segment_stats()
    assert stats["accepted"] == TOTAL
    assert stats["duplicates"] == first_run - resume_from * PER_CHUNK  # re-sends were dropped
