"""Byte-identity harness: every command's output on the kernel corpus, as files, and their digests.

A refactoring must not change what kvdiff prints or writes. This script runs every command (show,
branches, check with JUnit, model, report, history; text and ``--json``; a second function and an
error case) against the corpus tags, from a local ``--repo`` clone of the stand-in upstreams the
corpus's ``make-upstreams`` builds, and writes each output (stdout, stderr, exit code, written
files) into one directory. All paths given to kvdiff are relative to that directory, so the bytes
do not depend on where it lives.

Usage::

    # outputs of the installed tree (the venv running this script), then their digests
    KVDIFF_CORPUS=/work/shared/kernel-corpus python tests/outputs_snapshot.py run OUT
    # outputs of another git revision (temporary worktree + its own venv; e.g. the baseline)
    python tests/outputs_snapshot.py run OUT --rev c26f811
    # compare two output directories (exit 1 and list the files that differ)
    python tests/outputs_snapshot.py compare OUT_A OUT_B
    # rewrite the committed digest list after an INTENTIONAL output change (one command)
    python tests/outputs_snapshot.py update

``tests/test_outputs_identity.py`` reruns ``run`` on the current tree and fails when any digest
differs from ``fixtures/outputs.sha256``, naming the outputs that changed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DIGESTS = REPO_ROOT / "fixtures" / "outputs.sha256"
TAGS = ("v2.6.7", "v2.6.35", "v5.1", "v5.10.37")
SOURCE = ("--repo", "linux.git", "--cache", "cache.git", "--offline", "--quiet")
SCENARIOS = ("compaction-anon", "reclaim-young")


def commands() -> list[tuple[str, list[str]]]:
    """(output name, kvdiff arguments) for every output the harness records."""
    runs: list[tuple[str, list[str]]] = []
    for tag in TAGS:
        runs += [
            (f"show-{tag}.txt", ["show", tag]),
            (f"show-{tag}.json", ["show", tag, "--json"]),
            (f"branches-{tag}.txt", ["branches", tag]),
            (f"branches-{tag}.json", ["branches", tag, "--json"]),
        ]
        for scenario in SCENARIOS:
            runs += [
                (f"model-{tag}-{scenario}.txt", ["model", tag, "--scenario", scenario]),
                (f"model-{tag}-{scenario}.json", ["model", tag, "--scenario", scenario, "--json"]),
            ]
    all_tags = ",".join(TAGS)
    runs += [
        (
            "branches-v5.1-do_swap_page.json",
            ["branches", "v5.1", "do_swap_page", "--file", "mm/memory.c", "--json"],
        ),
        ("show-v5.1-missing.txt", ["show", "v5.1", "no_such_function"]),
        ("check.txt", ["check", "--tags", all_tags, "--expected", "expected"]),
        (
            "check.json",
            [
                "check",
                "--tags",
                all_tags,
                "--expected",
                "expected",
                "--json",
                "--junit",
                "check-junit.xml",
            ],
        ),
        ("check-do_swap_page.txt", ["check", "do_swap_page", "--expected", "expected"]),
        ("model-matrix.txt", ["model", "--matrix"]),
        ("model-matrix.json", ["model", "--matrix", "--json"]),
        ("history.txt", ["history"]),
        ("history.json", ["history", "--json"]),
        ("history-range.json", ["history", "--range", "v2.6.35..v5.10.37", "--json"]),
        (
            "history-do_swap_page.json",
            ["history", "do_swap_page", "--file", "mm/memory.c", "--json"],
        ),
        ("report.txt", ["report", "--out", "site"]),
        ("report-history.txt", ["report", "--history", "--out", "site-history"]),
        ("report-ko.txt", ["report", "--lang", "ko", "--out", "site-ko"]),
        (
            "report-do_swap_page.txt",
            [
                "report",
                "do_swap_page",
                "--file",
                "mm/memory.c",
                "--tags",
                "v2.6.35,v5.1,v5.10.37",
                "--out",
                "site-do_swap_page",
            ],
        ),
    ]
    return runs


def corpus_dir() -> Path:
    env = os.environ.get("KVDIFF_CORPUS")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "kernel-corpus"
    if not (path / "make-upstreams").is_file():
        sys.exit(f"outputs_snapshot: no kernel corpus at {path}; set KVDIFF_CORPUS")
    return path.resolve()


def _git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def build_clone(corpus: Path, dest: Path) -> Path:
    """A bare clone holding every corpus tag, fetched from the stand-in upstreams."""
    upstreams = dest / "upstreams"
    subprocess.run(
        [str(corpus / "make-upstreams"), str(corpus), str(upstreams)],
        check=True,
        capture_output=True,
    )
    clone = dest / "linux.git"
    _git("init", "-q", "--bare", str(clone))
    for name in ("history", "mainline", "stable"):
        _git("fetch", "-q", str(upstreams / f"{name}.git"), "+refs/tags/*:refs/tags/*", cwd=clone)
    shutil.rmtree(upstreams)
    return clone


def install_rev(rev: str, scratch: Path) -> list[str]:
    """Check REV out into a temporary worktree, install it into its own venv; its kvdiff."""
    tree = scratch / "tree"
    _git("-C", str(REPO_ROOT), "worktree", "add", "-q", "--detach", str(tree), rev)
    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(tree)], check=True, capture_output=True
    )
    return [str(venv / "bin" / "kvdiff")]


def run(out: Path, kvdiff: Sequence[str], golden_dir: Path) -> None:
    """Write every command's outputs into OUT (which must not exist)."""
    out.mkdir(parents=True)
    build_clone(corpus_dir(), out)
    shutil.copytree(golden_dir, out / "expected")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KVDIFF_", "XDG_"))}
    env.update(XDG_CONFIG_HOME=str(out / "config"), XDG_CACHE_HOME=str(out / "xdg-cache"))
    env.update(LC_ALL="C.UTF-8", COLUMNS="100", NO_COLOR="1")
    for name, args in commands():
        proc = subprocess.run(
            [*kvdiff, *args, *SOURCE], cwd=out, env=env, capture_output=True, timeout=600
        )
        (out / name).write_bytes(proc.stdout)
        (out / f"{name}.stderr").write_bytes(proc.stderr + f"exit {proc.returncode}\n".encode())
    # Inputs and caches are not outputs: drop them so the directory holds only what kvdiff said.
    for scratch in ("linux.git", "cache.git", "results", "expected", "config", "xdg-cache"):
        shutil.rmtree(out / scratch, ignore_errors=True)


def digests(out: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under OUT."""
    return {
        path.relative_to(out).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def format_digests(table: dict[str, str]) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(table.items()))


def parse_digests(text: str) -> dict[str, str]:
    table = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        table[name] = digest
    return table


def differences(want: dict[str, str], got: dict[str, str]) -> list[str]:
    """One line per output that is missing, new or changed."""
    lines = []
    for name in sorted(set(want) | set(got)):
        if name not in got:
            lines.append(f"missing: {name}")
        elif name not in want:
            lines.append(f"new:     {name}")
        elif want[name] != got[name]:
            lines.append(f"changed: {name}")
    return lines


def snapshot_current(out: Path) -> dict[str, str]:
    """Outputs of this tree (the interpreter running this script must have it installed)."""
    run(out, [sys.executable, "-m", "kvdiff"], REPO_ROOT / "fixtures" / "expected")
    return digests(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="write every output into OUT")
    p_run.add_argument("out", type=Path)
    p_run.add_argument("--rev", help="git revision to run instead of the installed tree")
    p_cmp = sub.add_parser("compare", help="compare two output directories")
    p_cmp.add_argument("a", type=Path)
    p_cmp.add_argument("b", type=Path)
    sub.add_parser("update", help=f"rewrite {DIGESTS.relative_to(REPO_ROOT)} from this tree")
    args = parser.parse_args(argv)

    if args.command == "compare":
        diff = differences(digests(args.a), digests(args.b))
        print("\n".join(diff) if diff else f"identical: {len(digests(args.a))} files")
        return 1 if diff else 0
    if args.command == "update":
        with tempfile.TemporaryDirectory() as tmp:
            table = snapshot_current(Path(tmp) / "out")
        DIGESTS.write_text(format_digests(table))
        print(f"wrote {len(table)} digests to {DIGESTS}")
        return 0
    if args.rev is None:
        table = snapshot_current(args.out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp)
            try:
                kvdiff = install_rev(args.rev, scratch)
                run(args.out, kvdiff, scratch / "tree" / "fixtures" / "expected")
            finally:
                _git("-C", str(REPO_ROOT), "worktree", "remove", "--force", str(scratch / "tree"))
        table = digests(args.out)
    print(f"{len(table)} outputs in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
