"""Warm commands against the import floor, measured in one run with interleaved repetitions.

The import floor is ``python -c 'import pygit2, tree_sitter, tree_sitter_c, jinja2, click'`` in
the same venv: what any kvdiff command costs at least. The script builds the stand-in upstreams
(the corpus's make-upstreams), fetches the four corpus tags once into a fresh cache over
``git daemon``, then runs, round after round (each round one run of every command, in a shuffled
order, so load on a shared machine falls on all of them alike):

- the floor;
- ``kvdiff report`` warm: sources cached, the site cache (``kvdiff-results/sites``) removed
  first, into a fresh ``--out``;
- ``kvdiff report`` repeated: the same command again, nothing changed, same ``--out``;
- ``kvdiff show v2.6.35``, ``kvdiff check`` (the golden files), ``kvdiff model --matrix``.

Each figure is a whole process: wall time, and CPU time (user + system, from wait4), which a
shared machine's load disturbs much less. It prints, per command, the median and the spread
(min-max) of each and of its ratio to the floor measured in the same round; it asserts nothing.
Not part of the test run::

    KVDIFF_CORPUS=../shared/kernel-corpus .venv/bin/python bench/warm_commands.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import TAGS, GitDaemon  # noqa: E402

FLOOR = "import pygit2, tree_sitter, tree_sitter_c, jinja2, click"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the child's own, from wait4) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {' '.join(argv[:3])} … failed: {err.strip()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def spread(values: list[float], fmt: str) -> str:
    return (
        f"{format(statistics.median(values), fmt)} "
        f"({format(min(values), fmt)}-{format(max(values), fmt)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="rounds (default 9)")
    parser.add_argument("--seed", type=int, default=1, help="order shuffling seed")
    args = parser.parse_args()
    corpus = Path(os.environ.get("KVDIFF_CORPUS", ROOT.parent / "shared" / "kernel-corpus"))
    kvdiff = str(Path(sys.executable).parent / "kvdiff")
    with tempfile.TemporaryDirectory(prefix="kvdiff-warm-") as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "no-config")}
        # As installed: modules compiled once (.pyc), not on every run.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["XDG_CACHE_HOME"] = str(tmp / "xdg-cache")
        ups = tmp / "upstreams"
        subprocess.run(
            [str(corpus / "make-upstreams"), str(corpus), str(ups)], check=True, capture_output=True
        )
        cache = tmp / "cache.git"
        daemon = GitDaemon(ups).start()
        try:
            fetch = [kvdiff, "fetch", *TAGS, "--cache", str(cache), "-q", *daemon.upstream_args()]
            subprocess.run(fetch, check=True, capture_output=True, env=env)
            # The model's header facts are fetched by the first model run (and report's).
            model = [kvdiff, "model", "--matrix", "--cache", str(cache), "-q"]
            subprocess.run(
                [*model, *daemon.upstream_args()], check=True, capture_output=True, env=env
            )
        finally:
            daemon.stop()
        src = ["--offline", "-q", "--cache", str(cache)]
        sites = cache / "kvdiff-results" / "sites"
        fresh = tmp / "fresh"

        def warm_report() -> list[str]:
            shutil.rmtree(sites, ignore_errors=True)
            shutil.rmtree(fresh, ignore_errors=True)
            return [kvdiff, "report", *src, "--out", str(fresh)]

        repeated = [kvdiff, "report", *src, "--out", str(tmp / "same")]
        commands = {
            "floor": lambda: [sys.executable, "-c", FLOOR],
            "report (warm)": warm_report,
            "report (repeated)": lambda: repeated,
            "show": lambda: [kvdiff, "show", *src, "v2.6.35"],
            "check": lambda: [kvdiff, "check", *src],
            "model --matrix": lambda: [kvdiff, "model", "--matrix", *src],
        }
        for make in commands.values():  # one untimed run each: .pyc, page cache, repeated site
            timed(make(), env)
        got: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        rng = random.Random(args.seed)
        for _ in range(args.rounds):
            order = list(commands)
            rng.shuffle(order)
            for name in order:
                got[name].append(timed(commands[name](), env))
    print(
        f"{args.rounds} rounds, interleaved; median (min-max); ratios to the floor of the same "
        "round; CPU = the process's user+system time (less sensitive to a loaded machine)"
    )
    print(f"{'command':<20} {'wall s':>20} {'wall ratio':>18} {'CPU s':>20} {'CPU ratio':>18}")
    for name, runs in got.items():
        wall = [w for w, _ in runs]
        cpu = [c for _, c in runs]
        wall_r = [w / f for (w, _), (f, _) in zip(runs, got["floor"], strict=True)]
        cpu_r = [c / f for (_, c), (_, f) in zip(runs, got["floor"], strict=True)]
        print(
            f"{name:<20} {spread(wall, '.3f'):>20} {spread(wall_r, '.2f'):>18} "
            f"{spread(cpu, '.3f'):>20} {spread(cpu_r, '.2f'):>18}"
        )


if __name__ == "__main__":
    main()
