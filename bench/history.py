"""`kvdiff history` against an honest baseline on a kernel-shaped repository, with a scale sweep.

The repository is generated at run time (never committed) with one ``git fast-import`` stream:

- real directory shapes: 20 top-level directories x 10 x 12 leaves (2,640 directories) holding
  about 24,000 files whose sizes follow a kernel-like spread (0.5-120 KiB, median about 8 KiB);
- an ``mm/`` with 60 files of kernel sizes, the corpus headers at their real paths;
- one commit and one annotated release-like tag per release (v4.0-rc1 .. v4.0 .. v4.0.10, v4.1-rc1
  ...), each touching a few dozen other files;
- ``mm/rmap.c`` following the corpus's four real versions in order, with edits: a new blob every
  ``--change-every`` tags (a comment line near the top), an edit inside try_to_unmap_one every
  ``--function-every`` tags, so a few hundred distinct blobs at 2,000 tags.

The honest baseline is the ~30-line script a user would write (:data:`BASELINE`): pygit2, each
tag's blob id from a tree lookup, dedupe by blob id, one tree-sitter parse per distinct blob, the
function found with a query. ``kvdiff history`` runs cold (its result cache removed) and warm.
The import floor (:data:`FLOOR`: the process that imports pygit2, tree-sitter, jinja2 and click
and does nothing) runs too: a warm run reads one stored entry and should cost less than it.
Every figure is a whole process; each round runs the four in a shuffled order (interleaved, so
the load of a shared machine falls on all alike) and the script prints medians, the spread
(min-max) and the ratios baseline/kvdiff and warm/floor of each round, then the peak RSS per tag
count. There is no ``git log -L`` comparison: it needs full history, and this history has one
commit per tag.

    KVDIFF_CORPUS=../shared/kernel-corpus .venv/bin/python bench/history.py \\
        [--sizes 500,1000,2000] [--rounds 3] [--keep DIR]
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
CORPUS_TAGS = ("v2.6.7", "v2.6.35", "v5.1", "v5.10.37")
FUNCTION = "try_to_unmap_one"
PATH = "mm/rmap.c"
_TOP = [
    *("arch", "drivers", "fs", "include", "kernel", "net", "sound", "tools", "lib", "block"),
    *("crypto", "security", "scripts", "init", "ipc", "virt", "samples", "firmware", "usr", "rust"),
]

BASELINE = r"""
import hashlib, sys
import pygit2, tree_sitter_c
from tree_sitter import Language, Parser, Query, QueryCursor

repo = pygit2.Repository(sys.argv[1])
function, path, tags = sys.argv[2], sys.argv[3], sys.argv[4:]
lang = Language(tree_sitter_c.language())
parser = Parser(lang)
query = Query(lang, "(function_definition declarator: (function_declarator "
                    "declarator: (identifier) @name)) @fn")
digest_of = {}  # blob id -> digest of the function's text (None: no function)
versions = []
for tag in tags:
    tree = repo.revparse_single(tag).peel(pygit2.Tree)
    try:
        oid = tree[path].id
    except KeyError:
        oid = None
    if oid not in digest_of:
        digest = None
        if oid is not None:
            data = repo[oid].data
            for _, caps in QueryCursor(query).matches(parser.parse(data).root_node):
                name = caps["name"][0]
                if data[name.start_byte:name.end_byte].decode() == function:
                    fn = caps["fn"][0]
                    digest = hashlib.sha256(data[fn.start_byte:fn.end_byte]).hexdigest()
                    break
        digest_of[oid] = digest
    if not versions or versions[-1][1] != digest_of[oid]:
        versions.append((tag, digest_of[oid]))
print(len(tags), "tags,", len(digest_of), "distinct blobs,", len(versions), "versions")
"""

FLOOR = "import pygit2, tree_sitter, tree_sitter_c, jinja2, click"


def release_tags(n: int) -> list[str]:
    """``n`` release-like tags in version order: per minor, 5 -rc tags, the release and 10
    stable point releases (v4.0-rc1 .. v4.0 .. v4.0.10, v4.1-rc1 ...)."""
    tags: list[str] = []
    minor = 0
    while len(tags) < n:
        tags += [f"v4.{minor}-rc{rc}" for rc in range(1, 6)]
        tags.append(f"v4.{minor}")
        tags += [f"v4.{minor}.{p}" for p in range(1, 11)]
        minor += 1
    return tags[:n]


def kernel_size(rng: random.Random) -> int:
    """A file size like the kernel's .c/.h files: log-normal, median ~8 KiB, 0.5-120 KiB."""
    return int(min(max(rng.lognormvariate(9.0, 1.0), 512), 120 * 1024))


def rmap_variant(base: bytes, revision: int, function_revision: int) -> bytes:
    """A corpus mm/rmap.c with a comment line naming ``revision`` after its first line and,
    inside try_to_unmap_one's body, a comment naming ``function_revision``."""
    first = base.find(b"\n") + 1
    body = base.find(b"{\n", base.find(f"{FUNCTION}(".encode()))
    comment = f"\t/* revision {function_revision} */\n".encode()
    edited = base[: body + 2] + comment + base[body + 2 :] if body >= 0 else base
    return edited[:first] + f" * revision {revision}\n".encode() + edited[first:]


def build_repo(dest: Path, corpus: Path, n_tags: int, change_every: int, function_every: int):
    """Write the repository; returns (tags in version order, files per tree, directories,
    distinct mm/rmap.c blobs)."""
    rng = random.Random(15)
    leaves = [f"{t}/s{i:02d}/d{j:02d}" for t in _TOP for i in range(10) for j in range(12)]
    dirs = len(leaves) + len(_TOP) * 10 + len(_TOP) + 2
    paths = [f"{leaves[k % len(leaves)]}/f{k}.c" for k in range(24_000)]
    paths += [f"mm/m{k:02d}.c" for k in range(59)]
    subprocess.run(["git", "init", "-q", "--bare", str(dest)], check=True)
    proc = subprocess.Popen(
        ["git", f"--git-dir={dest}", "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE
    )
    out = proc.stdin
    assert out is not None
    mark = 0

    def blob(data: bytes) -> int:
        nonlocal mark
        mark += 1
        out.write(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
        return mark

    # A pool of distinct contents (random text is incompressible: keep the pack small).
    pool = [blob(rng.randbytes(kernel_size(rng) // 2).hex().encode()) for _ in range(1500)]
    headers = {
        str(p.relative_to(corpus / "v5.10.37")): blob(p.read_bytes())
        for p in sorted((corpus / "v5.10.37").rglob("*.h"))
    }
    bases = [(corpus / tag / PATH).read_bytes() for tag in CORPUS_TAGS]
    tags = release_tags(n_tags)
    rmap_marks: dict[tuple[int, int, int], int] = {}
    when, previous = 1_300_000_000, 0
    for n, tag in enumerate(tags):
        if n == 0:
            changed = {p: rng.choice(pool) for p in paths} | headers
        else:
            changed = {p: rng.choice(pool) for p in rng.sample(paths, 40)}
        key = (n * len(bases) // n_tags, n // change_every, n // function_every)
        if key not in rmap_marks:
            rmap_marks[key] = blob(rmap_variant(bases[key[0]], key[1], key[2]))
        changed[PATH] = rmap_marks[key]
        when += 86_400
        mark += 1
        message = f"Linux {tag}".encode()
        lines = [
            b"commit refs/heads/master",
            b"mark :%d" % mark,
            b"committer bench <bench@localhost> %d +0000" % when,
            b"data %d" % len(message),
            message,
        ]
        if n:
            lines.append(b"from :%d" % previous)
        previous = mark
        lines += [b"M 100644 :%d %s" % (m, p.encode()) for p, m in sorted(changed.items())]
        out.write(b"\n".join(lines) + b"\n\n")
        out.write(
            b"tag %s\nfrom :%d\ntagger bench <bench@localhost> %d +0000\ndata %d\n%s\n"
            % (tag.encode(), mark, when, len(message), message)
        )
    out.write(b"done\n")
    out.close()
    if proc.wait() != 0:
        raise SystemExit("bench: git fast-import failed")
    return tags, len(paths) + len(headers) + 1, dirs, len(rmap_marks)


def run_child(argv: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system) of one process, the
    child's own (wait4)."""
    start = time.perf_counter()
    env = {
        k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"
    }  # .pyc as installed
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {' '.join(argv[:3])} … failed: {err.strip()}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def spread(values: list[float], fmt: str) -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="500,1000,2000", help="tag counts (default 500,1000,2000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per tag count (default 3)")
    ap.add_argument("--change-every", type=int, default=5, help="new rmap.c blob every N tags")
    ap.add_argument("--function-every", type=int, default=40, help="function edit every N tags")
    ap.add_argument("--keep", default=None, help="build (or reuse) the repository here")
    args = ap.parse_args()
    corpus = Path(os.environ.get("KVDIFF_CORPUS", ROOT.parent / "shared" / "kernel-corpus"))
    if not all((corpus / t / PATH).is_file() for t in CORPUS_TAGS):
        raise SystemExit(f"bench: no kernel corpus at {corpus}; set KVDIFF_CORPUS")
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kvdiff-history-"))
    work.mkdir(parents=True, exist_ok=True)
    repo = work / "bench.git"
    all_tags = release_tags(max(sizes))
    if not (repo / "HEAD").exists():
        t0 = time.perf_counter()
        _, files, dirs, distinct = build_repo(
            repo, corpus, max(sizes), args.change_every, args.function_every
        )
        print(
            f"built {repo}: {len(all_tags)} tags, {files} files in {dirs} directories per tree, "
            f"{distinct} distinct {PATH} blobs, in {time.perf_counter() - t0:.0f} s"
        )
    baseline_py = work / "baseline.py"
    baseline_py.write_text(BASELINE)
    kvdiff = str(Path(sys.executable).parent / "kvdiff")
    results = work / "results"

    def kvdiff_argv(tags: list[str]) -> list[str]:
        return [
            *(kvdiff, "history", "--repo", str(repo), "--offline", "--quiet"),
            *("--cache", str(work / "cache.git"), "--result-cache", str(results)),
            *("--range", f"{tags[0]}..{tags[-1]}"),
        ]

    rows = []
    rng = random.Random(1)
    for n in sizes:
        tags = all_tags[:n]
        runs: dict[str, list[tuple[float, int, float]]] = {
            "baseline": [],
            "cold": [],
            "warm": [],
            "floor": [],
        }
        run_child(kvdiff_argv(tags))  # the warm run of the first round has its cache
        for _ in range(args.rounds):
            order = list(runs)
            rng.shuffle(order)
            for name in order:
                if name == "baseline":
                    argv = [sys.executable, str(baseline_py), str(repo), FUNCTION, PATH, *tags]
                elif name == "floor":
                    argv = [sys.executable, "-c", FLOOR]
                else:
                    if name == "cold":
                        shutil.rmtree(results, ignore_errors=True)
                    argv = kvdiff_argv(tags)
                runs[name].append(run_child(argv))  # a cold run leaves the cache filled
        rows.append((n, runs))
        print(f"measured {n} tags", flush=True)
    print()
    print(
        f"{args.rounds} rounds per tag count, interleaved; median (min-max); ratios of the "
        "same round; CPU = user+system seconds"
    )
    print(
        f"{'tags':>5} {'baseline s':>19} {'cold s':>19} {'warm s':>19} "
        f"{'baseline/cold':>17} {'baseline/warm':>17} {'CPU b/cold':>15} {'CPU b/warm':>15} "
        f"{'CPU warm/floor':>15}"
    )
    for n, runs in rows:
        b, c, w = ([t for t, _, _ in runs[k]] for k in ("baseline", "cold", "warm"))
        bc, cc, wc, fc = ([u for _, _, u in runs[k]] for k in ("baseline", "cold", "warm", "floor"))
        print(
            f"{n:>5} {spread(b, '.2f'):>19} {spread(c, '.2f'):>19} {spread(w, '.2f'):>19} "
            f"{spread([x / y for x, y in zip(b, c, strict=True)], '.1f'):>17} "
            f"{spread([x / y for x, y in zip(b, w, strict=True)], '.1f'):>17} "
            f"{spread([x / y for x, y in zip(bc, cc, strict=True)], '.1f'):>15} "
            f"{spread([x / y for x, y in zip(bc, wc, strict=True)], '.1f'):>15} "
            f"{spread([x / y for x, y in zip(wc, fc, strict=True)], '.2f'):>15}"
        )
    print()
    print("peak RSS, MiB (max over rounds; a process and the workers it waited for)")
    print(f"{'tags':>5} {'baseline':>9} {'cold':>9} {'warm':>9} {'floor':>9}")
    for n, runs in rows:
        peak = {k: max(r for _, r, _ in v) / 1024 for k, v in runs.items()}
        print(
            f"{n:>5} {peak['baseline']:9.1f} {peak['cold']:9.1f} {peak['warm']:9.1f} "
            f"{peak['floor']:9.1f}"
        )
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
