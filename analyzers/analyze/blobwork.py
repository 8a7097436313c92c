"""Summarising the blobs a history misses: proven where possible, on every core.

Blobs are taken in tag order. Each is first compared with the last blob parsed for its tag
class (the anchor): when :mod:`.reuse` proves the function untouched, the anchor's summary is
shifted and nothing is parsed. Otherwise the blob is parsed (incrementally from the last parsed
blob, :func:`~kvdiff.analyzers.parse.cparse.reparse`), the function located and, for a function
text not seen yet in this run, analysed by the rule engine; the blob becomes the new anchor.

With enough blobs and cores, the tag order is cut into one contiguous segment per core, each
summarised that way in a forked worker process that reads its blobs itself, through the
repositories it inherited (the history has fetched every blob it needs before: no worker goes
to the network); every segment starts from a parse of its first blob. The summaries come back
through a pipe, and are the same either way.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kvdiff.analyzers.analyze.reuse import Anchor, exact_edits, reuse

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from kvdiff.analyzers.analyze.summaries import BlobSummary, RulesPart, Summarizer

Spec = tuple[str, str, str, str]  # tag, path, blob id, origin
Job = tuple[str, str, str, str, bytes]  # the same, and the blob's bytes

# Blobs per segment at least: a segment costs a worker process and a parse of its first blob.
SEGMENT_MIN = 16
_END = "end"


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def summarize_all(
    summarizer: Summarizer, specs: Sequence[Spec], read: Callable[[Spec], bytes]
) -> list[BlobSummary]:
    """The summaries of the blobs ``specs`` name, in order; ``read`` gives a blob's bytes."""
    workers = min(_workers(), 4, len(specs) // SEGMENT_MIN)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return list(summarize_in_order(summarizer, ((*s, read(s)) for s in specs)))
    bounds = [len(specs) * k // workers for k in range(workers + 1)]
    segments = [specs[bounds[k] : bounds[k + 1]] for k in range(workers)]
    return _in_workers(summarizer, segments, read)


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


def _in_workers(
    summarizer: Summarizer, segments: list[Sequence[Spec]], read: Callable[[Spec], bytes]
) -> list[BlobSummary]:
    # fork: the workers inherit the loaded parser and rules instead of re-importing them, and
    # the open repositories, which each reads its own segment's blobs from (nothing else
    # touches them meanwhile: this process only waits for the summaries).
    context = multiprocessing.get_context("fork")
    results: list[list[Any]] = [[] for _ in segments]
    failures: list[BaseException] = []
    shared: dict[Any, Any] = {}  # one copy of each function text and concept tuple
    drains: list[tuple[Connection, threading.Thread]] = []
    processes = []
    for k, segment in enumerate(segments):
        drain, worker_results = context.Pipe(duplex=False)
        args = (summarizer, segment, read, worker_results, [d for d, _ in drains])
        process = context.Process(target=_worker, args=args)
        process.start()
        worker_results.close()
        processes.append(process)
        draining = (drain, results[k], shared, failures)
        drains.append((drain, threading.Thread(target=_drain, args=draining)))
    for _, thread in drains:
        thread.start()
    for _, thread in drains:
        thread.join()
    for process in processes:
        process.join()
    if failures:
        raise failures[0]
    return [summary for segment in results for summary in segment]


def _drain(
    conn: Connection, out: list[Any], shared: dict[Any, Any], failures: list[BaseException]
) -> None:
    try:
        while (item := conn.recv()) != _END:
            if isinstance(item, BaseException):
                failures.append(item)
                break
            if item.found:  # one copy of each text and concept tuple, however many blobs
                concepts = shared.setdefault(item.concepts, item.concepts)
                item = replace(
                    item, text=shared.setdefault(item.text, item.text), concepts=concepts
                )
            out.append(item)
    except EOFError:
        failures.append(RuntimeError("a summarising worker process ended without its results"))
    except Exception as exc:  # e.g. an error object that does not unpickle
        failures.append(RuntimeError(f"a summarising worker's result is unreadable: {exc}"))
    finally:
        conn.close()


def _worker(
    summarizer: Summarizer,
    segment: Sequence[Spec],
    read: Callable[[Spec], bytes],
    results: Connection,
    inherited: list[Connection],
) -> None:
    for conn in inherited:  # another worker's pipe: its end of file must not wait for us
        conn.close()
    try:
        for summary in summarize_in_order(summarizer, ((*s, read(s)) for s in segment)):
            results.send(summary)
        results.send(_END)
    except BaseException as exc:
        try:
            results.send(exc)
        except Exception:  # an exception that does not pickle: its text still does
            results.send(RuntimeError(f"{type(exc).__name__}: {exc}"))
    finally:
        results.close()
