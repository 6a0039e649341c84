"""Peak memory of each plugin at two volumes, 10x apart: it must stay flat as volume grows.

For every plugin and its peer, at each volume, one process runs against the sandbox while its
resident set size (itself plus any children) is sampled every 20 ms with psutil; the peak is
reported, and the ratio large/small says whether memory grows with volume (1.0 = flat).

- tap-clevertap events, reading the sandbox's export API (full record shape, ~10 KB); peer: a
  bare requests + json loop over the same cursor chains;
- target-segment, reading a Singer stream of track/identify calls on stdin; peer:
  segment-analytics-python 2.4.0 with settings that lose nothing (8 threads, 500 per batch, a
  queue as big as the volume);
- target-clevertap, reading Segment track calls (segment preset, journal on); peer: a sequential
  uploader posting 1000 pre-mapped records per request.

Every run must deliver every record (checked in the sandbox), else the run fails. Every process
reads its bytecode from a cache, as after ``pip install``; at the first volume each contender runs
once untimed first to fill it, so no peak includes compiling.

    .venv/bin/python bench/bench_memory.py [--quick] [--volumes 100000,1000000] [--no-peers]

Writes bench/results/memory.json (``--output`` to change).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

import psutil

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "memory.json"
EVENTS = ("Product Viewed", "Added To Cart", "Charged", "App Launched", "Search")
#: Custom events only: CleverTap refuses uploads of system events such as App Launched.
UPLOAD_EVENTS = ("Product Viewed", "Product Added", "Checkout Started", "Search", "Coupon Applied")
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
#: Exportable events per event name per day in the tap's sandbox; volume grows by days.
TAP_EVENTS_PER_DAY = 1000


# -- measuring ------------------------------------------------------------------------------------


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


def measure(
    argv: list[str],
    *,
    env: dict[str, str],
    stdin: t.IO[bytes] | int | None = None,
    count_records: bool = False,
) -> dict[str, t.Any]:
    """Run ``argv``; peak RSS (MiB, sampled every 20 ms), seconds, RECORD lines on stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE if count_records else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    records = [0]
    errors: list[bytes] = []

    def drain_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            records[0] += line.startswith((b'{"type":"RECORD"', b'{"type": "RECORD"'))

    def drain_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            errors.append(line)
            del errors[:-40]

    readers = [threading.Thread(target=drain_stderr, daemon=True)]
    if count_records:
        readers.append(threading.Thread(target=drain_stdout, daemon=True))
    for reader in readers:
        reader.start()
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(watched))
        time.sleep(0.02)
    for reader in readers:
        reader.join()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        tail = b"".join(errors).decode(errors="replace")[-3000:]
        msg = f"{Path(argv[0]).name} exited {process.returncode}:\n{tail}"
        raise RuntimeError(msg)
    return {
        "peak_rss_mib": round(peak / 2**20, 1),
        "seconds": round(seconds, 2),
        "records_out": records[0],
    }


def fed(argv: list[str], feeder: list[str], env: dict[str, str]) -> dict[str, t.Any]:
    """Measure ``argv`` reading the output of ``feeder`` (the feeder is not measured)."""
    source = subprocess.Popen(feeder, stdout=subprocess.PIPE, env=env)
    try:
        return measure(argv, env=env, stdin=source.stdout)
    finally:
        if source.stdout is not None:
            source.stdout.close()
        source.wait()


# -- inputs ----------------------------------------------------------------------------------------


def segment_calls(count: int) -> Iterator[dict[str, t.Any]]:
    """80 % track, 20 % identify, as bench_target_segment.py sends (generated one by one)."""
    for seq in range(count):
        user = f"user-{seq % 5000}"
        if seq % 5:
            yield {
                "kind": "track",
                "seq": seq,
                "user_id": user,
                "event": EVENTS[seq % 5],
                "ts": (START + dt.timedelta(seconds=seq * 7)).isoformat(),
                "properties": {
                    "seq": seq,
                    "CT Source": "Mobile",
                    "price": seq % 500,
                    "currency": "INR",
                    "category": f"cat-{seq % 17}",
                },
            }
        else:
            yield {
                "kind": "identify",
                "seq": seq,
                "user_id": user,
                "traits": {
                    "seq": seq,
                    "email": f"{user}@example.com",
                    "plan": "pro",
                    "points": seq % 997,
                },
            }


def segment_track(seq: int) -> dict[str, t.Any]:
    """One Segment track message (target-clevertap's segment preset input)."""
    return {
        "type": "track",
        "userId": f"user-{seq % 5000}",
        "messageId": f"mem-{seq:09d}",
        "event": UPLOAD_EVENTS[seq % 5],
        "timestamp": (START + dt.timedelta(seconds=seq)).isoformat().replace("+00:00", "Z"),
        "properties": {
            "seq": seq,
            "product_id": f"sku-{seq % 300}",
            "price": 89.9,
            "currency": "EUR",
            "category": "Shoes",
            "position": seq % 10,
        },
    }


def feed(kind: str, count: int) -> None:
    """Write ``count`` Singer records of ``kind`` to stdout (run as a feeder subprocess)."""
    out = sys.stdout
    if kind == "segment":
        for stream, props in (("events", "properties"), ("users", "traits")):
            schema: dict[str, t.Any] = {
                "type": "object",
                "properties": {
                    "seq": {"type": "integer"},
                    "user_id": {"type": "string"},
                    "event": {"type": ["string", "null"]},
                    "ts": {"type": ["string", "null"]},
                    props: {"type": "object"},
                },
            }
            out.write(
                json.dumps(
                    {
                        "type": "SCHEMA",
                        "stream": stream,
                        "schema": schema,
                        "key_properties": ["seq"],
                    }
                )
                + "\n"
            )
        for call in segment_calls(count):
            stream = "events" if call.pop("kind") == "track" else "users"
            out.write(json.dumps({"type": "RECORD", "stream": stream, "record": call}) + "\n")
    else:
        schema = {"type": "object", "properties": {}, "additionalProperties": True}
        out.write(
            json.dumps(
                {
                    "type": "SCHEMA",
                    "stream": "tracks",
                    "schema": schema,
                    "key_properties": ["messageId"],
                }
            )
            + "\n"
        )
        for seq in range(count):
            out.write(
                json.dumps({"type": "RECORD", "stream": "tracks", "record": segment_track(seq)})
                + "\n"
            )
    out.write(json.dumps({"type": "STATE", "value": {"fed": count}}) + "\n")
    out.flush()


# -- peers (run as subprocesses of this script) ----------------------------------------------------


def library_peer(url: str, write_key: str, count: int) -> None:
    """segment-analytics-python with settings that lose nothing; every call enqueued, then flush."""
    from segment.analytics import Client

    client = Client(write_key, host=url, thread=8, upload_size=500, max_queue_size=count, gzip=True)
    for call in segment_calls(count):
        if call["kind"] == "track":
            client.track(
                user_id=call["user_id"],
                event=call["event"],
                properties=call["properties"],
                timestamp=dt.datetime.fromisoformat(call["ts"]),
            )
        else:
            client.identify(user_id=call["user_id"], traits=call["traits"])
    client.flush()
    client.shutdown()


def sequential_peer(url: str, account: str, passcode: str, count: int) -> None:
    """Post pre-mapped CleverTap events 1000 per request, one request at a time."""
    import requests

    session = requests.Session()
    headers = {
        "X-CleverTap-Account-Id": account,
        "X-CleverTap-Passcode": passcode,
        "Content-Type": "application/json; charset=utf-8",
    }
    batch: list[dict[str, t.Any]] = []

    def post() -> None:
        answer = session.post(f"{url}/1/upload", json={"d": batch}, headers=headers, timeout=60)
        answer.raise_for_status()
        if answer.json().get("status") != "success":
            raise RuntimeError(answer.text[:300])
        batch.clear()

    for seq in range(count):
        event = segment_track(seq)
        at = dt.datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
        batch.append(
            {
                "type": "event",
                "identity": event["userId"],
                "ts": int(at.timestamp()),
                "evtName": event["event"],
                "evtData": event["properties"],
            }
        )
        if len(batch) == 1000:
            post()
    if batch:
        post()


def bare_export_peer(config_path: str) -> None:
    """Walk every cursor chain with requests and stdlib json, one line per record to stdout."""
    import requests

    config = json.loads(Path(config_path).read_text())
    headers = {
        "X-CleverTap-Account-Id": config["account_id"],
        "X-CleverTap-Passcode": config["passcode"],
    }
    base, session, out = config["api_url"], requests.Session(), sys.stdout
    first, last = (dt.date.fromisoformat(config[k]) for k in ("start_date", "end_date"))
    for name in config["event_names"]:
        day = first
        while day <= last:
            stamp = int(day.strftime("%Y%m%d"))
            body = {"event_name": name, "from": stamp, "to": stamp}
            opened = session.post(
                f"{base}/1/events.json?batch_size=4991", headers=headers, json=body
            )
            cursor = json.loads(opened.content).get("cursor")
            while cursor:
                page = json.loads(
                    session.get(f"{base}/1/events.json?cursor={cursor}", headers=headers).content
                )
                for record in page.get("records") or ():
                    out.write('{"type":"RECORD","record":' + json.dumps(record) + "}\n")
                cursor = page.get("next_cursor")
            day += dt.timedelta(days=1)
    out.flush()


# -- the three plugins -----------------------------------------------------------------------------


def _self(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def _environment(work: Path) -> dict[str, str]:
    from bench.processes import child_environment  # not at the top: see _plugin

    return child_environment(work)


def _plugin(name: str) -> str:
    """The plugin in its own virtualenv, as a user installs it (bench/plugin_venvs.py)."""
    from bench import plugin_venvs  # not at the top: the peers run this file as a script

    plugin_venvs.install(name)
    return plugin_venvs.executable(name)


def tap_clevertap(volumes: list[int], peers: bool, work: Path) -> dict[str, t.Any]:
    """tap-clevertap's events stream; volume grows by days, so export pages keep their size."""
    from clevertap_segment_sandbox import SandboxProcess

    from bench import bench_tap_events  # not at the top: the peers run this file as a script

    _plugin("tap-clevertap")  # bench_tap_events.tap_command runs it from there
    env = _environment(work)
    points: dict[str, dict[str, t.Any]] = {}
    for volume in volumes:
        days = max(1, math.ceil(volume / (11 * TAP_EVENTS_PER_DAY * 0.96)))
        with SandboxProcess(
            today=bench_tap_events.TODAY.isoformat(),  # tap_command's window ends there
            days=days,
            profiles=5000,
            events_per_day=TAP_EVENTS_PER_DAY,
            startup_timeout=60,
        ) as sandbox:
            summary = sandbox.client.seed_summary(event_profiles=False)
            names = sorted(bench_tap_events.exportable_names(summary))
            expected = sum(summary["events"][n]["total"] for n in names)
            _config, tap_argv = bench_tap_events.tap_command(sandbox, names, days, work)
            config_path = tap_argv[2]
            runs = {"ours": tap_argv}
            if peers:
                runs["peer"] = _self("--bare-export", config_path)
            point: dict[str, t.Any] = {"records": expected, "days": days}
            for label, argv in runs.items():
                for _ in range(2 if volume == volumes[0] else 1):  # the first fills the cache
                    result = measure(argv, env=env, count_records=True)
                if result["records_out"] != expected:
                    msg = f"{label}: {result['records_out']} records out of {expected}"
                    raise RuntimeError(msg)
                point[label] = result
                _progress("tap-clevertap", label, expected, result)
            points[str(volume)] = point
    return _plugin_result(
        "tap-clevertap events", ("bare requests + json export loop", "bare loop"), points
    )


def target_segment(volumes: list[int], peers: bool, work: Path) -> dict[str, t.Any]:
    """target-segment on a Singer stream of calls; peer: Segment's own Python library."""
    from clevertap_segment_sandbox import SandboxProcess

    from bench.bench_target_segment import target_config

    env = _environment(work)
    points: dict[str, dict[str, t.Any]] = {}
    with SandboxProcess(startup_timeout=60) as sandbox:
        key = sandbox.settings.write_key
        config = work / "target-segment.json"
        settings = target_config(sandbox.segment_url, work)
        settings["write_key"] = key
        settings["rejected_records_path"] = str(work / "segment-rejected.jsonl")
        config.write_text(json.dumps(settings))
        for volume in volumes:
            point: dict[str, t.Any] = {"records": volume}
            labels = ["ours", "peer"] if peers else ["ours"]
            for label in labels:
                for _ in range(2 if volume == volumes[0] else 1):  # the first fills the cache
                    sandbox.client.reset()
                    if label == "ours":
                        result = fed(
                            [_plugin("target-segment"), "--config", str(config)],
                            _self("--feed", "segment", str(volume)),
                            env,
                        )
                    else:
                        library = _self("--library-peer", sandbox.segment_url, key, str(volume))
                        result = measure(library, env=env)
                    _check(label, sandbox.client.segment_stats()["accepted"], volume)
                point[label] = result
                _progress("target-segment", label, volume, result)
            points[str(volume)] = point
    peer = ("segment-analytics-python 2.4.0 (lossless settings)", "analytics-python")
    return _plugin_result("target-segment", peer, points)


def target_clevertap(volumes: list[int], peers: bool, work: Path) -> dict[str, t.Any]:
    """target-clevertap on Segment track calls; peer: sequential 1000-per-request uploads."""
    from clevertap_segment_sandbox import SandboxProcess

    env = _environment(work)
    points: dict[str, dict[str, t.Any]] = {}
    with SandboxProcess(startup_timeout=60) as sandbox:
        settings = sandbox.settings
        for volume in volumes:
            point: dict[str, t.Any] = {"records": volume}
            labels = ["ours", "peer"] if peers else ["ours"]
            for label in labels:
                for run in range(2 if volume == volumes[0] else 1):  # the first fills the cache
                    sandbox.client.reset()
                    if label == "ours":
                        config = work / f"target-clevertap-{volume}-{run}.json"
                        config.write_text(
                            json.dumps(
                                {
                                    "account_id": settings.account_id,
                                    "passcode": settings.passcode,
                                    "api_url": sandbox.clevertap_url,
                                    "stream_mappings": {"tracks": {"preset": "segment"}},
                                    "journal_path": str(work / f"journal-{volume}-{run}.sqlite"),
                                    "rejected_records_path": str(work / "rejected.jsonl"),
                                }
                            )
                        )
                        result = fed(
                            [_plugin("target-clevertap"), "--config", str(config)],
                            _self("--feed", "clevertap", str(volume)),
                            env,
                        )
                    else:
                        peer = _self(
                            "--sequential-peer",
                            sandbox.clevertap_url,
                            settings.account_id,
                            settings.passcode,
                            str(volume),
                        )
                        result = measure(peer, env=env)
                    stats = sandbox.client.clevertap_stats()["uploads"]
                    _check(label, stats["distinct_event_fingerprints"], volume)
                point[label] = result
                _progress("target-clevertap", label, volume, result)
            points[str(volume)] = point
    names = ("sequential uploader, 1000 records per request", "sequential uploader")
    return _plugin_result("target-clevertap", names, points)


def _check(label: str, delivered: int, expected: int) -> None:
    if delivered != expected:
        msg = f"{label}: the sandbox holds {delivered} records of {expected}"
        raise RuntimeError(msg)


def _progress(plugin: str, label: str, records: int, result: dict[str, t.Any]) -> None:
    print(
        f"{plugin:<17} {label:<5} {records:>9,} records: peak {result['peak_rss_mib']:7.1f} MiB "
        f"in {result['seconds']:7.1f} s",
        flush=True,
    )


def _plugin_result(
    name: str, peer: tuple[str, str], points: dict[str, dict[str, t.Any]]
) -> dict[str, t.Any]:
    """Peaks by volume and the growth ratio (largest / smallest volume) of ours and the peer."""
    small, large = points[min(points, key=int)], points[max(points, key=int)]
    growth = {
        label: round(large[label]["peak_rss_mib"] / small[label]["peak_rss_mib"], 2)
        for label in ("ours", "peer")
        if label in small and label in large
    }
    return {
        "plugin": name,
        "peer": peer[0],
        "peer_short": peer[1],
        "by_volume": points,
        "growth_large_over_small": growth,
        "volume_ratio": round(large["records"] / small["records"], 1),
    }


PLUGINS: dict[str, Callable[[list[int], bool, Path], dict[str, t.Any]]] = {
    "tap-clevertap": tap_clevertap,
    "target-segment": target_segment,
    "target-clevertap": target_clevertap,
}


def main() -> None:
    """Measure every plugin (or ``--only`` one) at each volume and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 and 50,000 records")
    parser.add_argument("--volumes", help="comma-separated record counts (default 100000,1000000)")
    parser.add_argument("--only", choices=sorted(PLUGINS), action="append")
    parser.add_argument("--no-peers", action="store_true", help="measure our plugins only")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--feed", nargs=2, metavar=("KIND", "COUNT"), help=argparse.SUPPRESS)
    parser.add_argument("--library-peer", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--sequential-peer", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--bare-export", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.feed:
        feed(args.feed[0], int(args.feed[1]))
        return
    if args.library_peer:
        library_peer(args.library_peer[0], args.library_peer[1], int(args.library_peer[2]))
        return
    if args.sequential_peer:
        url, account, passcode, count = args.sequential_peer
        sequential_peer(url, account, passcode, int(count))
        return
    if args.bare_export:
        bare_export_peer(args.bare_export)
        return
    default = "10000,50000" if args.quick else "100000,1000000"
    volumes = sorted(int(v) for v in (args.volumes or default).split(","))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        results = [
            PLUGINS[name](volumes, not args.no_peers, Path(tmp)) for name in (args.only or PLUGINS)
        ]
    report = {
        "benchmark": "peak RSS at two volumes (must stay flat), ours vs peer",
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "volumes": volumes,
        "sampling": "RSS of the process and its children, every 20 ms (psutil)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.monotonic() - started, 1),
        "plugins": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    for result in results:
        print(
            f"{result['plugin']}: growth x{result['growth_large_over_small']} for "
            f"x{result['volume_ratio']} the volume"
        )
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
