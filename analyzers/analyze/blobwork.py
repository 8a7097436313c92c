"""Summarising the blobs a history misses: proven where possible, on every core.

Blobs are taken in tag order. Each is first compared with the last blob parsed for its tag
class (the anchor): when :mod:`.reuse` proves the function untouched, the anchor's summary is
shifted and nothing is parsed. Otherwise the blob is parsed (incrementally from the last parsed
blob, :func:`~kvdiff.analyzers.parse.cparse.reparse`), the function located and, for a function
text not seen yet in this run, analysed by the rule engine; the blob becomes the new anchor.

With enough work and cores, :func:`run_claimed` runs it in forked worker processes that read
their blobs themselves, through the repositories they inherited (the history has fetched every
blob it needs before: no worker goes to the network). The indices (blobs here, tags in
:mod:`.tagwork`) are cut into one contiguous segment per two workers, and the two eat it from
either end, one index at a time, until they meet: a segment's blobs cost unevenly (a kernel
file grows, and a run of reused blobs costs a tenth of one that is parsed), and halves fixed in
advance left one worker idle for a fifth of the other's time. Each worker starts from a parse
of the first blob it takes; reuse and incremental parses work the same backwards. The results
come back through a pipe, in batches, each with its place, and are the same however the work
fell.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kvdiff.analyzers.analyze.reuse import Anchor, exact_edits, reuse

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.sharedctypes import SynchronizedArray

    from kvdiff.analyzers.analyze.summaries import BlobSummary, RulesPart, Summarizer

Job = tuple[str, str, str, str, bytes]  # tag, path, blob id, origin, and the blob's bytes
Emit = Callable[[int, Any], None]  # (index, value): a result of a stream
# A stream does the work of the indices it is given (lazily: taking the next index is asking
# for it), emitting results as it goes; the index it was at when it raises is the failure's.
Stream = Callable[[Iterable[int], Emit], None]

# Indices (blobs, tags) per worker at least: a worker costs a process and a parse of its first
# blob.
SEGMENT_MIN = 16
_END = "end"
_BATCH = 64  # results sent per message: a history's workers send one per tag
_NO_INDEX = 1 << 62  # a failure of no particular index sorts after every index's


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run_claimed(n: int, stream: Stream, settle: Callable[[Any], Any]) -> list[Any]:
    """``stream`` over the indices ``0..n-1``: the values it emits, by index. In this process
    (in order) when there are few, else in forked workers (each ``stream`` is given the indices
    it takes, lazily: an index is taken when the stream asks for the next); ``settle`` is
    applied to each value a worker sends back."""
    workers = min(_workers(), 4, n // SEGMENT_MIN)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        out: list[Any] = [None] * n

        def keep(index: int, value: Any) -> None:
            out[index] = value

        stream(range(n), keep)
        return out
    return _in_workers(n, stream, settle, workers)


def share(shared: dict[Any, Any], summary: BlobSummary) -> BlobSummary:
    """``summary`` with the one copy of its text and concepts that ``shared`` keeps: a worker's
    summaries arrive as copies, and hundreds of blobs share a few function texts."""
    if not summary.found:
        return summary
    concepts = shared.setdefault(summary.concepts, summary.concepts)
    return replace(summary, text=shared.setdefault(summary.text, summary.text), concepts=concepts)


def summarize_in_order(summarizer: Summarizer, jobs: Iterable[Job]) -> Iterator[BlobSummary]:
    """Summaries of consecutive ``jobs``, in this process."""
    from kvdiff.analyzers.analyze.summaries import complete

    parts: dict[str, RulesPart] = {}
    for summary, key, job, anchor in _located(summarizer, jobs):
        if key is not None and key not in parts:
            assert anchor.first is not None
            parts[key] = summarizer.analyse(*job[:4], anchor.parsed, anchor.first)
        yield summary if key is None else complete(summary, parts[key])


def _located(
    summarizer: Summarizer, jobs: Iterable[Job]
) -> Iterator[tuple[BlobSummary, str | None, Job, Anchor]]:
    """Each job's summary without the rules' part, that part's key (None: complete), the job
    and the anchor the summary came from."""
    anchors: dict[str, tuple[Anchor, str | None]] = {}
    latest: Anchor | None = None  # the last blob parsed, of any tag class: the next parse's base
    for job in jobs:
        tag_class = summarizer.tag_class(job[0])
        anchor, key = anchors.get(tag_class, (None, None))
        summary = edits = None
        if anchor is not None and (edits := exact_edits(anchor, job[4])) is not None:
            summary = reuse(anchor, job[4], edits)
        if summary is None:
            base = None
            if latest is not None and anchor is not latest:
                edits = exact_edits(latest, job[4])
            if latest is not None and edits is not None:
                base = (latest.parsed, [(e.old_start, e.old_end, e.new_length) for e in edits])
            summary, key, latest = summarizer.locate(*job, base=base)
            anchor = latest
            anchors[tag_class] = (anchor, key)
        yield summary, key, job, anchor


def _in_workers(n: int, stream: Stream, settle: Callable[[Any], Any], workers: int) -> list[Any]:
    # fork: the workers inherit the loaded parser and rules instead of re-importing them, and
    # the open repositories, which each reads its own blobs from (nothing else touches them
    # meanwhile: this process only waits for the results).
    context = multiprocessing.get_context("fork")
    pairs = (workers + 1) // 2
    bounds = [n * k // pairs for k in range(pairs + 1)]
    # Per segment, the next index from the front and from the back still to be taken.
    claims = [context.Array("q", [bounds[k], bounds[k + 1] - 1]) for k in range(pairs)]
    results: list[Any] = [None] * n
    done = [False] * n
    failures: list[tuple[int, BaseException]] = []
    drains: list[tuple[Connection, threading.Thread]] = []
    processes = []
    for w in range(workers):
        drain, worker_results = context.Pipe(duplex=False)
        claim = claims[w // 2]
        args = (stream, claim, w % 2 == 1, worker_results, [d for d, _ in drains])
        process = context.Process(target=_worker, args=args)
        process.start()
        worker_results.close()
        processes.append(process)
        draining = (drain, results, done, settle, failures)
        drains.append((drain, threading.Thread(target=_drain, args=draining)))
    for _, thread in drains:
        thread.start()
    for _, thread in drains:
        thread.join()
    for process in processes:
        process.join()
    if failures:
        # The first index in order that failed: every one before it was done (a worker stops
        # at its failure, and the other end of the segment only takes what is left).
        raise min(failures, key=lambda f: f[0])[1]
    if not all(done):  # pragma: no cover - every index is taken once
        raise RuntimeError("a summarising worker left blobs out")
    return results


def _drain(
    conn: Connection,
    out: list[Any],
    done: list[bool],
    settle: Callable[[Any], Any],
    failures: list[tuple[int, BaseException]],
) -> None:
    try:
        while (items := conn.recv()) != _END:
            for index, value in items:
                if isinstance(value, BaseException):
                    failures.append((index, value))
                    return
                out[index], done[index] = settle(value), True
    except EOFError:
        failures.append((_NO_INDEX, RuntimeError("a summarising worker process ended early")))
    except Exception as exc:  # e.g. an error object that does not unpickle
        failures.append(
            (_NO_INDEX, RuntimeError(f"a summarising worker's result is unreadable: {exc}"))
        )
    finally:
        conn.close()


class _Taken:
    """The indices one worker takes from its segment's shared claim, one at a time: the front
    or the back, while the two ends have not met; ``last`` is the one taken last."""

    def __init__(self, claim: SynchronizedArray, backward: bool) -> None:
        self.claim, self.backward, self.last = claim, backward, _NO_INDEX

    def __iter__(self) -> Iterator[int]:
        lock: AbstractContextManager[Any] = self.claim.get_lock()
        ends = self.claim.get_obj()  # read and written under the lock, once per index
        while True:
            with lock:
                front, back = ends[0], ends[1]
                if front > back:
                    return
                if self.backward:
                    ends[1] = back - 1
                else:
                    ends[0] = front + 1
            self.last = back if self.backward else front
            yield self.last


def _worker(
    stream: Stream,
    claim: SynchronizedArray,
    backward: bool,
    results: Connection,
    inherited: list[Connection],
) -> None:
    for conn in inherited:  # another worker's pipe: its end of file must not wait for us
        conn.close()
    # A worker lives for one history: summarising leaves about one object per blob in a
    # reference cycle, which the collector's passes over everything else (the parent's objects
    # too, whose pages each pass would copy) would not repay.
    gc.disable()
    taken = _Taken(claim, backward)
    batch: list[tuple[int, Any]] = []

    def emit(index: int, value: Any) -> None:
        batch.append((index, value))
        if len(batch) >= _BATCH:
            results.send(batch[:])
            batch.clear()

    try:
        stream(taken, emit)
        results.send(batch)
        results.send(_END)
    except BaseException as exc:
        try:
            results.send([*batch, (taken.last, exc)])
        except Exception:  # an exception that does not pickle: its text still does
            results.send([(taken.last, RuntimeError(f"{type(exc).__name__}: {exc}"))])
    finally:
        results.close()
