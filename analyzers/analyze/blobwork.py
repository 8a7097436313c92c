"""Summarising the blobs a history misses: in runs of consecutive blobs, on every core.

Consecutive blobs of a file mostly differ away from the function, so each run keeps the last
blob it summarised in full as an anchor per tag class and proves what it can from it
(:mod:`.reuse`); only the others are parsed. Runs of :data:`CHUNK` blobs go to forked worker
processes when there are enough of them; the summaries are the same either way, in order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import TYPE_CHECKING

from kvdiff.analyzers.analyze.reuse import Anchor, exact_edits, reuse

if TYPE_CHECKING:
    from kvdiff.analyzers.analyze.summaries import BlobSummary, Summarizer

Job = tuple[str, str, str, str, bytes]  # tag, path, blob id, origin, data

# Blobs per run: each run starts with one full parse, and at most two runs per worker are in
# flight, so memory stays flat however many blobs miss.
CHUNK = 32
# Below this many blobs, starting worker processes costs more than it saves.
PARALLEL_MIN = 2 * CHUNK
_worker_summarizer: Summarizer | None = None


def summarize_run(summarizer: Summarizer, jobs: Iterable[Job]) -> Iterator[BlobSummary]:
    """Summaries of consecutive ``jobs``, reusing an anchor's wherever :func:`reuse` proves it."""
    anchors: dict[str, Anchor] = {}
    latest: Anchor | None = None  # the last blob parsed, of any tag class: the next parse's base
    for job in jobs:
        tag_class = summarizer.tag_class(job[0])
        anchor = anchors.get(tag_class)
        summary = edits = None
        if anchor is not None and (edits := exact_edits(anchor, job[4])) is not None:
            summary = reuse(anchor, job[4], edits)
        if summary is None:
            base = None
            if latest is not None and anchor is not latest:
                edits = exact_edits(latest, job[4])
            if latest is not None and edits is not None:
                base = (latest.parsed, [(e.old_start, e.old_end, e.new_length) for e in edits])
            summary, latest = summarizer.summarize_anchored(*job, base=base)
            anchors[tag_class] = latest
        yield summary


def _init_worker(summarizer: Summarizer) -> None:
    global _worker_summarizer
    _worker_summarizer = summarizer


def _work(jobs: list[Job]) -> list[BlobSummary]:
    assert _worker_summarizer is not None
    return list(summarize_run(_worker_summarizer, jobs))


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def summarize_all(summarizer: Summarizer, jobs: Iterator[Job], count: int) -> Iterator[BlobSummary]:
    """Summaries of ``jobs`` in order; on several cores, runs of them in forked workers."""
    workers = min(_workers(), 4, -(-count // CHUNK))
    if workers < 2 or count < PARALLEL_MIN or "fork" not in multiprocessing.get_all_start_methods():
        yield from summarize_run(summarizer, jobs)
        return
    # fork: the workers inherit the loaded parser and rules instead of re-importing them.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, context, _init_worker, (summarizer,)) as pool:
        pending: list[Future[list[BlobSummary]]] = []
        while run := list(islice(jobs, CHUNK)):
            pending.append(pool.submit(_work, run))
            if len(pending) >= 2 * workers:
                yield from pending.pop(0).result()
        for future in pending:
            yield from future.result()
