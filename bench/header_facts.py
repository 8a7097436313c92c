"""Header facts: how long evaluating a tag's headers takes next to parsing its mm/rmap.c.

For every tree of kernel-corpus and kernel-wild (read in place), times ``tag_facts()`` cold
(its content cache cleared: the restricted preprocessor over swap.h, swapops.h, rmap.h and the
x86 page-table headers, the swap types, masks and layout) against ``parse_c()`` of that tree's
mm/rmap.c, and prints both and their ratio, measured in this run, plus how many trees evaluate
and why the others do not. Not part of the test run::

    KVDIFF_CORPUS=../shared/kernel-corpus .venv/bin/python bench/header_facts.py
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.model.encoding import ModelConfig
from kvdiff.analyzers.model.tagfacts import _cached, tag_facts
from kvdiff.analyzers.parse.cparse import parse_c


def _trees() -> list[Path]:
    corpus = Path(os.environ.get("KVDIFF_CORPUS", "../shared/kernel-corpus")).resolve()
    wild = Path(os.environ.get("KVDIFF_WILD", corpus.parent / "kernel-wild"))
    roots = [p for p in sorted(corpus.iterdir()) if (p / "mm" / "rmap.c").is_file()]
    return roots + [p for p in sorted(wild.iterdir()) if (p / "mm" / "rmap.c").is_file()]


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        _cached.cache_clear()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ratios = []
    for root in _trees():

        def read(path: str, root: Path = root) -> bytes:
            return (root / path).read_bytes()

        try:
            facts_s = _best(lambda r=read, n=root.name: tag_facts(r, n, ModelConfig()))
        except KvdiffError as exc:
            print(f"{root.name:24} not evaluated: {str(exc)[:90]}")
            continue
        parse_s = _best(lambda r=read: parse_c(r("mm/rmap.c")))
        ratios.append(facts_s / parse_s)
        print(f"{root.name:24} facts {facts_s * 1000:6.1f} ms   rmap.c parse "
              f"{parse_s * 1000:6.1f} ms   ratio {facts_s / parse_s:5.2f}")  # fmt: skip
    print(
        f"{len(ratios)} trees evaluated; median facts/parse ratio {statistics.median(ratios):.2f}"
    )


if __name__ == "__main__":
    main()
