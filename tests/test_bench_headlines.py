"""The headline table gives each contender's CPU cost two ways: µs per record and per CPU-s."""

from __future__ import annotations

import typing as t

from bench import headlines


def _clevertap_row(ours: tuple[int, float | None], peer: tuple[int, float | None]) -> t.Any:
    """The one headline row of a target_clevertap results file (rate, CPU µs) per contender."""
    results = {
        "records": 200_000,
        "latencies": [
            {
                "latency_ms": 100,
                "medians": {
                    name: {"records_per_s": rate, "cpu_us_per_record": cpu}
                    for name, (rate, cpu) in (("target_5_lanes", ours), ("uploader_3x1000", peer))
                },
                "ratios": {"target_5_lanes_vs_uploader_3x1000": 1.17},
            }
        ],
    }
    (row,) = headlines.extract({"target_clevertap": results})
    return row


def test_rows_give_cpu_per_record_and_records_per_cpu_second() -> None:
    row = _clevertap_row((22_769, 41.5), (19_485, 3.2))
    # 1e6 / 41.5 = 24,096.4 and 1e6 / 3.2 = 312,500 records per CPU-second.
    assert row["ours"] == "22,769 records/s, 41.5 µs CPU/record (24,096 per CPU-second)"
    assert row["peer"] == "19,485 records/s, 3.2 µs CPU/record (312,500 per CPU-second)"
    assert row["ratio"] == "1.17x"


def test_a_rate_without_a_cpu_measure_stays_a_rate() -> None:
    row = _clevertap_row((1_000, None), (2_000, None))
    assert row["ours"] == "1,000 records/s"
    assert row["peer"] == "2,000 records/s"
