"""Blob summaries in worker processes (analyze/blobwork.py): the same as in order, and a
failure on either side of the pipes surfaces in the caller instead of hanging."""

from __future__ import annotations

from pathlib import Path

import kvdiff.analyzers.analyze.blobwork as blobwork
import pytest
from kvdiff.analyzers.analyze.ruleset import load_rule_set
from kvdiff.analyzers.analyze.summaries import Summarizer
from kvdiff.analyzers.errors import DamagedTag

TAGS = ("v2.6.35", "v5.1", "v5.10.37")


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
    parallel = blobwork.summarize_all(summarizer, specs, lambda s: blobs[s[2]])
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
        blobwork.summarize_all(summarizer, specs, read)
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
        blobwork.summarize_all(summarizer, specs, lambda s: blobs[s[2]])
