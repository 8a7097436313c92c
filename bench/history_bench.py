"""Benchmark: `kvdiff history` against the loop a user would write, and `git log -L`.

Builds a synthetic bare repository with release-like annotated tags over a realistic tree (tens of
thousands of files; unchanged subtrees are shared, so it builds in seconds), whose mm/rmap.c
cycles through the corpus versions of mm/rmap.c with edited variants (a header comment changes
every --change-every tags, a comment inside try_to_unmap_one every --function-every tags). Then
it measures, as whole processes, median of --runs:

- ``kvdiff history`` cold (empty result cache) and warm (result cache filled);
- the naive loop: one Python process running ``git show TAG:mm/rmap.c`` per tag plus a
  tree-sitter parse and a function lookup;
- ``git log -L :try_to_unmap_one:mm/rmap.c`` over the same history, for reference;

and the peak memory (ru_maxrss) of ``kvdiff history`` at each tag count. It prints figures and
ratios; it asserts nothing about time.

    .venv/bin/python bench/history_bench.py [--tags 600] [--runs 3] [--keep DIR]

The corpus is read (never copied into the project) from $KVDIFF_CORPUS or ../shared/kernel-corpus.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pygit2

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_TAGS = ("v2.6.7", "v2.6.35", "v5.1", "v5.10.37")
FUNCTION = "try_to_unmap_one"
PATH = "mm/rmap.c"

NAIVE_SCRIPT = r"""
import hashlib, subprocess, sys
import tree_sitter_c
from tree_sitter import Language, Parser, Query, QueryCursor

repo, function = sys.argv[1], sys.argv[2]
tags = sys.argv[3:]
lang = Language(tree_sitter_c.language())
parser = Parser(lang)
query = Query(lang, "(function_definition declarator: (function_declarator "
                    "declarator: (identifier) @name)) @fn")
versions = []
for tag in tags:
    show = subprocess.run(["git", "-C", repo, "show", f"{tag}:mm/rmap.c"], capture_output=True)
    if show.returncode != 0:
        versions.append((tag, None))
        continue
    data = show.stdout
    tree = parser.parse(data)
    digest = None
    for _, caps in QueryCursor(query).matches(tree.root_node):
        name = caps["name"][0]
        if data[name.start_byte:name.end_byte].decode() == function:
            fn = caps["fn"][0]
            digest = hashlib.sha256(data[fn.start_byte:fn.end_byte]).hexdigest()
    if not versions or versions[-1][1] != digest:
        versions.append((tag, digest))
print(len(tags), "tags,", len(versions), "versions")
"""


# --------------------------------------------------------------------------- building the repo


def find_corpus(explicit: str | None) -> Path:
    for candidate in (explicit, os.environ.get("KVDIFF_CORPUS")):
        if candidate:
            return Path(candidate).resolve()
    return (REPO_ROOT.parent / "shared" / "kernel-corpus").resolve()


def release_tags(n: int) -> list[str]:
    """``n`` release-like tag names in version order: per minor, 5 -rc tags, the release, and
    10 stable point releases (v4.0-rc1 .. v4.0 .. v4.0.10, v4.1-rc1 ...)."""
    tags: list[str] = []
    minor = 0
    while len(tags) < n:
        tags += [f"v4.{minor}-rc{rc}" for rc in range(1, 6)]
        tags.append(f"v4.{minor}")
        tags += [f"v4.{minor}.{p}" for p in range(1, 11)]
        minor += 1
    return tags[:n]


def rmap_variant(base: bytes, revision: int, function_revision: int) -> bytes:
    """The corpus file with a header comment line naming ``revision`` and, inside the
    function's body, a comment naming ``function_revision`` (so its content changes too)."""
    header = f"/* bench revision {revision} */\n".encode()
    marker = f"{FUNCTION}(".encode()
    start = base.find(marker)
    brace = base.find(b"{\n", start) if start >= 0 else -1
    if brace < 0:
        return header + base
    comment = f"\t/* bench function revision {function_revision} */\n".encode()
    return header + base[: brace + 2] + comment + base[brace + 2 :]


@dataclass
class Dir:
    """A mutable directory: files (name -> blob oid) and subdirectories, with a cached tree id."""

    files: dict[str, pygit2.Oid]
    dirs: dict[str, Dir]
    oid: pygit2.Oid | None = None

    def write(self, repo: pygit2.Repository) -> pygit2.Oid:
        if self.oid is None:
            tb = repo.TreeBuilder()
            for name, blob in self.files.items():
                tb.insert(name, blob, pygit2.GIT_FILEMODE_BLOB)
            for name, sub in self.dirs.items():
                tb.insert(name, sub.write(repo), pygit2.GIT_FILEMODE_TREE)
            self.oid = tb.write()
        return self.oid

    def set_file(self, path: list[str], blob: pygit2.Oid) -> None:
        """Set a file, invalidating the cached tree ids on the way down (only those)."""
        self.oid = None
        if len(path) == 1:
            self.files[path[0]] = blob
        else:
            self.dirs.setdefault(path[0], Dir({}, {})).set_file(path[1:], blob)


def build_repo(
    dest: Path,
    corpus: Path,
    n_tags: int,
    change_every: int,
    function_every: int,
    top_dirs: int = 40,
    sub_dirs: int = 25,
    files_per_dir: int = 30,
) -> tuple[list[str], int]:
    """Build the bare repository; returns the tags (version order) and the number of files."""
    repo = pygit2.init_repository(str(dest), bare=True)
    pool = [repo.create_blob(f"/* filler {i} */\nint filler_{i};\n".encode()) for i in range(512)]
    root = Dir({}, {})
    k = 0
    for t in range(top_dirs):
        for s in range(sub_dirs):
            for f in range(files_per_dir):
                root.set_file([f"dir{t:02d}", f"sub{s:02d}", f"file{f:02d}.c"], pool[k % len(pool)])
                k += 1
    bases = [(corpus / tag / PATH).read_bytes() for tag in CORPUS_TAGS]
    tags = release_tags(n_tags)
    sig = pygit2.Signature("kvdiff bench", "bench@localhost", 1_300_000_000, 0)
    parents: list[pygit2.Oid] = []
    for i, tag in enumerate(tags):
        base = bases[i * len(bases) // n_tags]
        data = rmap_variant(base, i // change_every, i // function_every)
        root.set_file(["mm", "rmap.c"], repo.create_blob(data))
        # Every release also touches some other file, as real ones do.
        churn = repo.create_blob(f"/* churn {i} */\n".encode())
        root.set_file([f"dir{i % top_dirs:02d}", f"sub{i % sub_dirs:02d}", "churn.c"], churn)
        when = pygit2.Signature(sig.name, sig.email, sig.time + i * 86400, 0)
        commit = repo.create_commit(None, when, when, f"Linux {tag}", root.write(repo), parents)
        repo.create_tag(tag, commit, pygit2.GIT_OBJECT_COMMIT, when, f"Linux {tag}")
        parents = [commit]
    repo.references.create("refs/heads/master", parents[0])
    # Real clones are packed; loose objects would flatter nobody in particular but are unusual.
    subprocess.run(["git", "-C", str(dest), "repack", "-adq"], check=True)
    subprocess.run(["git", "-C", str(dest), "pack-refs", "--all"], check=True)
    return tags, k + 1


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Run:
    seconds: float
    maxrss_kib: int


def run_child(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Run a process to completion; its wall time and its own peak RSS (wait4 rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or os.environ.copy()
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv[:4])} ... failed ({proc.returncode}): {err}")
    return Run(elapsed, usage.ru_maxrss)


def median_run(make_argv, runs: int, before=None) -> Run:
    results = []
    for _ in range(runs):
        if before is not None:
            before()
        results.append(run_child(make_argv()))
    return Run(statistics.median(r.seconds for r in results), max(r.maxrss_kib for r in results))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tags", type=int, default=600, help="tags in the repository (default 600)")
    ap.add_argument(
        "--sizes", default="", help="comma-separated tag counts to measure (default N/4,N/2,N)"
    )
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument("--change-every", type=int, default=10, help="new rmap.c blob every N tags")
    ap.add_argument("--function-every", type=int, default=50, help="function edit every N tags")
    ap.add_argument("--corpus", default=None, help="kernel corpus dir")
    ap.add_argument("--keep", default=None, help="build/keep the repository here")
    ap.add_argument("--no-git-log", action="store_true", help="skip git log -L")
    args = ap.parse_args()

    corpus = find_corpus(args.corpus)
    if not all((corpus / t / PATH).is_file() for t in CORPUS_TAGS):
        raise SystemExit(f"bench: no kernel corpus at {corpus}; set KVDIFF_CORPUS or --corpus")
    sizes = [int(s) for s in args.sizes.split(",") if s] or [
        args.tags // 4,
        args.tags // 2,
        args.tags,
    ]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kvdiff-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    repo_dir = work / "bench.git"
    kvdiff = str(Path(sys.executable).parent / "kvdiff")

    t0 = time.perf_counter()
    if repo_dir.exists():
        repo = pygit2.Repository(str(repo_dir))
        from kvdiff.analyzers.versions import sort_tags

        all_tags = sort_tags(r[len("refs/tags/") :] for r in repo.references if "tags/" in r)
        n_files = -1
        print(f"reusing {repo_dir} ({len(all_tags)} tags)")
    else:
        all_tags, n_files = build_repo(
            repo_dir, corpus, args.tags, args.change_every, args.function_every
        )
        print(
            f"built {repo_dir}: {len(all_tags)} tags, {n_files} files per tree, "
            f"in {time.perf_counter() - t0:.1f} s"
        )
    naive_py = work / "naive.py"
    naive_py.write_text(NAIVE_SCRIPT)
    results_dir = work / "results"

    def kvdiff_argv(tags: list[str]) -> list[str]:
        return [
            kvdiff,
            "history",
            "--repo",
            str(repo_dir),
            "--offline",
            "--quiet",
            "--cache",
            str(work / "linux.git"),
            "--result-cache",
            str(results_dir),
            "--range",
            f"{tags[0]}..{tags[-1]}",
        ]

    def clear_results() -> None:
        subprocess.run(["rm", "-rf", str(results_dir)], check=True)

    rows = []
    for n in sizes:
        tags = all_tags[:n]
        cold = median_run(lambda tags=tags: kvdiff_argv(tags), args.runs, before=clear_results)
        run_child(kvdiff_argv(tags))  # fill the cache
        warm = median_run(lambda tags=tags: kvdiff_argv(tags), args.runs)
        naive = median_run(
            lambda tags=tags: [sys.executable, str(naive_py), str(repo_dir), FUNCTION, *tags],
            args.runs,
        )
        gitlog = None
        if not args.no_git_log:
            gitlog = median_run(
                lambda tags=tags: [
                    "git",
                    "-C",
                    str(repo_dir),
                    "log",
                    f"-L:{FUNCTION}:{PATH}",
                    tags[-1],
                ],
                args.runs,
            )
        rows.append((n, cold, warm, naive, gitlog))
        print(f"measured {n} tags", flush=True)

    print()
    print(f"runs per figure: {args.runs} (median wall seconds); peak RSS in MiB")
    head = (
        f"{'tags':>5} {'cold s':>8} {'warm s':>8} {'naive s':>8} {'git-L s':>8} "
        f"{'naive/cold':>10} {'naive/warm':>10} {'gitL/warm':>9} {'RSS cold':>9} {'RSS warm':>9}"
    )
    print(head)
    for n, cold, warm, naive, gitlog in rows:
        gl = f"{gitlog.seconds:8.2f}" if gitlog else f"{'-':>8}"
        glr = f"{gitlog.seconds / warm.seconds:9.1f}" if gitlog else f"{'-':>9}"
        print(
            f"{n:>5} {cold.seconds:8.2f} {warm.seconds:8.2f} {naive.seconds:8.2f} {gl} "
            f"{naive.seconds / cold.seconds:10.1f} {naive.seconds / warm.seconds:10.1f} {glr} "
            f"{cold.maxrss_kib / 1024:9.1f} {warm.maxrss_kib / 1024:9.1f}"
        )
    if not args.keep:
        subprocess.run(["rm", "-rf", str(work)], check=True)


if __name__ == "__main__":
    main()
