"""Measure source access on the stand-in upstreams: what a shallow per-tag fetch receives, and
the wall time of a warm ``kvdiff show`` (whole process, median of 5).

    .venv/bin/python bench/show_warm.py [CORPUS]

CORPUS defaults to $KVDIFF_CORPUS or ../shared/kernel-corpus. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TAGS = ("v2.6.7", "v2.6.35", "v5.1", "v5.10.37")
KVDIFF = [sys.executable, "-m", "kvdiff"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    corpus = Path(
        sys.argv[1]
        if len(sys.argv) > 1
        else os.environ.get("KVDIFF_CORPUS", REPO_ROOT.parent / "shared" / "kernel-corpus")
    ).resolve()
    with tempfile.TemporaryDirectory(prefix="kvdiff-bench-") as tmp_name:
        tmp = Path(tmp_name)
        subprocess.run(
            [str(corpus / "make-upstreams"), str(corpus), str(tmp / "up")],
            check=True,
            capture_output=True,
        )
        port = free_port()
        daemon = subprocess.Popen(
            [
                "git",
                "daemon",
                f"--base-path={tmp / 'up'}",
                "--export-all",
                "--reuseaddr",
                "--listen=127.0.0.1",
                f"--port={port}",
                str(tmp / "up"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            cache = tmp / "cache"
            upstreams = []
            for name in ("mainline", "stable", "history"):
                upstreams += ["--upstream", f"{name}=git://127.0.0.1:{port}/{name}.git"]
            env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "no-config")}
            print("shallow fetch per tag (stand-in upstreams over git://, loopback):")
            for tag in TAGS:
                started = time.perf_counter()
                out = subprocess.run(
                    [*KVDIFF, "fetch", tag, "--cache", str(cache), *upstreams],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=REPO_ROOT,
                    env=env,
                ).stdout.strip()
                print(f"  {out}  [{time.perf_counter() - started:.2f} s]")
            times = []
            for _ in range(5):
                started = time.perf_counter()
                subprocess.run(
                    [*KVDIFF, "show", "--cache", str(cache), "v2.6.35"],
                    check=True,
                    capture_output=True,
                    cwd=REPO_ROOT,
                    env=env,
                )
                times.append(time.perf_counter() - started)
            print(
                "warm `kvdiff show --cache … v2.6.35` (whole process): "
                f"median {statistics.median(times) * 1000:.0f} ms of 5 "
                f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
            )
        finally:
            daemon.terminate()
            daemon.wait()


if __name__ == "__main__":
    main()
