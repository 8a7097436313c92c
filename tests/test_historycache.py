"""A repeated history over unchanged tag refs reuses its timeline; any ref change is a miss."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pygit2
import pytest
from kvdiff.analyzers.analyze.resultcache import ResultCache
from kvdiff.analyzers.jobs.historycache import load_history, store_history
from kvdiff.analyzers.source.config import SourceConfig
from kvdiff.analyzers.source.refstate import refs_fingerprint

from tests.test_history import FN_C2, TAG_FILES, history_of, make_repo, rmap


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "synth.git", TAG_FILES)


def run_entries(results: Path) -> int:
    return sum(1 for p in results.rglob("*.json") if b'"versions"' in p.read_bytes())


def test_a_repeated_history_is_the_stored_timeline(repo: Path, tmp_path: Path) -> None:
    first = history_of(repo, tmp_path)
    assert first.stats.analysed == first.stats.distinct_blobs > 0
    assert run_entries(tmp_path / "results") == 1
    second = history_of(repo, tmp_path)
    assert second == first and second.versions == first.versions
    assert (second.stats.analysed, second.stats.cache_hits) == (0, first.stats.distinct_blobs)
    # Another selection is another timeline.
    part = history_of(repo, tmp_path, tag_range="v2.6.12..v3.0")
    assert part != first and run_entries(tmp_path / "results") == 2
    assert history_of(repo, tmp_path, tag_range="v2.6.12..v3.0") == part


def test_a_new_or_moved_tag_is_seen(repo: Path, tmp_path: Path) -> None:
    before = history_of(repo, tmp_path)
    git = pygit2.Repository(str(repo))
    sig = pygit2.Signature("t", "t@localhost", 1_100_000_000, 0)
    tb = git.TreeBuilder()
    tb.insert("rmap.c", git.create_blob(rmap(FN_C2, comment="v6")), pygit2.GIT_FILEMODE_BLOB)
    root = git.TreeBuilder()
    root.insert("mm", tb.write(), pygit2.GIT_FILEMODE_TREE)
    commit = git.create_commit(None, sig, sig, "v6.0", root.write(), [])
    git.create_tag("v6.0", commit, pygit2.GIT_OBJECT_COMMIT, sig, "Linux v6.0")
    after = history_of(repo, tmp_path)
    assert after.versions[-1].last_tag == "v6.0" and after != before
    # Packing the refs changes no tag: the fingerprint changes, the timeline does not.
    subprocess.run(["git", "-C", str(repo), "pack-refs", "--all"], check=True)
    assert history_of(repo, tmp_path) == after
    # A tag moved to another commit (packed-refs rewritten) is seen too.
    git = pygit2.Repository(str(repo))
    git.references.delete("refs/tags/v6.0")
    old = git.revparse_single("v2.6.9").peel(pygit2.Commit).id
    git.create_tag("v6.0", old, pygit2.GIT_OBJECT_COMMIT, sig, "Linux v6.0 again")
    moved = history_of(repo, tmp_path)
    assert moved != after and moved.versions[-1].same_as == 1  # v2.6.9's content


def test_the_fingerprint_covers_refs_and_origins(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "linux.git"
    config = SourceConfig(cache=cache, upstreams=(), repos=(repo,), offline=True)
    empty = refs_fingerprint(config)
    assert empty is not None and refs_fingerprint(config) == empty
    pygit2.init_repository(str(cache), bare=True)
    bare = refs_fingerprint(config)
    (cache / "kvdiff-origins.json").write_text('{"v1": "mainline"}\n')
    origins = refs_fingerprint(config)
    (cache / "refs" / "tags").mkdir(parents=True, exist_ok=True)
    (cache / "refs" / "tags" / "v1").write_text("0" * 40 + "\n")
    loose = refs_fingerprint(config)
    assert len({empty, bare, origins, loose}) == 4
    # A clone (a .git directory) is read through its git directory.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    with_clone = SourceConfig(cache=cache, upstreams=(), repos=(clone,), offline=True)
    assert refs_fingerprint(with_clone) not in (None, loose)
    shutil.rmtree(clone / ".git")
    assert refs_fingerprint(with_clone) is None  # not a repository: nothing is reused


def test_a_damaged_or_foreign_entry_is_a_miss(repo: Path, tmp_path: Path) -> None:
    good = history_of(repo, tmp_path)
    cache = ResultCache(tmp_path / "store")
    store_history(cache, "k", good)
    assert load_history(cache, "k") == good
    for payload in ({}, {"function": "f"}, {**cache.get("k"), "versions": [{"index": 1}]}):
        cache.put("k", payload)
        assert load_history(cache, "k") is None
