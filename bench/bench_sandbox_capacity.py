"""Capacity of the API sandbox: how fast it serves the workloads the plugins put on it.

Measures, against a sandbox started in its own process:
- export records/s through one cursor chain, and through 3 chains in parallel (CleverTap's
  export concurrency limit), with the full record shape (profile, profileData, event summary);
- 1000-record /1/upload requests per second (sequential and 15 in parallel);
- Segment /v1/batch messages per second (sequential and 4 in parallel).

Client-side JSON parsing (orjson) is included in the export numbers, so they are what a
connector can get at best. Results go to bench/results/sandbox_capacity.json.

    .venv/bin/python bench/bench_sandbox_capacity.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import requests
from clevertap_segment_sandbox import SandboxProcess

TODAY = date(2026, 11, 20)
RESULTS = Path(__file__).parent / "results" / "sandbox_capacity.json"
HEADERS = {
    "X-CleverTap-Account-Id": "SANDBOX-ACCOUNT",
    "X-CleverTap-Passcode": "sandbox-passcode",
    "Content-Type": "application/json",
}


def export_chain(
    base: str, event: str, day: int, query: str = "", parse: bool = True
) -> tuple[int, int, int]:
    """Walk one cursor chain to its end; returns (records, pages, bytes).

    Without `parse`, pages are not decoded: records are counted and the next cursor found by
    scanning the bytes, which measures what the server delivers rather than client decoding.
    """
    session = requests.Session()
    opened = session.post(
        f"{base}/1/events.json?batch_size=5000{query}",
        headers=HEADERS,
        data=orjson.dumps({"event_name": event, "from": day, "to": day}),
        timeout=120,
    ).json()
    cursor, records, pages, size = opened["cursor"], 0, 0, 0
    while True:
        response = session.get(
            f"{base}/1/events.json?cursor={cursor}", headers=HEADERS, timeout=120
        )
        body = response.content
        size += len(body)
        pages += 1
        if parse:
            page = orjson.loads(body)
            records += len(page.get("records", ()))
            next_cursor = page.get("next_cursor")
        else:
            records += body.count(b'{"profile":')
            prefix = b'{"next_cursor":"'
            found = body.startswith(prefix)
            next_cursor = (
                body[len(prefix) : body.index(b'"', len(prefix))].decode() if found else None
            )
        if next_cursor is None:
            session.close()
            return records, pages, size
        cursor = next_cursor


def timed_chain(
    base: str, event: str, day: int, query: str = "", parse: bool = True
) -> dict[str, Any]:
    """One chain with its throughput."""
    started = time.perf_counter()
    records, pages, size = export_chain(base, event, day, query, parse)
    seconds = time.perf_counter() - started
    return {
        "event": event,
        "records": records,
        "pages": pages,
        "megabytes": round(size / 1e6, 1),
        "bytes_per_record": size // max(records, 1),
        "seconds": round(seconds, 2),
        "records_per_second": round(records / seconds),
    }


def bench_exports(base: str) -> dict[str, Any]:
    """Full record shape (first and second pass), slim shape, and 3 chains in parallel."""
    day = int((TODAY - timedelta(days=1)).strftime("%Y%m%d"))
    first = timed_chain(base, "App Launched", day)
    second = timed_chain(base, "App Launched", day)
    unparsed = timed_chain(base, "App Launched", day, parse=False)
    slim = timed_chain(base, "App Launched", day, "&app=false&events=false&profile=false")
    events = ("App Launched", "Product Viewed", "Search")
    started = time.perf_counter()
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda e: export_chain(base, e, day), events))
    parallel = time.perf_counter() - started
    parallel_records = sum(r[0] for r in results)
    return {
        "single_chain_full_shape_first_pass": first,
        "single_chain_full_shape_second_pass": second,
        "single_chain_full_shape_not_decoded_by_client": unparsed,
        "single_chain_slim_shape": slim,
        "three_parallel_chains_full_shape": {
            "records": parallel_records,
            "megabytes": round(sum(r[2] for r in results) / 1e6, 1),
            "seconds": round(parallel, 2),
            "records_per_second": round(parallel_records / parallel),
        },
    }


def upload_body(batch: int) -> bytes:
    records: list[dict[str, Any]] = []
    for i in range(1000):
        if i % 4 == 0:
            records.append(
                {
                    "type": "profile",
                    "identity": f"user-{batch}-{i}",
                    "ts": 1_790_000_000 + i,
                    "profileData": {
                        "Name": "Jack Sparrow",
                        "Email": f"jack{i}@example.com",
                        "Phone": "+14155551234",
                        "Gender": "M",
                        "industry_of_traits": "Retail",
                        "points": i,
                    },
                }
            )
        else:
            records.append(
                {
                    "type": "event",
                    "identity": f"user-{batch}-{i % 250}",
                    "ts": 1_790_000_000 + i,
                    "evtName": "Product Viewed",
                    "evtData": {
                        "Product Name": "Hazelnut Cold Brew",
                        "productId": f"SKU-{i}",
                        "Price": 42.5,
                        "Category": "Coffee",
                        "In Stock": True,
                    },
                }
            )
    return orjson.dumps({"d": records})


def bench_uploads(base: str, requests_count: int) -> dict[str, Any]:
    bodies = [upload_body(b) for b in range(requests_count)]
    session = requests.Session()
    started = time.perf_counter()
    for body in bodies:
        answer = session.post(f"{base}/1/upload", headers=HEADERS, data=body).json()
        assert answer["status"] == "success", answer
    sequential = time.perf_counter() - started

    def post(body: bytes) -> int:
        return requests.post(f"{base}/1/upload", headers=HEADERS, data=body, timeout=30).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(15) as pool:
        statuses = list(pool.map(post, bodies))
    parallel = time.perf_counter() - started
    return {
        "records_per_request": 1000,
        "requests": requests_count,
        "sequential_requests_per_second": round(requests_count / sequential, 1),
        "parallel_15_requests_per_second": round(requests_count / parallel, 1),
        "parallel_statuses": {str(s): statuses.count(s) for s in set(statuses)},
    }


def segment_body(batch: int, size: int) -> bytes:
    items = [
        {
            "type": "track",
            "userId": f"user-{i % 300}",
            "event": "Product Viewed",
            "messageId": f"bench-{batch}-{i}",
            "timestamp": "2026-11-19T10:00:00.000Z",
            "properties": {"product_name": "Matcha Frappe", "price": 45.0, "category": "Coffee"},
            "context": {"library": {"name": "bench", "version": "1"}},
        }
        for i in range(size)
    ]
    return orjson.dumps({"batch": items})


def bench_segment(base: str, batches: int, size: int) -> dict[str, Any]:
    auth = ("sandbox-write-key", "")
    bodies = [segment_body(b, size) for b in range(batches * 2)]
    session = requests.Session()
    started = time.perf_counter()
    for body in bodies[:batches]:
        session.post(
            f"{base}/v1/batch", auth=auth, data=body, headers={"Content-Type": "application/json"}
        )
    sequential = time.perf_counter() - started

    def post(body: bytes) -> int:
        return requests.post(
            f"{base}/v1/batch",
            auth=auth,
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        ).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(post, bodies[batches:]))
    parallel = time.perf_counter() - started
    return {
        "messages_per_batch": size,
        "bytes_per_batch": len(bodies[0]),
        "batches": batches,
        "sequential_messages_per_second": round(batches * size / sequential),
        "parallel_4_messages_per_second": round(batches * size / parallel),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller volume, a few seconds")
    args = parser.parse_args()
    per_day = 3000 if args.quick else 20000
    volume = {"days": 2, "events_per_day": per_day, "profiles": 5000}
    with SandboxProcess(today=TODAY, days=2, events_per_day=per_day, profiles=5000) as sandbox:
        summary = sandbox.client.seed_summary(event_profiles=False)
        exports = bench_exports(sandbox.clevertap_url)
        uploads = bench_uploads(sandbox.clevertap_url, 10 if args.quick else 60)
        segment = bench_segment(sandbox.segment_url, 10 if args.quick else 60, 500)
        stats = sandbox.client.clevertap_stats()
    result = {
        "quick": args.quick,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "sandbox": {**volume, "seeded_events": summary["total_events"]},
        "exports": exports,
        "uploads": uploads,
        "segment": segment,
        "max_concurrent_seen": stats["max_concurrent"],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
