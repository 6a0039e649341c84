"""The ordered prefetcher: order per job, errors in order, bounded look-ahead, clean stop."""

from __future__ import annotations

import threading
import time

import pytest
from tap_clevertap.prefetch import OrderedPrefetcher


def test_jobs_come_out_in_order_with_their_items_in_order():
    def produce(job, emit, stop):
        for i in range(job):
            emit((job, i), 10)

    jobs = [5, 0, 3, 7, 1]
    prefetcher = OrderedPrefetcher(jobs, produce, workers=3)
    out = [list(prefetcher.items(index)) for index in range(len(jobs))]
    prefetcher.close()
    assert out == [[(job, i) for i in range(job)] for job in jobs]


def test_an_error_surfaces_at_its_job_after_earlier_jobs_complete():
    def produce(job, emit, stop):
        emit(job, 1)
        if job == 2:
            raise ValueError("boom at 2")

    prefetcher = OrderedPrefetcher([0, 1, 2, 3], produce, workers=3)
    assert list(prefetcher.items(0)) == [0]
    assert list(prefetcher.items(1)) == [1]
    items = prefetcher.items(2)
    assert next(items) == 2
    with pytest.raises(ValueError, match="boom at 2"):
        next(items)
    prefetcher.close()


def test_workers_stay_within_the_lookahead_window():
    started: list[int] = []
    lock = threading.Lock()

    def produce(job, emit, stop):
        with lock:
            started.append(job)
        emit(job, 1)

    prefetcher = OrderedPrefetcher(list(range(20)), produce, workers=2)
    time.sleep(0.3)
    with lock:
        assert max(started) <= 2  # consumer at job 0, look-ahead of 2 jobs
    for index in range(20):
        assert list(prefetcher.items(index)) == [index]
    prefetcher.close()
    assert sorted(started) == list(range(20))


def test_byte_budget_holds_back_jobs_ahead_but_never_the_current_one():
    def produce(job, emit, stop):
        for i in range(4):
            emit((job, i), 100)

    prefetcher = OrderedPrefetcher([0, 1, 2], produce, workers=3, queue_depth=2, buffer_bytes=150)
    assert [list(prefetcher.items(i)) for i in range(3)] == [
        [(job, i) for i in range(4)] for job in range(3)
    ]
    prefetcher.close()


def test_close_stops_blocked_workers():
    calls = []

    def produce(job, emit, stop):
        for i in range(1000):
            calls.append(i)
            emit(i, 1)

    prefetcher = OrderedPrefetcher([0, 1, 2], produce, workers=3, queue_depth=1, buffer_bytes=5)
    items = prefetcher.items(0)
    assert next(items) == 0
    prefetcher.close()
    assert all(not thread.is_alive() for thread in prefetcher._threads)
    assert len(calls) < 20


def test_jobs_ahead_keep_fetching_within_the_budget():
    """Their network waits overlap: jobs ahead do not stop after one item."""
    produced: list[tuple[int, int]] = []
    lock = threading.Lock()

    def produce(job, emit, stop):
        for i in range(5):
            time.sleep(0.01)  # a page's network wait
            with lock:
                produced.append((job, i))
            emit((job, i), 10)

    prefetcher = OrderedPrefetcher([0, 1, 2], produce, workers=3, queue_depth=1, buffer_bytes=100)
    items = prefetcher.items(0)
    assert next(items) == (0, 0)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with lock:
            ahead = [i for job, i in produced if job]
        if len(ahead) == 10:
            break
        time.sleep(0.01)
    assert sorted(ahead) == sorted([*range(5), *range(5)])  # all of jobs 1 and 2: 100 bytes
    assert [*items] == [(0, i) for i in range(1, 5)]
    assert [list(prefetcher.items(i)) for i in (1, 2)] == [
        [(j, i) for i in range(5)] for j in (1, 2)
    ]
    prefetcher.close()
