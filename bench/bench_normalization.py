"""Per-key cost of PropertyNameNormalizer.normalize() against a plain dict copy (the peer).

Records are 40-key, Segment-shaped trait/property mappings parsed from JSON (so every record has
fresh key objects, as in a Singer stream); names repeat across records, as they do in real streams.
Contenders run interleaved, one pass each per repetition; reports the median ns/key and the
median per-repetition ratio to ``dict(record)``; writes bench/results/normalization.json.

    .venv/bin/python bench/bench_normalization.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clevertap_segment_common.property_names import (
    DISTINCT_STRATEGIES,
    STRATEGIES,
    PropertyNameNormalizer,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from clevertap_segment_common.property_names import Strategy

KEYS_PER_RECORD = 40
RESULTS = Path(__file__).parent / "results" / "normalization.json"

# A realistic mix: sentence case (CleverTap exports), camelCase (apps), snake_case (warehouses),
# CleverTap system fields (kept as they are), acronyms and digits.
NAME_STEMS = [
    "Industry Of Traits",
    "First Name",
    "Last Name",
    "Plan Type",
    "Signup Source",
    "CT App Version",
    "Campaign Id",
    "Campaign name",
    "Journey Id",
    "Order Total",
    "userID",
    "accountStatus",
    "lastSeenAt",
    "deviceModel",
    "iOSVersion",
    "HTTPReferrer",
    "Item2Count",
    "2FA Enabled",
    "plan_interval",
    "utm_source",
    "utm_medium",
    "referral_code",
    "is_trial",
    "seats_purchased",
    "Name",
    "Email",
    "Phone",
    "Customer Type",
    "MSG-email",
    "Amount",
    "Favourite Colour",
    "Café Owner",
    "Product's Name",
    "Revenue (USD)",
    "$email",
    "Preferred Language",
    "Marketing Opt In",
    "Home City",
    "Loyalty Tier",
    "Lifetime Value",
]


def make_records(count: int) -> list[dict[str, Any]]:
    """``count`` records of 40 keys, parsed from JSON like a tap's output."""
    assert len(NAME_STEMS) == KEYS_PER_RECORD
    lines = []
    for index in range(count):
        values: list[Any] = [f"value {index}", index, index % 2 == 0, index * 1.5]
        record = {name: values[position % 4] for position, name in enumerate(NAME_STEMS)}
        lines.append(json.dumps(record))
    return [json.loads(line) for line in lines]


def time_per_key(work: Callable[[dict[str, Any]], object], records: list[dict[str, Any]]) -> float:
    """Nanoseconds per key of one pass of ``work`` over all records."""
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for record in records:
            work(record)
        elapsed = time.perf_counter_ns() - start
    finally:
        gc.enable()
    return elapsed / (len(records) * KEYS_PER_RECORD)


def uncached_microseconds_per_name(strategy: Strategy, names: list[str]) -> float:
    """Cost of one first-time conversion (cache miss), for the cold start of a stream."""
    convert = STRATEGIES[strategy]
    start = time.perf_counter_ns()
    for name in names:
        convert(name)
    return (time.perf_counter_ns() - start) / len(names) / 1000


def main() -> None:
    """Run the benchmark and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k keys, 3 repetitions")
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    key_count = 100_000 if arguments.quick else 1_000_000
    repetitions = 3 if arguments.quick else 7
    records = make_records(key_count // KEYS_PER_RECORD)

    normalizers = {strategy: PropertyNameNormalizer(strategy) for strategy in DISTINCT_STRATEGIES}
    for normalizer in normalizers.values():
        normalizer.normalize(records[0])  # first sight of each name fills the caches
    contenders: dict[str, Callable[[dict[str, Any]], object]] = {"dict copy": dict}
    contenders.update({name: normalizer.normalize for name, normalizer in normalizers.items()})
    # Interleaved, so every repetition sees the same machine load for every contender.
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repetitions):
        for name, work in contenders.items():
            runs[name].append(time_per_key(work, records))

    peer_runs = runs["dict copy"]
    peer = statistics.median(peer_runs)
    print(f"{'dict copy':>14}: {peer:7.1f} ns/key  (peer)")
    distinct_names = [f"{stem} {index}" for index in range(200) for stem in NAME_STEMS[:10]]
    results: dict[str, Any] = {}
    for strategy, normalizer in normalizers.items():
        median = statistics.median(runs[strategy])
        ratio = statistics.median(
            own / copy for own, copy in zip(runs[strategy], peer_runs, strict=True)
        )
        cold = uncached_microseconds_per_name(strategy, distinct_names)
        snapshot = normalizer.stats.snapshot()
        results[strategy] = {
            "ns_per_key_median": round(median, 1),
            "ns_per_key_runs": [round(run, 1) for run in runs[strategy]],
            "added_ns_per_key_vs_dict_copy": round(median - peer, 1),
            "ratio_vs_dict_copy_median": round(ratio, 2),
            "uncached_us_per_distinct_name": round(cold, 2),
            "keys_renamed_per_record": snapshot["keys_renamed"] // snapshot["records"],
        }
        print(
            f"{strategy:>14}: {median:7.1f} ns/key  (+{median - peer:6.1f} ns, "
            f"x{ratio:5.1f} dict copy; first sight of a name {cold:.2f} us)"
        )
    report = {
        "benchmark": "property-name normalization per key, records of 40 repeated keys",
        "mode": "quick" if arguments.quick else "full",
        "keys_per_repetition": len(records) * KEYS_PER_RECORD,
        "repetitions": repetitions,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "peer": {
            "name": "dict(record) copy",
            "ns_per_key_median": round(peer, 1),
            "ns_per_key_runs": [round(run, 1) for run in peer_runs],
        },
        "strategies": results,
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {arguments.output}")


if __name__ == "__main__":
    main()
