"""Fetch the next partitions on worker threads while the main thread emits the current one.

The SDK syncs partitions one after another. Each job (a partition) is produced by one worker
into its own queue, so every job's output keeps its order; the consumer reads the jobs in
order. Workers only start jobs within a small window ahead of the consumer. Jobs ahead of the
consumer keep fetching until their pages fill a shared byte budget (one page at least), so their
network waits overlap the consumer's work; the consumer's own job stays at most ``queue_depth``
items ahead of it. Memory stays bounded however large the account.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import typing as t
from dataclasses import dataclass

from tap_clevertap.client import Cancelled

logger = logging.getLogger("tap-clevertap.prefetch")

J = t.TypeVar("J")

#: Bytes of raw pages that jobs ahead of the consumer may hold.
DEFAULT_BUFFER_BYTES = 32 * 1024 * 1024


@dataclass(slots=True)
class _Done:
    pass


@dataclass(slots=True)
class _Failed:
    error: BaseException


Emit = t.Callable[[t.Any, int], None]
"""``emit(item, size_in_bytes)``: hand one item of a job to the consumer (blocks when full)."""


class OrderedPrefetcher(t.Generic[J]):
    """Runs ``produce(job, emit, stop)`` for each job on up to ``workers`` threads."""

    def __init__(
        self,
        jobs: t.Sequence[J],
        produce: t.Callable[[J, Emit, threading.Event], None],
        *,
        workers: int,
        queue_depth: int = 1,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
        name: str = "prefetch",
    ) -> None:
        """Start the workers right away."""
        self.jobs = list(jobs)
        self._produce = produce
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._queues: dict[int, queue.Queue[tuple[t.Any, int]]] = {}
        self._next_job = 0
        self._consuming = 0
        self._buffered = 0
        self._buffer_bytes = buffer_bytes
        self._depth = queue_depth
        self._lookahead = max(1, workers)
        count = max(1, min(workers, len(self.jobs)))
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(count)
        ]
        for thread in self._threads:
            thread.start()

    # -- consumer side ----------------------------------------------------------------

    def items(self, index: int) -> t.Iterator[t.Any]:
        """Yield job ``index``'s items in order; re-raise the job's error where it happened."""
        with self._cond:
            self._consuming = index
            self._cond.notify_all()
            while index not in self._queues:
                if self._stop.is_set():
                    raise Cancelled
                self._cond.wait(0.5)
            job_queue = self._queues[index]
        try:
            while True:
                try:
                    item, size = job_queue.get(timeout=1.0)
                except queue.Empty:
                    if not any(thread.is_alive() for thread in self._threads):
                        msg = "all prefetch workers stopped before finishing a partition"
                        raise RuntimeError(msg) from None
                    continue
                with self._cond:  # items are pages and markers, not records: cheap enough
                    self._buffered -= size
                    self._cond.notify_all()
                if isinstance(item, _Done):
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            with self._cond:
                self._queues.pop(index, None)

    def close(self) -> None:
        """Stop every worker (they unwind without another request) and wait for them."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        # A worker inside an HTTP call cannot be interrupted; it is a daemon thread and makes no
        # further call once it sees the stop flag, so do not hold up the run (or a signal) for it.
        deadline = time.monotonic() + 5
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    # -- worker side ----------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stop.is_set() and (
                    self._next_job < len(self.jobs)
                    and self._next_job > self._consuming + self._lookahead
                ):
                    self._cond.wait(0.5)
                if self._stop.is_set() or self._next_job >= len(self.jobs):
                    return
                index = self._next_job
                self._next_job += 1
                job_queue: queue.Queue[tuple[t.Any, int]] = queue.Queue()  # bounded in _put
                self._queues[index] = job_queue
                self._cond.notify_all()
            try:
                self._produce(self.jobs[index], self._emitter(index, job_queue), self._stop)
                self._put(index, job_queue, _Done(), 0)
            except Cancelled:
                return
            except BaseException as exc:
                try:
                    self._put(index, job_queue, _Failed(exc), 0)
                except Cancelled:
                    return

    def _emitter(self, index: int, job_queue: queue.Queue[tuple[t.Any, int]]) -> Emit:
        def emit(item: t.Any, size: int) -> None:
            self._put(index, job_queue, item, size)

        return emit

    def _put(
        self, index: int, job_queue: queue.Queue[tuple[t.Any, int]], item: t.Any, size: int
    ) -> None:
        with self._cond:
            # Jobs ahead of the consumer wait for budget (markers, size 0, never do); the
            # consumer's own job never does - it waits for its queue to have room - so the
            # pipeline cannot deadlock.
            while not self._stop.is_set() and (
                job_queue.qsize() >= self._depth
                if index == self._consuming
                else size and self._buffered + size > self._buffer_bytes and self._buffered > 0
            ):
                self._cond.wait(0.5)
            if self._stop.is_set():
                raise Cancelled
            self._buffered += size
            job_queue.put((item, size))


class PartitionPipeline(t.Generic[J]):
    """One prefetcher carried across the SDK's one-partition-at-a-time ``get_records`` calls.

    The SDK syncs partitions in order, one call each; the jobs of the partitions after the current
    one (one or more jobs per partition) already run on the worker threads. A call for any other
    partition than the next one starts a fresh pipeline at that partition.
    """

    def __init__(
        self,
        plan: t.Callable[[int], list[tuple[int, J]]],
        produce: t.Callable[[J, Emit, threading.Event], None],
        *,
        workers: int,
        name: str,
    ) -> None:
        """``plan(index)``: (partition index, job) for partitions ``index`` onwards, in order."""
        self._plan = plan
        self._produce = produce
        self._workers = workers
        self._name = name
        self._prefetcher: OrderedPrefetcher[J] | None = None
        self._ranges: dict[int, range] = {}
        self._next_index = 0

    def start(self, index: int) -> list[tuple[int, J]]:
        """(position, job) of partition ``index``'s jobs; read each with ``items(position)``."""
        if self._prefetcher is None or self._next_index != index:
            self.close()
            plan = self._plan(index)
            ranges: dict[int, range] = {}
            for position, (partition, _job) in enumerate(plan):
                current = ranges.get(partition)
                ranges[partition] = range(current.start if current else position, position + 1)
            self._ranges = ranges
            self._prefetcher = OrderedPrefetcher(
                [job for _, job in plan], self._produce, workers=self._workers, name=self._name
            )
        self._next_index = index + 1
        prefetcher = self._prefetcher
        return [(position, prefetcher.jobs[position]) for position in self._ranges.get(index, ())]

    def items(self, position: int) -> t.Iterator[t.Any]:
        """The items of the job at ``position``, in order (see OrderedPrefetcher.items)."""
        if self._prefetcher is None:
            msg = "PartitionPipeline.items() called before start()"
            raise RuntimeError(msg)
        return self._prefetcher.items(position)

    def close(self) -> None:
        """Stop the workers; the next start() builds a new pipeline."""
        if self._prefetcher is not None:
            self._prefetcher.close()
            self._prefetcher = None
