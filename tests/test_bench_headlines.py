"""The headline table gives each contender's CPU cost two ways: µs per record and per CPU-s."""

from __future__ import annotations

from bench import headlines


def test_rows_give_cpu_per_record_and_records_per_cpu_second() -> None:
    results = {
        "records": 200_000,
        "latencies": [
            {
                "latency_ms": 100,
                "medians": {
                    "target_5_lanes": {"records_per_s": 22_769, "cpu_us_per_record": 41.5},
                    "uploader_3x1000": {"records_per_s": 19_485, "cpu_us_per_record": 3.2},
                },
                "ratios": {"target_5_lanes_vs_uploader_3x1000": 1.17},
            }
        ],
    }
    (row,) = headlines.extract({"target_clevertap": results})
    # 1e6 / 41.5 = 24,096.4 and 1e6 / 3.2 = 312,500 records per CPU-second.
    assert row["ours"] == "22,769 records/s, 41.5 µs CPU/record (24,096 per CPU-second)"
    assert row["peer"] == "19,485 records/s, 3.2 µs CPU/record (312,500 per CPU-second)"
    assert row["ratio"] == "1.17x"


def test_a_rate_without_a_cpu_measure_stays_a_rate() -> None:
    results = {
        "records": 10,
        "latencies": [
            {
                "latency_ms": 0,
                "medians": {
                    "target_5_lanes": {"records_per_s": 1_000, "cpu_us_per_record": None},
                    "uploader_3x1000": {"records_per_s": 2_000, "cpu_us_per_record": None},
                },
                "ratios": {"target_5_lanes_vs_uploader_3x1000": 0.5},
            }
        ],
    }
    (row,) = headlines.extract({"target_clevertap": results})
    assert row["ours"] == "1,000 records/s"
    assert row["peer"] == "2,000 records/s"
