"""Tags to blobs to summaries (analyze/tagwork.py): in workers that resolve and summarise
together, the same tags, summaries, counts and damaged tags as in order, and the result cache
answers a second run without reading a blob."""

from __future__ import annotations

import os
from pathlib import Path

import kvdiff.analyzers.analyze.blobwork as blobwork
import pytest
from kvdiff.analyzers.analyze.resultcache import ResultCache
from kvdiff.analyzers.analyze.ruleset import load_rule_set
from kvdiff.analyzers.analyze.summaries import Summarizer
from kvdiff.analyzers.analyze.tagwork import summarize_tags
from kvdiff.analyzers.errors import DamagedTag

BASE = (Path(__file__).parent.parent / "fixtures" / "c" / "rules_old.c").read_bytes()


def _variant(k: int) -> bytes:
    """``BASE`` with a comment line on top (k), and for k >= 3 an edit inside the function."""
    data = b"/* revision %d */\n" % k + BASE
    return data.replace(b"goto out_unmap;", b"goto out;", 1) if k >= 3 else data


BLOBS = {f"blob{k}": _variant(k) for k in range(6)}
# 40 tags: runs of blobs, a tag whose tree lacks the file, a damaged one, and blob0 again at
# the end (a revert: met by the backward worker first, at the last tag).
PLAN = ["blob0"] * 6 + ["blob1"] * 5 + [None] + ["blob2"] * 7 + ["damaged"] + ["blob3"] * 6
PLAN += ["blob4"] * 6 + ["blob5"] * 6 + ["blob0"] * 2
TAGS = [(f"v2.6.{n}", "synthetic") for n in range(len(PLAN))]


def _slots() -> int:
    """Distinct (blob, tag class) pairs: the rules' history tells some of these tags apart."""
    summarizer = Summarizer("try_to_unmap_one", load_rule_set(), "test")
    pairs = {(b, summarizer.tag_class(t)) for b, (t, _) in zip(PLAN, TAGS, strict=True)}
    return len({p for p in pairs if p[0] not in (None, "damaged")})


def _run(monkeypatch, tmp_path: Path, workers: int, cache: ResultCache | None = None):
    reads = tmp_path / f"reads-{workers}-{cache is not None}"
    reads.write_text("")

    def blob_of(tag: str) -> str | None:
        planned = PLAN[int(tag.rsplit(".", 1)[1])]
        if planned == "damaged":
            raise DamagedTag(f"the cache is damaged at tag {tag}; run kvdiff fetch --repair", tag)
        return planned

    def read(tag: str, blob_id: str) -> bytes:
        with reads.open("a") as f:
            f.write(f"{os.getpid()} {blob_id}\n")
        return BLOBS[blob_id]

    if workers < 2:
        monkeypatch.setattr(blobwork, "SEGMENT_MIN", 10**9)
    else:
        monkeypatch.setattr(blobwork, "SEGMENT_MIN", 2)
        monkeypatch.setattr(blobwork, "_workers", lambda: workers)
    summarizer = Summarizer("try_to_unmap_one", load_rule_set(), "test")
    got = summarize_tags(TAGS, "mm/rmap.c", blob_of, read, summarizer, cache)
    return got, [line.split() for line in reads.read_text().splitlines()]


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_resolve_and_summarise_as_in_order(
    monkeypatch, tmp_path: Path, workers: int
) -> None:
    (serial_tags, serial, serial_damaged), serial_reads = _run(monkeypatch, tmp_path, 1)
    (tags, summaries, damaged), reads = _run(monkeypatch, tmp_path, workers)
    assert tags == serial_tags and summaries == serial
    assert [d.tag for d in damaged] == [d.tag for d in serial_damaged] == ["v2.6.19"]
    assert len(tags) == len(TAGS) - 1 and tags[11].blob_id is None
    slots = _slots()
    assert (summaries.distinct, summaries.analysed, summaries.cache_hits) == (slots, slots, 0)
    assert len(serial_reads) == slots  # in order: each (blob, tag class) once
    # In workers, each by each worker meeting it first, at most.
    assert {b for _, b in reads} == set(BLOBS)
    per_worker: dict[str, int] = {}
    for pid, _ in reads:
        per_worker[pid] = per_worker.get(pid, 0) + 1
    # Reads are the workers' (one may take every tag before another starts, on a busy machine).
    assert str(os.getpid()) not in per_worker and 1 <= len(per_worker) <= workers
    assert all(n <= slots for n in per_worker.values())
    texts = {summaries.by_tag[t].text for t, _ in TAGS if t in summaries.by_tag}
    assert len(texts) == 2  # the edit inside the function makes the second text


def test_a_second_run_reads_no_blob(monkeypatch, tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "results")
    (tags, first, _), reads = _run(monkeypatch, tmp_path, 2, cache)
    slots = _slots()
    assert first.analysed == slots and len(reads) >= slots > len(BLOBS)
    (again_tags, again, damaged), reads = _run(monkeypatch, tmp_path, 2, cache)
    assert reads == [] and again_tags == tags and again.by_tag == first.by_tag
    assert (again.analysed, again.cache_hits, again.distinct) == (0, slots, slots)
    assert [d.tag for d in damaged] == ["v2.6.19"]


def test_a_failure_in_a_worker_is_the_first_in_order(monkeypatch, tmp_path: Path) -> None:
    """A blob that cannot be read fails the call with its own error (not a damaged tag left
    out), the same one however the tags fell to the workers."""
    monkeypatch.setitem(BLOBS, "blob4", None)  # read() returns None: cannot be read
    for workers in (1, 2, 3):
        with pytest.raises(LookupError, match="blob blob4 of mm/rmap.c at v2.6.26 cannot be read"):
            _run(monkeypatch, tmp_path, workers)
