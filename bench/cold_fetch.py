"""Cold fetch: partial + batched (kvdiff today) vs plain depth-1 per tag (kvdiff before).

Builds the kernel-sized test upstream (tests/bigupstream.py: 50,400 files in 4,420
directories, the corpus files at their real paths, 50 tags), serves it with ``git daemon`` on
127.0.0.1 behind a counting proxy, and for 4 and 50 tags fetches them into an empty cache:

- partial, batched: ``kvdiff fetch TAG... --file mm/rmap.c`` (one probe, one depth-1 fetch of
  every tag with a tree filter, one fetch of the distinct mm/rmap.c blobs);
- plain depth-1 per tag: what kvdiff did before, through libgit2: one ref listing, then one
  ``fetch(+refs/tags/T:refs/tags/T, depth=1)`` per tag (a full snapshot each, shared objects
  negotiated away).

It prints bytes received, TCP connections and wall time side by side, measured in this run,
with no added latency and with an emulated 100 ms round trip (the proxy holds every chunk
50 ms in each direction). Not part of the test run::

    KVDIFF_CORPUS=../shared/kernel-corpus .venv/bin/python bench/cold_fetch.py [--rtt 0,100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pygit2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bigupstream import CountingProxy, build_kernel_sized  # noqa: E402
from tests.conftest import TAGS, GitDaemon  # noqa: E402


def partial_batched(url: str, tags: list[str], cache: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": "/nonexistent", "XDG_CACHE_HOME": "/nonexistent"}
    up = [a for n in ("mainline", "stable", "history") for a in ("--upstream", f"{n}={url}")]
    done = subprocess.run(
        [sys.executable, "-m", "kvdiff", "fetch", *tags, "--quiet", "--cache", str(cache), *up],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"kvdiff fetch failed: {done.stderr}")


def plain_per_tag(url: str, tags: list[str], cache: Path) -> None:
    repo = pygit2.init_repository(str(cache), bare=True)
    remote = repo.remotes.create_anonymous(url)
    remote.list_heads()
    for tag in tags:
        remote.fetch([f"+refs/tags/{tag}:refs/tags/{tag}"], depth=1)


def measure(method, port: int, tags: list[str], rtt_ms: int, work: Path) -> tuple[int, int, float]:  # noqa: ANN001
    proxy = CountingProxy(port, delay=rtt_ms / 1000)
    try:
        cache = Path(tempfile.mkdtemp(dir=work)) / "cache"
        start = time.monotonic()
        method(proxy.url("linux"), tags, cache)
        return proxy.bytes_down, proxy.connections, time.monotonic() - start
    finally:
        proxy.close()


def human(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rtt", default="0,100", help="emulated round trips in ms (0,100)")
    args = parser.parse_args()
    corpus = Path(os.environ.get("KVDIFF_CORPUS", ROOT.parent / "shared" / "kernel-corpus"))
    with tempfile.TemporaryDirectory(prefix="kvdiff-cold-") as tmp:
        work = Path(tmp)
        (work / "served").mkdir()
        built = build_kernel_sized(work / "served" / "linux.git", corpus)
        print(
            f"upstream: {built.files} files, {built.directories} directories, "
            f"{len(built.tags)} tags (built in {built.seconds:.1f} s)"
        )
        daemon = GitDaemon(work / "served").start()
        try:
            header = (
                f"{'rtt':>6} {'tags':>4}  {'method':<24} {'received':>10} {'conns':>5} {'wall':>8}"
            )
            print(header)
            print("-" * len(header))
            for rtt in (int(x) for x in args.rtt.split(",")):
                for tags in (list(TAGS), list(built.tags)):
                    rows = []
                    for name, method in (
                        ("partial, batched", partial_batched),
                        ("plain depth-1 per tag", plain_per_tag),
                    ):
                        got = measure(method, daemon.port, tags, rtt, work)
                        rows.append(got)
                        print(
                            f"{rtt:>4}ms {len(tags):>4}  {name:<24} {human(got[0]):>10} "
                            f"{got[1]:>5} {got[2]:>7.2f}s"
                        )
                    (pb, pc, pt), (fb, fc, ft) = rows
                    print(
                        f"{'':>11}  {'ratio plain/partial':<24} {fb / pb:>9.0f}x "
                        f"{fc / pc:>4.1f}x {ft / pt:>7.1f}x"
                    )
        finally:
            daemon.stop()


if __name__ == "__main__":
    main()
