"""Wall time of `kvdiff report` from a warm cache: median of 5 whole-process runs.

Usage: .venv/bin/python bench/report_warm.py [CORPUS]   (default ../shared/kernel-corpus)
Builds the stand-in upstreams with the corpus's make-upstreams, fetches the four tags once into a
fresh cache over `git daemon`, then times `kvdiff report --offline --cache …` five times.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import TAGS, GitDaemon  # noqa: E402


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "kernel-corpus")
    kvdiff = str(Path(sys.executable).parent / "kvdiff")
    with tempfile.TemporaryDirectory() as tmp:
        ups = Path(tmp) / "upstreams"
        subprocess.run([str(corpus / "make-upstreams"), str(corpus), str(ups)], check=True)
        cache = Path(tmp) / "cache.git"
        daemon = GitDaemon(ups).start()
        try:
            fetch = [kvdiff, "fetch", *TAGS, "--cache", str(cache), "-q", *daemon.upstream_args()]
            subprocess.run(fetch, check=True, capture_output=True)
        finally:
            daemon.stop()
        cmd = [kvdiff, "report", "--offline", "--cache", str(cache), "--out", str(Path(tmp) / "s")]
        times = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
    print(
        f"kvdiff report, warm cache, 4 tags: median {statistics.median(times):.3f} s "
        f"(runs: {', '.join(f'{t:.3f}' for t in times)})"
    )


if __name__ == "__main__":
    main()
