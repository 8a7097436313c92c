"""A repeated history over unchanged tag refs reuses its timeline; any ref change is a miss."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest
from click.testing import CliRunner
from kvdiff.analyzers.analyze.resultcache import ResultCache
from kvdiff.analyzers.jobs.historycache import history_key, load_history, load_output, store_history
from kvdiff.analyzers.present.history import format_history, history_json
from kvdiff.analyzers.source.config import SourceConfig
from kvdiff.analyzers.source.refstate import refs_fingerprint
from kvdiff.main import cli

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


def _tag(git: pygit2.Repository, name: str, at: str) -> None:
    sig = pygit2.Signature("t", "t@localhost", 1_100_000_000, 0)
    target = git.revparse_single(at).peel(pygit2.Commit).id
    git.create_tag(name, target, pygit2.GIT_OBJECT_COMMIT, sig, f"Linux {name}")


def test_every_tag_change_is_another_fingerprint(repo: Path, tmp_path: Path) -> None:
    config = SourceConfig(cache=tmp_path / "none.git", upstreams=(), repos=(repo,), offline=True)
    git = pygit2.Repository(str(repo))
    seen = [refs_fingerprint(config)]
    _tag(git, "v7.0", "v2.6.9")  # added (a loose ref)
    seen.append(refs_fingerprint(config))
    git.references.delete("refs/tags/v7.0")  # deleted: the refs are those of the start again
    assert refs_fingerprint(config) == seen[0]
    _tag(git, "v7.0", "v2.6.9")
    git.references.delete("refs/tags/v7.0")
    _tag(git, "v7.0", "v2.6.12")  # moved
    seen.append(refs_fingerprint(config))
    subprocess.run(["git", "-C", str(repo), "pack-refs", "--all"], check=True)  # packed
    seen.append(refs_fingerprint(config))
    git = pygit2.Repository(str(repo))
    git.references.delete("refs/tags/v7.0")  # deleted from packed-refs
    seen.append(refs_fingerprint(config))
    (repo / "refs" / "tags" / "wild").mkdir(parents=True)
    (repo / "refs" / "tags" / "wild" / "x").write_text(str(git.head.target) + "\n")  # nested
    seen.append(refs_fingerprint(config))
    assert None not in seen and len(set(seen)) == len(seen)
    # What is read from files too: --max-file-size decides whether a file is refused.
    smaller = SourceConfig(config.cache, (), config.repos, offline=True, max_file_bytes=1024)
    assert refs_fingerprint(smaller) not in (None, seen[-1])


def test_refs_a_listing_cannot_pin_are_never_reused(repo: Path, tmp_path: Path) -> None:
    config = SourceConfig(cache=tmp_path / "none.git", upstreams=(), repos=(repo,), offline=True)
    assert refs_fingerprint(config, ["v2.6.9", "v2.*", "v5.1-rc3"]) is not None
    # A plain name not shaped like a version may be a clone's branch, HEAD or commit id.
    for name in ("master", "HEAD", "HEAD~1", "0123abcd"):
        assert refs_fingerprint(config, [name]) is None
    cache_only = SourceConfig(cache=repo, upstreams=(), offline=True)
    assert refs_fingerprint(cache_only, ["master"]) is not None  # the cache serves tags only
    (repo / "refs" / "tags" / "alias").write_text("ref: refs/heads/master\n")
    assert refs_fingerprint(config) is None  # a symbolic ref follows its target
    (repo / "refs" / "tags" / "alias").unlink()
    assert refs_fingerprint(config) is not None
    (repo / "reftable").mkdir()
    assert refs_fingerprint(config) is None  # refs in a reftable are not files


def test_the_key_keeps_every_query_apart() -> None:
    selection = (None, None, None)
    keys = {
        history_key("fp", "f", None, selection, None),
        history_key("fp", "f", "None", selection, None),  # --file None is not the default
        history_key("fp", "f", None, (None, None, "None"), None),
        history_key("fp", "f", None, (None, "v5.*", None), None),
        history_key("fp", "f", None, (("v5.1",), None, None), None),
        history_key("fp", "f", None, selection, None, use_rules=False),
        history_key("fp2", "f", None, selection, None),
        history_key("fp", "g", None, selection, None),
    }
    assert len(keys) == 8
    # The same selection spelled another way is the same query.
    assert history_key("fp", "f", None, (None, "v5.1,v5.2", None), None) == history_key(
        "fp", "f", None, (None, ("v5.1", "v5.2"), None), None
    )


def test_a_damaged_stored_output_is_a_miss(repo: Path, tmp_path: Path) -> None:
    good = history_of(repo, tmp_path)
    cache = ResultCache(tmp_path / "store")
    store_history(cache, "k", good)
    assert load_output(cache, "k", as_json=False) == "\n".join(format_history(good))
    assert load_output(cache, "k", as_json=True) == history_json(good)
    for damage in ({"text": 3}, {"json": None}, {"versions": "x"}):
        cache.put("k", {**cache.get("k"), **damage})
        assert load_output(cache, "k", as_json=False) is None
        store_history(cache, "k", good)


_PROBE = """\
import sys
from kvdiff.main import cli
try:
    cli(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = ("pygit2", "tree_sitter", "jinja2", "importlib.metadata", "kvdiff.analyzers.parse",
         "kvdiff.analyzers.analyze.summaries", "kvdiff.analyzers.analyze.analysis",
         "kvdiff.analyzers.model", "kvdiff.analyzers.compare", "kvdiff.analyzers.present",
         "kvdiff.analyzers.source.repo", "subprocess")
print(code, *sorted(m for m in heavy if m in sys.modules), file=sys.stderr)
"""


@pytest.mark.parametrize("fmt", [[], ["--json"]])
def test_a_warm_history_opens_no_repository(repo: Path, tmp_path: Path, fmt: list[str]) -> None:
    """The second run prints what the first printed, importing neither libgit2 nor the parser,
    the analysis, the timeline or the presentation (the warm path's import floor)."""
    args = ["history", "--repo", str(repo), "--offline", "--cache", str(tmp_path / "c.git"), *fmt]

    def run() -> subprocess.CompletedProcess[str]:
        probe = [sys.executable, "-c", _PROBE, *args]
        return subprocess.run(probe, capture_output=True, text=True, check=True)

    cold, warm = run(), run()
    assert cold.stderr.split()[0] == "0" and "pygit2" in cold.stderr
    assert warm.stdout == cold.stdout and warm.stderr.split() == ["0"]
    uncached = run_cli(*args, "--no-result-cache")
    assert uncached == cold.stdout


def run_cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_releasing_libgit2s_memory_changes_no_result(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sources let go of a repository's object database every few objects read (gitmemory):
    reading goes on through the reopened database, to the same timeline."""
    import kvdiff.analyzers.source.gitmemory as gitmemory

    kept = history_of(repo, tmp_path, result_dir=None)
    monkeypatch.setattr(gitmemory, "RELEASE_EVERY", 1)  # after every object
    released = history_of(repo, tmp_path, result_dir=None)
    assert released == kept and released.versions == kept.versions
    assert pygit2.settings.cached_memory[0] == 0  # libgit2's object cache is off


def test_a_cold_history_reads_the_refs_before_and_after_only(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key the stored-output lookup computed is the timeline's key: the tag refs are read
    once before the work and once after it (a fetch meanwhile must not be stored as this)."""
    import kvdiff.analyzers.jobs.history as jobs

    calls: list[int] = []
    real = jobs.refs_fingerprint

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "refs_fingerprint", counted)
    args = ["history", "--repo", str(repo), "--offline", "--cache", str(tmp_path / "c.git")]
    cold = run_cli(*args)
    assert len(calls) == 2
    calls.clear()
    assert run_cli(*args) == cold and len(calls) == 1  # warm: the lookup only
    calls.clear()
    assert run_cli(*args, "--json") != cold and len(calls) == 1  # the stored JSON
