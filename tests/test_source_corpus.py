"""Source access on the real kernel corpus, through the real git protocol: the stand-in upstreams
are served by ``git daemon`` on loopback and every tag is fetched shallowly into a tmp cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest
from click.testing import CliRunner, Result
from kvdiff.main import cli

from tests.conftest import REPO_ROOT, TAGS, UPSTREAM_OF, GitDaemon

pytestmark = pytest.mark.corpus

# Verified by reading the corpus: (first line, last line, signature) of try_to_unmap_one.
SPANS = {
    "v2.6.7": (
        425,
        522,
        "static int try_to_unmap_one(struct page *page, struct vm_area_struct *vma)",
    ),
    "v2.6.35": (
        898,
        1016,
        "int try_to_unmap_one(struct page *page, struct vm_area_struct *vma,\n"
        "\t\t     unsigned long address, enum ttu_flags flags)",
    ),
    "v5.1": (
        1338,
        1662,
        "static bool try_to_unmap_one(struct page *page, struct vm_area_struct *vma,\n"
        "\t\t     unsigned long address, void *arg)",
    ),
    "v5.10.37": (
        1373,
        1712,
        "static bool try_to_unmap_one(struct page *page, struct vm_area_struct *vma,\n"
        "\t\t     unsigned long address, void *arg)",
    ),
}


def kvdiff(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_one_line_error(result: Result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kvdiff: error: ")
    assert "Traceback" not in result.output + result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory, git_daemon: GitDaemon) -> tuple[Path, str]:
    """A cache holding the four tags, fetched in one ``kvdiff fetch`` run; and its output."""
    cache = tmp_path_factory.mktemp("cache") / "linux.git"
    result = kvdiff("fetch", *TAGS, "--cache", str(cache), *git_daemon.upstream_args())
    assert result.exit_code == 0, result.output + result.stderr
    return cache, result.stdout


def test_manifest_has_rmap_for_every_tag(manifest) -> None:  # type: ignore[no-untyped-def]
    for tag in TAGS:
        assert len(manifest.blob(tag, "mm/rmap.c")) == 40


def test_each_tag_comes_from_first_upstream_that_has_it(fetched: tuple[Path, str]) -> None:
    _, out = fetched
    lines = out.splitlines()
    assert len(lines) == len(TAGS)
    batches: dict[str, str] = {}
    for tag, line in zip(TAGS, lines, strict=True):
        upstream = UPSTREAM_OF[tag]
        assert line.startswith(f"{tag}: fetched from {upstream} ("), line
        if upstream in batches:  # one fetch per upstream: its figures are on its first tag
            assert line.endswith(f"(in the fetch of {batches[upstream]})"), line
            continue
        batches[upstream] = tag
        n = sum(1 for t in TAGS if UPSTREAM_OF[t] == upstream)
        assert f"(partial, {n} tag(s): " in line, line
        assert " objects, " in line and line.endswith(" received)")


def test_fetch_is_shallow_and_brings_only_the_asked_tags(fetched: tuple[Path, str]) -> None:
    cache, _ = fetched
    repo = pygit2.Repository(str(cache))
    assert repo.is_bare and repo.is_shallow
    tags = sorted(r for r in repo.references if r.startswith("refs/tags/"))
    assert tags == sorted(f"refs/tags/{t}" for t in TAGS)
    # Depth 1: every tag's commit is a shallow boundary (upstream, v5.1 sits on v2.6.35).
    boundary = set((cache / "shallow").read_text().split())
    assert {str(repo.revparse_single(f"{t}^{{commit}}").id) for t in TAGS} == boundary
    assert [c.id for c in repo.walk(repo.revparse_single("v5.10.37^{commit}").id)] == [
        repo.revparse_single("v5.10.37^{commit}").id
    ]


@pytest.mark.parametrize("tag", TAGS)
def test_blob_ids_and_spans_match_the_corpus(
    fetched: tuple[Path, str], manifest, corpus: Path, tag: str
) -> None:  # type: ignore[no-untyped-def]
    cache, _ = fetched
    result = kvdiff("show", tag, "--json", "--offline", "--cache", str(cache))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["blob_id"] == manifest.blob(tag, "mm/rmap.c")
    assert (doc["tag"], doc["path"], doc["function"]) == (tag, "mm/rmap.c", "try_to_unmap_one")
    assert doc["origin"] == UPSTREAM_OF[tag]
    (definition,) = doc["definitions"]
    start, end, signature = SPANS[tag]
    assert (definition["start_line"], definition["end_line"]) == (start, end)
    assert definition["signature"] == signature
    data = (corpus / tag / "mm" / "rmap.c").read_bytes()
    assert data[definition["start_byte"] : definition["end_byte"]].decode() == definition["text"]
    assert definition["has_errors"] is False and definition["errors"] == []


def test_show_prints_header_and_real_line_numbers(
    fetched: tuple[Path, str], manifest, corpus: Path
) -> None:  # type: ignore[no-untyped-def]
    cache, _ = fetched
    result = kvdiff("show", "v2.6.35", "--cache", str(cache))
    assert result.exit_code == 0 and result.stderr == ""
    header, *body = result.stdout.splitlines()
    assert header == f"v2.6.35 mm/rmap.c blob {manifest.blob('v2.6.35', 'mm/rmap.c')} from mainline"
    assert len(body) == 1016 - 898 + 1
    source = (corpus / "v2.6.35" / "mm" / "rmap.c").read_text().split("\n")
    for line in body:
        number, _, text = line.strip().partition("  ")
        assert source[int(number) - 1].rstrip() == text


def test_other_function_and_file(fetched: tuple[Path, str], corpus: Path) -> None:
    cache, _ = fetched
    result = kvdiff(
        "show", "v5.10.37", "do_swap_page", "--file", "mm/memory.c", "--cache", str(cache)
    )
    assert result.exit_code == 0, result.stderr
    header, first, *_ = result.stdout.splitlines()
    assert header.startswith("v5.10.37 mm/memory.c blob ") and header.endswith(" from stable")
    number = int(first.split()[0])
    text = (corpus / "v5.10.37" / "mm" / "memory.c").read_text().split("\n")
    assert "do_swap_page(" in text[number - 1]


def test_second_run_fetches_nothing_and_works_with_the_daemon_stopped(
    tmp_path: Path, upstream_repos: Path
) -> None:
    daemon = GitDaemon(upstream_repos).start()  # our own: this test stops it
    cache = str(tmp_path / "cache")
    try:
        first = kvdiff("fetch", "v5.1", "v2.6.7", "--cache", cache, *daemon.upstream_args())
        assert first.stdout.splitlines()[0].startswith("v5.1: fetched from mainline (")
    finally:
        daemon.stop()
    again = kvdiff("fetch", "v5.1", "v2.6.7", "--cache", cache, *daemon.upstream_args())
    assert again.exit_code == 0, again.stderr
    assert again.stdout.splitlines() == [
        "v5.1: already cached (from mainline)",
        "v2.6.7: already cached (from history)",
    ]
    shown = kvdiff("show", "v2.6.7", "--cache", cache, *daemon.upstream_args())
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[1].startswith("425  static int try_to_unmap_one(")
    # A tag not in the cache needs the (stopped) upstream: a one-line error naming it.
    missing = kvdiff("show", "v2.6.35", "--cache", cache, *daemon.upstream_args())
    assert_one_line_error(missing, "cannot reach upstream mainline (git://127.0.0.1:")


def test_repo_option_reads_local_clones(
    corpus_repo_args: list[str], manifest, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    cache = tmp_path / "never-created"
    for tag in TAGS:
        result = kvdiff(
            "show", tag, "--json", "--offline", "--cache", str(cache), *corpus_repo_args
        )
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["blob_id"] == manifest.blob(tag, "mm/rmap.c")
        expected = "history.git" if tag == "v2.6.7" else "stable.git"
        assert doc["origin"].endswith(expected)
    assert not cache.exists()


def test_unknown_tag_lists_upstreams_and_closest(git_daemon: GitDaemon, tmp_path: Path) -> None:
    result = kvdiff("show", "v5.10.99", "--cache", str(tmp_path / "c"), *git_daemon.upstream_args())
    assert_one_line_error(
        result, "tag v5.10.99 not found in mainline, stable, history; closest: v5.10.37, v5.1"
    )


def test_missing_file_and_missing_function(fetched: tuple[Path, str]) -> None:
    cache, _ = fetched
    no_file = kvdiff("show", "v5.1", "--file", "mm/rmapp.c", "--cache", str(cache), "--offline")
    assert_one_line_error(no_file, "mm/rmapp.c does not exist at v5.1", "closest: mm/rmap.c")
    no_fn = kvdiff("show", "v5.1", "try_to_unmap_onee", "--cache", str(cache), "--offline")
    assert_one_line_error(
        no_fn, "function try_to_unmap_onee not found in mm/rmap.c at v5.1", "try_to_unmap_one"
    )


def test_bogus_kvdiff_corpus_fails_not_skips(tmp_path: Path) -> None:
    env = {**os.environ, "KVDIFF_CORPUS": str(tmp_path / "no-such-corpus")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_source_corpus.py::test_manifest_has_rmap_for_every_tag",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout
    assert "KVDIFF_CORPUS is set but unusable" in proc.stdout
    # A failing fixture is reported as an error (exit 1), which is a failure, never a skip.
    assert "1 error" in proc.stdout and "skipped" not in proc.stdout
