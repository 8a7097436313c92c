"""analyzers.source on repositories built here with pygit2 (no corpus needed): --repo reading,
tags of trees, offline errors, unusable caches, and shallow fetches over a local git daemon."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pygit2
import pytest
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.source.config import build_source_config
from kvdiff.analyzers.source.network import HINT
from kvdiff.analyzers.source.repo import SourceConfig, Sources, Upstream

from tests.conftest import GitDaemon, free_port

SIG = pygit2.Signature("kvdiff test", "test@localhost", 1_000_000_000, 0)
FILES_A = {"mm/rmap.c": b"int a(void)\n{\n\treturn 1;\n}\n", "mm/memory.c": b"int m;\n"}
FILES_B = {"mm/rmap.c": b"int b(void)\n{\n\treturn 2;\n}\n", "README": b"b\n"}


def build_tree(repo: pygit2.Repository, files: Mapping[str, bytes]) -> pygit2.Oid:
    """A tree holding ``files`` (nested paths allowed), written with TreeBuilders."""
    nested: dict[str, dict] = {}
    for path, data in files.items():
        node = nested
        *dirs, name = path.split("/")
        for d in dirs:
            node = node.setdefault(d, {})
        node[name] = data

    def write(node: dict) -> pygit2.Oid:
        builder = repo.TreeBuilder()
        for name, value in sorted(node.items()):
            if isinstance(value, dict):
                builder.insert(name, write(value), pygit2.enums.FileMode.TREE)
            else:
                builder.insert(name, repo.create_blob(value), pygit2.enums.FileMode.BLOB)
        return builder.write()

    return write(nested)


def make_repo(
    path: Path,
    commits: Mapping[str, Mapping[str, bytes]],
    *,
    bare: bool = True,
    tree_tags: Mapping[str, Mapping[str, bytes]] | None = None,
) -> pygit2.Repository:
    """A repository with one commit per tag in order (each on the previous), each tag annotated;
    ``tree_tags`` are annotated tags that point straight at a tree (like v2.6.11)."""
    repo = pygit2.init_repository(str(path), bare=bare)
    parents: list[pygit2.Oid] = []
    for tag, files in commits.items():
        oid = repo.create_commit(
            "refs/heads/master", SIG, SIG, f"release {tag}", build_tree(repo, files), parents
        )
        repo.create_tag(tag, oid, pygit2.enums.ObjectType.COMMIT, SIG, f"Release {tag}")
        parents = [oid]
    for tag, files in (tree_tags or {}).items():
        tree = build_tree(repo, files)
        repo.create_tag(tag, tree, pygit2.enums.ObjectType.TREE, SIG, f"Tree {tag}")
    return repo


def snapshot(path: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``path`` with its size and mtime, to prove nothing was written."""
    result = {}
    for root, _, names in os.walk(path):
        for name in names:
            st = (Path(root) / name).stat()
            result[str(Path(root, name).relative_to(path))] = (st.st_size, st.st_mtime_ns)
    return result


def sources(tmp_path: Path, **kwargs) -> Sources:  # type: ignore[no-untyped-def]
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "XDG_CONFIG_HOME": str(tmp_path / "xdgc")}
    return Sources(build_source_config(env=env, cwd=tmp_path, **kwargs))


def test_repo_reads_file_at_tag_and_reports_blob_and_repo(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "up.git", {"v1.0": FILES_A, "v1.1": FILES_B})
    src = sources(tmp_path, repos=[tmp_path / "up.git"], offline=True)
    got = src.read("v1.0", "mm/rmap.c")
    assert got.data == FILES_A["mm/rmap.c"]
    assert got.blob_id == str(repo.create_blob(FILES_A["mm/rmap.c"]))  # same content, same id
    assert got.origin == str(tmp_path / "up.git")
    assert src.read("v1.1", "mm/rmap.c").data == FILES_B["mm/rmap.c"]
    assert src.blob_id("v1.0", "mm/rmap.c") == got.blob_id
    assert src.blob_id("v1.1", "mm/memory.c") is None  # absent at that tag
    assert src.blob_id("v1.0", "mm") is None  # a directory is not a blob
    info = src.ensure("v1.1")
    assert info.fetched is False
    assert info.target_id == str(repo.revparse_single("v1.1^{commit}").id)
    assert not (tmp_path / "xdg").exists()  # reading --repo never creates the cache


def test_tag_of_a_tree_is_peeled_to_that_tree(tmp_path: Path) -> None:
    tree_files = {"mm/rmap.c": b"int old(void)\n{\n}\n"}
    repo = make_repo(tmp_path / "t.git", {"v1.0": FILES_A}, tree_tags={"v0.9-tree": tree_files})
    tag_obj = repo.revparse_single("v0.9-tree")
    assert isinstance(tag_obj, pygit2.Tag)
    assert tag_obj.target == repo.revparse_single("v0.9-tree^{tree}").id  # really a tree
    src = sources(tmp_path, repos=[tmp_path / "t.git"], offline=True)
    assert src.read("v0.9-tree", "mm/rmap.c").data == tree_files["mm/rmap.c"]
    assert src.ensure("v0.9-tree").target_id == str(tag_obj.target)


def test_repo_non_bare_clone_is_read_only(tmp_path: Path) -> None:
    make_repo(tmp_path / "work", {"v1.0": FILES_A}, bare=False)
    before = snapshot(tmp_path / "work")
    src = sources(tmp_path, repos=[tmp_path / "work"], offline=True)
    assert src.read("v1.0", "mm/memory.c").data == b"int m;\n"
    assert src.available_tags() == ["v1.0"]
    assert snapshot(tmp_path / "work") == before


def test_available_tags_merge_repos_in_version_order(tmp_path: Path) -> None:
    make_repo(tmp_path / "a.git", {"v2.6.10": FILES_A, "v3.0": FILES_B})
    make_repo(tmp_path / "b.git", {"v2.6.9": FILES_A, "v2.6.10": FILES_A})
    src = sources(tmp_path, repos=[tmp_path / "a.git", tmp_path / "b.git"], offline=True)
    assert src.available_tags() == ["v2.6.9", "v2.6.10", "v3.0"]
    assert src.upstream_tags() == {}  # offline: no listing


def test_first_repo_wins(tmp_path: Path) -> None:
    make_repo(tmp_path / "a.git", {"v1.0": FILES_A})
    make_repo(tmp_path / "b.git", {"v1.0": FILES_B})
    src = sources(tmp_path, repos=[tmp_path / "b.git", tmp_path / "a.git"], offline=True)
    got = src.read("v1.0", "mm/rmap.c")
    assert got.data == FILES_B["mm/rmap.c"] and got.origin == str(tmp_path / "b.git")


def test_offline_error_names_every_missing_tag(tmp_path: Path) -> None:
    make_repo(tmp_path / "a.git", {"v1.0": FILES_A})
    src = sources(tmp_path, repos=[tmp_path / "a.git"], offline=True)
    with pytest.raises(KvdiffError) as err:
        src.ensure_all(["v1.0", "v9.1", "v9.2"])
    assert "v9.1, v9.2" in err.value.message and "v1.0" not in err.value.message
    assert "--offline" in err.value.message


def test_missing_path_suggests_close_paths(tmp_path: Path) -> None:
    make_repo(tmp_path / "a.git", {"v1.0": FILES_A})
    src = sources(tmp_path, repos=[tmp_path / "a.git"], offline=True)
    with pytest.raises(KvdiffError, match=r"mm/rmapp\.c does not exist at v1\.0.*mm/rmap\.c"):
        src.read("v1.0", "mm/rmapp.c")
    with pytest.raises(KvdiffError, match="is a directory"):
        src.read("v1.0", "mm")


@pytest.mark.parametrize("kind", ["missing", "not-a-repo"])
def test_bad_repo_option(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "r"
    if kind == "not-a-repo":
        path.mkdir()
        (path / "junk").write_text("x")
    src = sources(tmp_path, repos=[path], offline=True)
    with pytest.raises(KvdiffError, match=f"--repo {path}"):
        src.read("v1.0", "mm/rmap.c")


def _unusable_cache(tmp_path: Path, kind: str) -> Path:
    cache = tmp_path / "cache"
    if kind == "file":
        cache.write_text("not a directory")
    elif kind == "garbage-dir":
        cache.mkdir()
        (cache / "HEAD").write_bytes(os.urandom(64))
        (cache / "objects").write_text("garbage")
    elif kind == "work-tree":
        make_repo(cache, {"v1.0": FILES_A}, bare=False)
    return cache


@pytest.mark.parametrize("kind", ["file", "garbage-dir", "work-tree"])
def test_unusable_cache_says_delete_or_pass_cache(tmp_path: Path, kind: str) -> None:
    """Deleting is suggested only for a directory kvdiff made (issue 13): never for a file or a
    directory that is not a kvdiff cache."""
    cache = _unusable_cache(tmp_path, kind)
    src = sources(tmp_path, cache=cache, offline=True)
    with pytest.raises(KvdiffError) as err:
        src.read("v1.0", "mm/rmap.c")
    message = err.value.message
    assert str(cache) in message and "--cache" in message
    assert "not a kvdiff cache" in message and "delete" not in message
    assert "\n" not in message
    if kind != "file":  # the same directory, recognisably kvdiff's: deleting it is fine
        (cache / "kvdiff.flock").touch()
        with pytest.raises(KvdiffError) as err:
            sources(tmp_path, cache=cache, offline=True).read("v1.0", "mm/rmap.c")
        assert "delete" in err.value.message and "only holds fetched tags" in err.value.message


# -- over the git protocol (a local git daemon serving repositories built here) ----------------


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[GitDaemon]:
    base = tmp_path / "served"
    base.mkdir()
    make_repo(base / "first.git", {"v1.0": FILES_A})
    make_repo(base / "second.git", {"v1.0": FILES_B, "v1.1": FILES_B, "v1.10": FILES_A})
    d = GitDaemon(base).start()
    try:
        yield d
    finally:
        d.stop()


def net_sources(tmp_path: Path, daemon: GitDaemon, **kwargs) -> Sources:  # type: ignore[no-untyped-def]
    return Sources(
        SourceConfig(
            cache=tmp_path / "cache",
            upstreams=(
                Upstream("first", daemon.url("first")),
                Upstream("second", daemon.url("second")),
            ),
            **kwargs,
        )
    )


def test_fetch_takes_first_upstream_that_has_tag_shallow_and_alone(
    tmp_path: Path, daemon: GitDaemon
) -> None:
    src = net_sources(tmp_path, daemon, quiet=True)
    assert src.upstream_tags() == {"v1.0": "first", "v1.1": "second", "v1.10": "second"}
    info = src.ensure("v1.0")
    assert (info.origin, info.fetched) == ("first", True)
    assert info.received_objects > 0 and info.received_bytes > 0
    assert src.read("v1.0", "mm/rmap.c").data == FILES_A["mm/rmap.c"]  # from first, not second
    # A partial cache: what is read offline later must be fetched now (paths), or read once.
    (v11,) = src.ensure_all(["v1.1"], paths=["README", "mm/rmap.c"])
    assert v11.origin == "second" and v11.mode == "partial"
    cache = pygit2.Repository(str(tmp_path / "cache"))
    assert cache.is_bare and cache.is_shallow
    assert sorted(r for r in cache.references if r.startswith("refs/tags/")) == [
        "refs/tags/v1.0",
        "refs/tags/v1.1",
    ]
    # A later run, with the daemon gone, still knows which upstream served each tag.
    daemon.stop()
    later = net_sources(tmp_path, daemon, offline=True)
    assert later.ensure("v1.1") == later.ensure("v1.1")
    assert later.read("v1.1", "README").origin == "second"
    assert later.ensure("v1.0").fetched is False
    assert later.available_tags() == ["v1.0", "v1.1"]


def test_unknown_tag_names_upstreams_and_closest(tmp_path: Path, daemon: GitDaemon) -> None:
    src = net_sources(tmp_path, daemon, quiet=True)
    with pytest.raises(KvdiffError) as err:
        src.ensure("v1.11")
    assert err.value.message == "tag v1.11 not found in first, second; closest: v1.10, v1.1, v1.0"


def test_stale_lock_files_from_a_killed_fetch_are_cleared(
    tmp_path: Path, daemon: GitDaemon
) -> None:
    src = net_sources(tmp_path, daemon, quiet=True)
    src.ensure("v1.0")
    cache = tmp_path / "cache"
    # What libgit2 leaves behind when SIGKILLed mid-fetch.
    (cache / "refs" / "tags" / "v1.1.lock").write_text("x")
    (cache / "shallow.lock").write_text("x")
    (cache / "objects" / "pack" / "pack_git2_abc123").write_bytes(b"partial")
    again = net_sources(tmp_path, daemon, quiet=True)
    assert again.read("v1.1", "mm/rmap.c").data == FILES_B["mm/rmap.c"]
    assert not list(cache.rglob("*.lock"))
    assert not (cache / "objects" / "pack" / "pack_git2_abc123").exists()


def test_unreachable_upstream(tmp_path: Path) -> None:
    url = f"git://127.0.0.1:{free_port()}/nothing.git"
    src = Sources(SourceConfig(cache=tmp_path / "c", upstreams=(Upstream("mainline", url),)))
    with pytest.raises(KvdiffError) as err:
        src.ensure("v1.0")
    message = err.value.message
    assert message.startswith(f"cannot reach upstream mainline ({url}): ")
    assert message.endswith("; " + HINT)
    assert "\n" not in message
