"""Blob summaries in blobwork's worker pool (analyze/blobwork.py, one blob per index): the same
as in order, and a failure on either side of the pipes surfaces in the caller instead of
hanging. The history's own stream (tags, analyze/tagwork.py) is tested in test_tagwork.py."""

from __future__ import annotations

from pathlib import Path

import kvdiff.analyzers.analyze.blobwork as blobwork
import pytest
from kvdiff.analyzers.analyze.ruleset import load_rule_set
from kvdiff.analyzers.analyze.summaries import Summarizer
from kvdiff.analyzers.errors import DamagedTag

TAGS = ("v2.6.35", "v5.1", "v5.10.37")


def summarize_all(summarizer: Summarizer, specs, read) -> list:
    """The summaries of the blobs ``specs`` (tag, path, blob id, origin) name, in order, through
    blobwork's pool: each index is a blob, ``read`` gives its bytes."""

    def stream(indices, emit) -> None:
        taken: list[int] = []

        def jobs():
            for i in indices:
                taken.append(i)
                yield (*specs[i], read(specs[i]))

        for summary in blobwork.summarize_in_order(summarizer, jobs()):
            emit(taken.pop(), summary)

    shared: dict = {}
    return blobwork.run_claimed(len(specs), stream, lambda value: blobwork.share(shared, value))


def _blobs(corpus: Path) -> dict[str, bytes]:
    out = {}
    for tag in TAGS:
        data = (corpus / tag / "mm" / "rmap.c").read_bytes()
        body = data.find(b"{\n", data.find(b"try_to_unmap_one(")) + 2
        for k in range(8):  # a comment line near the top, then one inside the function
            edited = data[:body] + b"\t/* r %d */\n" % (k // 3) + data[body:]
            first = edited.find(b"\n") + 1
            blob = edited[:first] + b" * revision %d\n" % k + edited[first:]
            out[f"{tag}-{k}"] = blob
    return out


def test_workers_give_the_summaries_in_order(corpus: Path, monkeypatch) -> None:
    blobs = _blobs(corpus)
    specs = [(name.split("-")[0], "mm/rmap.c", name, "o") for name in blobs]
    summarizer = Summarizer("try_to_unmap_one", load_rule_set(), "test")
    monkeypatch.setattr(blobwork, "SEGMENT_MIN", 4)
    monkeypatch.setattr(blobwork, "_workers", lambda: 3)
    parallel = summarize_all(summarizer, specs, lambda s: blobs[s[2]])
    fresh = Summarizer("try_to_unmap_one", load_rule_set(), "test")
    assert parallel == [fresh.summarize(*s, blobs[s[2]]) for s in specs]
    assert len({s.text for s in parallel}) == 9  # three function texts in each of three files


@pytest.mark.parametrize(
    "error",
    [
        LookupError("blob v5.1-3 cannot be read"),
        DamagedTag("the cache is damaged at tag v5.1-3; run kvdiff fetch --repair", "v5.1-3"),
    ],
)
def test_a_blob_that_cannot_be_read_fails_the_call(
    corpus: Path, monkeypatch, error: Exception
) -> None:
    """Workers read their blobs: the error of a read reaches the caller as itself (a
    KvdiffError is then one line of the CLI, not a traceback)."""
    blobs = _blobs(corpus)
    specs = [(name.split("-")[0], "mm/rmap.c", name, "o") for name in blobs]

    def read(spec):
        if spec[2] == "v5.1-3":
            raise error
        return blobs[spec[2]]

    monkeypatch.setattr(blobwork, "SEGMENT_MIN", 4)
    monkeypatch.setattr(blobwork, "_workers", lambda: 2)
    summarizer = Summarizer("try_to_unmap_one", load_rule_set(), "test")
    with pytest.raises(type(error), match="v5.1-3") as raised:
        summarize_all(summarizer, specs, read)
    assert str(raised.value) == str(error) and getattr(raised.value, "tag", None) == getattr(
        error, "tag", None
    )


def test_a_failing_worker_fails_the_call(corpus: Path, monkeypatch) -> None:
    blobs = _blobs(corpus)
    specs = [(name.split("-")[0], "mm/rmap.c", name, "o") for name in blobs]
    summarizer = Summarizer("try_to_unmap_one", load_rule_set(), "test")

    def broken(*args, **kwargs):
        raise ValueError("the rule engine broke")

    monkeypatch.setattr(summarizer, "analyse", broken)  # inherited by the forked workers
    monkeypatch.setattr(blobwork, "SEGMENT_MIN", 4)
    monkeypatch.setattr(blobwork, "_workers", lambda: 2)
    with pytest.raises(ValueError, match="rule engine broke"):
        summarize_all(summarizer, specs, lambda s: blobs[s[2]])


def test_the_two_workers_of_a_segment_meet_where_the_work_is_even(
    corpus: Path, monkeypatch, tmp_path: Path
) -> None:
    """Two workers eat one segment from either end: when the blobs of one half are slow to
    read, the worker on the other half takes more than its half, and each blob is summarised
    exactly once, in its place."""
    import os
    import time

    blobs = _blobs(corpus)
    specs = [(name.split("-")[0], "mm/rmap.c", name, "o") for name in blobs]
    slow = {s[2] for s in specs[: len(specs) // 2]}
    log = tmp_path / "reads"

    def read(spec):
        with log.open("a") as f:
            f.write(f"{os.getpid()} {spec[2]}\n")
        if spec[2] in slow:
            time.sleep(0.2)
        return blobs[spec[2]]

    monkeypatch.setattr(blobwork, "SEGMENT_MIN", 4)
    monkeypatch.setattr(blobwork, "_workers", lambda: 2)
    summarizer = Summarizer("try_to_unmap_one", load_rule_set(), "test")
    parallel = summarize_all(summarizer, specs, read)
    fresh = Summarizer("try_to_unmap_one", load_rule_set(), "test")
    assert parallel == [fresh.summarize(*s, blobs[s[2]]) for s in specs]
    reads = [line.split() for line in log.read_text().splitlines()]
    assert sorted(name for _, name in reads) == sorted(blobs)  # each once
    by_worker: dict[str, list[str]] = {}
    for pid, name in reads:
        by_worker.setdefault(pid, []).append(name)
    assert len(by_worker) == 2
    front, back = sorted(by_worker.values(), key=lambda names: names[0] not in slow)
    assert front[0] == specs[0][2] and back[0] == specs[-1][2]
    assert len(back) > len(specs) // 2 + 2  # the fast end took part of the slow half


def test_of_two_failing_blobs_the_first_in_order_is_raised(corpus: Path, monkeypatch) -> None:
    """Whichever worker fails first in time, the error is the one a summary in order meets
    first (the same on every run)."""
    import time

    blobs = _blobs(corpus)
    specs = [(name.split("-")[0], "mm/rmap.c", name, "o") for name in blobs]
    early, late = specs[3][2], specs[-2][2]

    def read(spec):
        if spec[2] == early:
            time.sleep(0.3)  # the later failure happens first
            raise LookupError(f"blob {early} cannot be read")
        if spec[2] == late:
            raise LookupError(f"blob {late} cannot be read")
        return blobs[spec[2]]

    monkeypatch.setattr(blobwork, "SEGMENT_MIN", 4)
    monkeypatch.setattr(blobwork, "_workers", lambda: 2)
    summarizer = Summarizer("try_to_unmap_one", load_rule_set(), "test")
    with pytest.raises(LookupError, match=early):
        summarize_all(summarizer, specs, read)
