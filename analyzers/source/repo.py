"""Kernel source access: read a file at a tag from a bare cache or local clones, never a checkout.

CONTRACT (shared by every later stage; keep these names and fields stable):

- ``SourceConfig``: where sources come from (cache dir, named upstreams in order, local repos,
  offline/quiet flags). Build one with :func:`analyzers.config.build_source_config`.
- ``Sources(config).read(tag, path) -> SourceFile``: the bytes of ``path`` at ``tag``, its blob id,
  and which upstream (by name) or repo (by path) served it. Fetches the tag first if needed.
- ``Sources(config).ensure(tag) -> TagInfo``: make the tag available (fetch shallow if needed).
- ``Sources(config).blob_id(tag, path) -> str | None``: the blob id without reading the blob
  (None when the path does not exist at that tag).
- ``Sources(config).available_tags() -> list[str]``: tags the cache and repos hold, version order.
- ``Sources(config).upstream_tags() -> dict[str, str]``: tag -> first upstream that lists it.
- ``Sources(config).tree_version(tag) -> (version, "Makefile")``: for a tag not shaped like a
  version, the kernel version its top-level Makefile declares (``read`` records it in the
  ``SourceFile``); ``("", "")`` when there is none.

A ``--repo`` clone also serves any revision git understands (a branch, ``HEAD``, a commit id):
the name is tried as a tag first, then as a revision of each clone in order.

Lookup order for a tag: the ``--repo`` clones (read-only), then the cache, then the upstreams in
order (unless offline): the first upstream whose ref listing has ``refs/tags/TAG`` serves it, and
only that tag is fetched, at depth 1, into the cache. Errors are :class:`KvdiffError` with one line
that says what to do; no pygit2 exception escapes this module.
"""

from __future__ import annotations

import difflib
import json
import os
import posixpath
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import pygit2
from kvdiff.analyzers import errors
from kvdiff.analyzers.errors import DamagedTag, KvdiffError, os_error_hint, os_error_text
from kvdiff.analyzers.source import gitmemory, integrity
from kvdiff.analyzers.source.cachelock import LOCK_NAME, ORIGINS_NAME, OWN_FILES, cache_lock
from kvdiff.analyzers.source.cachelock import write_atomic as _write_atomic
from kvdiff.analyzers.source.fetching import FetchingMixin
from kvdiff.analyzers.source.treeversion import makefile_version
from kvdiff.analyzers.source.types import Missing, SourceConfig, SourceFile, TagInfo, Upstream
from kvdiff.analyzers.versions import parse_version, sort_tags
from pygit2.enums import RepositoryOpenFlag

# The contract's names stay importable from here.
__all__ = ["DEFAULT_PATH", "SourceConfig", "SourceFile", "Sources", "TagInfo", "Upstream"]

# The file most commands read; a fetch without paths keeps the trees down to it.
DEFAULT_PATH = "mm/rmap.c"
_TAG_PREFIX = "refs/tags/"


def peel_to_tree(obj: pygit2.Object) -> pygit2.Tree:
    """Peel a tag/commit/tree object to its tree (v2.6.11 tags a tree, not a commit)."""
    return obj.peel(pygit2.Tree)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _delete_hint(cache: Path) -> str:
    return integrity.cache_hint(cache)


def _size_hint(size: int) -> str:
    return f"{-(-size // (1024 * 1024))}M"


class Sources(FetchingMixin):
    """Reads files at tags from ``--repo`` clones or the cache, fetching missing tags shallowly."""

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self._memory = gitmemory.Bound()  # flat memory however many tags are read
        self._repos: list[tuple[Path, pygit2.Repository]] | None = None
        # tag -> (repository holding it, its root tree id, where it came from)
        self._trees: dict[str, tuple[pygit2.Repository, pygit2.Oid, TagInfo]] = {}
        self._locked = False  # flock is per open file: never take it twice in one process
        self._cache_repo: pygit2.Repository | None = None  # opened once per run
        self._defer = False  # while batching: a missing tree raises Missing, no fetch
        self._versions: dict[str, tuple[str, str]] = {}  # tag -> tree_version(tag)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        if self._locked:
            yield
            return
        cache = self.config.cache
        with ExitStack() as stack:
            try:
                cache.mkdir(parents=True, exist_ok=True)
                stack.enter_context(cache_lock(cache))
            except OSError as exc:
                raise KvdiffError(
                    f"cannot use cache {cache}: {os_error_text(exc)}; "
                    f"{os_error_hint(exc, '--cache DIR')}"
                ) from None
            self._locked = True
            try:
                yield
            finally:
                self._locked = False

    # -- local repositories ---------------------------------------------------------------

    def _local_repos(self) -> list[tuple[Path, pygit2.Repository]]:
        if self._repos is None:
            repos = []
            for path in self.config.repos:
                if not path.exists():
                    raise KvdiffError(
                        f"--repo {path} does not exist; pass the path of a kernel git clone"
                    )
                try:
                    repos.append((path, pygit2.Repository(str(path))))
                except pygit2.GitError as exc:
                    raise KvdiffError(
                        f"--repo {path} is not a git repository ({_one_line(exc)}); "
                        "pass the path of a kernel git clone"
                    ) from None
            self._repos = repos
        return self._repos

    def _cache_problem(self) -> str | None:
        cache = self.config.cache
        if cache.exists() and not cache.is_dir():
            return f"cache {cache} is a file, not a directory; {_delete_hint(cache)}"
        return None

    def _open_cache(self) -> pygit2.Repository | None:
        """The cache repository (opened once), or None when it does not exist yet."""
        if self._cache_repo is None:
            self._cache_repo = self._open_cache_uncached()
        return self._cache_repo

    def _open_cache_uncached(self) -> pygit2.Repository | None:
        cache = self.config.cache
        problem = self._cache_problem()
        if problem:
            raise KvdiffError(problem)
        if not cache.is_dir() or not any(p.name not in OWN_FILES for p in cache.iterdir()):
            return None
        try:
            repo = pygit2.Repository(str(cache), RepositoryOpenFlag.NO_SEARCH)
        except pygit2.GitError as exc:
            if not self._locked and (cache / LOCK_NAME).exists():
                # Another kvdiff may be creating it right now; it holds the lock until done.
                with self._lock():
                    return self._open_cache_uncached()
            ours = integrity.is_kvdiff_cache(cache)
            problem = integrity.metadata_problem(cache) if ours else None
            if problem:
                raise KvdiffError(
                    f"cache {cache} is damaged: {problem} ({_one_line(exc)}); run kvdiff fetch "
                    "--repair to fix it in place"
                ) from None
            raise KvdiffError(
                f"cache {cache} is not a git repository ({_one_line(exc)}); {_delete_hint(cache)}"
            ) from None
        if not repo.is_bare:
            raise KvdiffError(f"cache {cache} is not a bare repository; {_delete_hint(cache)}")
        return repo

    def _create_cache(self) -> pygit2.Repository:
        """Open or create the bare cache. Call only while holding the cache lock."""
        repo = self._open_cache()
        if repo is not None:
            return repo
        try:
            self._cache_repo = pygit2.init_repository(str(self.config.cache), bare=True)
            return self._cache_repo
        except (pygit2.GitError, OSError) as exc:
            raise KvdiffError(
                f"cannot create cache {self.config.cache} ({_one_line(exc)}); "
                "pass --cache DIR somewhere writable (with free space)"
            ) from None

    def _origins(self) -> dict[str, str]:
        # The previous version is kept beside it: a damaged file falls back to it.
        for name in (ORIGINS_NAME, ORIGINS_NAME + ".prev"):
            try:
                data = json.loads((self.config.cache / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                return {str(k): str(v) for k, v in data.items()}
        return {}  # only used to report provenance; a lost file just says "cache"

    def _record_origins(self, served: dict[str, str]) -> None:
        """Record atomically, keeping the previous file as ``.prev``; a full disk is one line
        (called before the fetch, so a fetched tag never loses its provenance)."""
        origins = self._origins()
        if all(origins.get(tag) == name for tag, name in served.items()):
            return
        origins.update(served)
        path = self.config.cache / ORIGINS_NAME
        try:
            if path.exists():
                prev = path.with_name(ORIGINS_NAME + ".prev")
                prev.unlink(missing_ok=True)
                os.link(path, prev)
            _write_atomic(path, json.dumps(origins, sort_keys=True, indent=1) + "\n")
        except OSError as exc:
            raise KvdiffError(
                f"cannot record where {', '.join(served)} comes from in {path}: "
                f"{os_error_text(exc)} (the previous file is kept); "
                f"{os_error_hint(exc, '--cache DIR')}"
            ) from None

    def _peel_tag(self, repo: pygit2.Repository, tag: str) -> tuple[pygit2.Oid, str] | None:
        """(root tree id, peeled target id) of ``tag``; the tree itself may be only promised."""
        try:
            ref = repo.references.get(_TAG_PREFIX + tag)
        except (pygit2.GitError, ValueError):
            return None
        if ref is None:
            return None
        target = ref.peel()  # through annotated tags to the commit, or the tree (v2.6.11)
        self._memory.read(repo)
        tree_id = target.id if isinstance(target, pygit2.Tree) else target.tree_id
        return tree_id, str(target.id)

    @staticmethod
    def _peel_revision(repo: pygit2.Repository, rev: str) -> tuple[pygit2.Oid, str] | None:
        """:meth:`_peel_tag` for a clone's branch, ``HEAD`` or commit id (``--repo`` only)."""
        if rev.startswith("-") or not rev.strip():
            return None  # never an option-looking revision
        try:
            target = repo.revparse_single(rev).peel(pygit2.Commit)
        except (pygit2.GitError, KeyError, ValueError, pygit2.InvalidSpecError):
            return None
        return target.tree_id, str(target.id)

    def _lookup_local(self, tag: str) -> tuple[pygit2.Repository, pygit2.Oid, TagInfo] | None:
        if tag in self._trees:
            return self._trees[tag]
        for path, repo in self._local_repos():
            try:
                found = self._peel_tag(repo, tag)
            except (pygit2.GitError, KeyError, ValueError) as exc:
                raise KvdiffError(
                    f"--repo {path} is damaged at tag {tag} ({_one_line(exc)}); "
                    "repair the clone or drop --repo"
                ) from None
            if found is None and parse_version(tag) is None:
                found = self._peel_revision(repo, tag)
            if found is not None:
                tree_id, target = found
                result = (repo, tree_id, TagInfo(tag=tag, origin=str(path), target_id=target))
                self._trees[tag] = result
                return result
        cache = self._open_cache()
        if cache is None:
            return None
        try:
            found = self._peel_tag(cache, tag)
        except (pygit2.GitError, KeyError, ValueError) as exc:
            raise integrity.damaged(self.config.cache, tag, exc) from None
        if found is None:
            if tag in integrity.listed_tags(self.config.cache):
                raise integrity.damaged(self.config.cache, tag, None)  # a ref libgit2 cannot read
            return None
        tree_id, target = found
        origin = self._origins().get(tag, "cache")
        result = (cache, tree_id, TagInfo(tag=tag, origin=origin, target_id=target))
        self._trees[tag] = result
        return result

    # -- public API -----------------------------------------------------------------------

    def ensure(self, tag: str) -> TagInfo:
        """Make ``tag`` available (fetching it shallowly if needed) and say where it came from."""
        return self.ensure_all([tag])[0]

    def ensure_all(self, tags: Iterable[str], paths: Iterable[str] = ()) -> list[TagInfo]:
        """:meth:`ensure` for several tags, in one fetch per upstream; offline, one error names
        every missing tag. With ``paths``, the files at those paths are fetched too (one more
        batch per upstream), so that reading them later needs no network."""
        tags = list(dict.fromkeys(tags))
        paths = [posixpath.normpath(p.strip("/")) for p in paths]
        local = {tag: self._lookup_local(tag) for tag in tags}
        missing = [tag for tag in tags if local[tag] is None]
        if missing and self.config.offline:
            raise KvdiffError(
                f"not available offline: {', '.join(missing)} (not in cache "
                f"{self.config.cache}{' or --repo' if self.config.repos else ''}); "
                "drop --offline to fetch, or run kvdiff fetch first"
            )
        by_upstream: dict[str, list[str]] = {}
        for tag in missing:
            by_upstream.setdefault(self.net.find_upstream(tag).name, []).append(tag)
        fetched: dict[str, TagInfo] = {}
        for name, group in by_upstream.items():
            upstream = self._upstream(name)
            assert upstream is not None
            # Trees along the command's own file only: a tree:N filter reaching arch/x86/include/
            # would bring every kernel directory to that depth (the others come by id).
            for info in self._fetch_batch(upstream, group, paths[:1] or [DEFAULT_PATH]):
                fetched[info.tag] = info
        if paths:
            self._prefetch_files(tags, paths)
        return [fetched[tag] if tag in fetched else local[tag][2] for tag in tags]  # type: ignore[index]

    def _load(
        self, repo: pygit2.Repository, oid: pygit2.Oid, tag: str, path: str, levels: int
    ) -> pygit2.Object:
        """The object ``oid``, fetched on demand when the cache only promises it."""
        try:
            obj = repo.get(oid)  # reads (inflates) it whole: a damaged object fails here
        except pygit2.GitError as exc:
            raise self._damaged_object(repo, tag, exc) from None
        self._memory.read(repo)
        if obj is not None:
            return obj
        if self._defer and levels:
            raise Missing(oid, levels)
        if repo is self._cache_repo and integrity.torn_packs(self.config.cache):
            # Not merely promised: a pack of the cache is cut short or gone (cheap to tell, and
            # only asked before an error or a network fetch).
            raise integrity.damaged(self.config.cache, tag, None)
        info = self._trees[tag][2]
        if repo is not self._cache_repo:
            raise KvdiffError(
                f"--repo {info.origin} lacks an object of {path} at {tag} ({oid}); "
                "repair the clone or drop --repo"
            )
        if self.config.offline:
            raise KvdiffError(
                f"{path} at {tag} is not in the cache (the partial fetch from {info.origin} "
                f"left out object {str(oid)[:12]}); drop --offline to fetch it"
            )
        kind = "file" if levels == 0 else "directory"
        self._fetch_objects(
            info.origin, [str(oid)], tree_levels=levels, what=f"the {kind} {path} at {tag}"
        )
        obj = repo.get(oid)
        if obj is None:
            raise KvdiffError(
                f"upstream {info.origin} did not deliver {path} at {tag} ({str(oid)[:12]}); "
                "rerun, or use --repo"
            )
        return obj

    def _damaged_object(self, repo: pygit2.Repository, tag: str, exc: BaseException) -> KvdiffError:
        if repo is not self._cache_repo:
            return KvdiffError(
                f"--repo {self._trees[tag][2].origin} is damaged at tag {tag} "
                f"({_one_line(exc)}); repair the clone (git fsck) or drop --repo"
            )
        return integrity.damaged(self.config.cache, tag, exc)

    def damage(self, tag: str) -> DamagedTag | None:
        """The error reading ``tag``'s ref from the cache gives, or None (not a fetch)."""
        try:
            self._lookup_local(tag)
        except DamagedTag as exc:
            return exc
        return None

    def _tree(self, tag: str) -> tuple[pygit2.Repository, pygit2.Oid, TagInfo]:
        found = self._lookup_local(tag)
        if found is None:
            self.ensure(tag)
            found = self._lookup_local(tag)
        assert found is not None  # ensure() either delivers the tag or raises
        return found

    def _entry(self, tag: str, path: str) -> tuple[pygit2.Object | None, pygit2.Tree, TagInfo]:
        entry, tree, _, info = self._walk(tag, path)
        return entry, tree, info

    def _walk(self, tag: str, path: str) -> tuple[pygit2.Object | None, pygit2.Tree, str, TagInfo]:
        """The tree entry at ``path`` (None when absent), the last folder walked and its path.

        Trees are loaded one level at a time, so a tree the cache only promises is fetched
        (with the levels below it that ``path`` needs) instead of failing the whole lookup.
        """
        repo, tree_id, info = self._tree(tag)
        parts = posixpath.normpath(path.strip("/")).split("/")
        tree = self._load(repo, tree_id, tag, path, len(parts))
        for depth, name in enumerate(parts):
            folder = "/".join(parts[:depth])
            try:
                entry = tree[name]
            except KeyError:
                return None, tree, folder, info
            if depth == len(parts) - 1:
                return entry, tree, folder, info
            if entry.type_str != "tree":
                return None, tree, folder, info
            tree = self._load(repo, entry.id, tag, path, len(parts) - depth - 1)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns

    @staticmethod
    def _missing_path(
        folder: pygit2.Tree, parent: str, tag: str, path: str, origin: str
    ) -> KvdiffError:
        name = posixpath.normpath(path.strip("/"))[len(parent) :].strip("/").split("/")[0]
        names = [e.name for e in folder]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = "closest: " + ", ".join(posixpath.join(parent, c) for c in close) if close \
            else "check the path (e.g. mm/rmap.c)"  # fmt: skip
        return errors.MissingFile(f"{path} does not exist at {tag} (from {origin}); {hint}")

    def read(self, tag: str, path: str) -> SourceFile:
        entry, folder, parent, info = self._walk(tag, path)
        if entry is None:
            raise self._missing_path(folder, parent, tag, path, info.origin)
        if entry.type_str != "blob":
            raise KvdiffError(
                f"{path} at {tag} is a directory, not a file; pass a file path such as mm/rmap.c"
            )
        repo = self._trees[tag][0]
        blob = self._load(repo, entry.id, tag, path, 0)
        data, limit = blob.data, self.config.max_file_bytes
        if len(data) > limit:
            raise KvdiffError(
                f"{path} at {tag} is {len(data):,} bytes, over the {limit:,}-byte limit "
                f"(parsing takes ~40x that in memory); pass --max-file-size "
                f"{_size_hint(len(data))} to read it anyway"
            )
        version, version_from = self.tree_version(tag)
        return SourceFile(
            tag=tag,
            path=path,
            blob_id=str(blob.id),
            origin=info.origin,
            data=data,
            version=version,
            version_from=version_from,
        )

    def tree_version(self, tag: str) -> tuple[str, str]:
        """For a tag not shaped like a version: (the version its top-level Makefile declares,
        "Makefile"), or ("", "") without one. ("", "") for a version tag: it is its own."""
        if parse_version(tag) is not None:
            return "", ""
        if tag not in self._versions:
            version = None
            try:
                entry, _, _, _ = self._walk(tag, "Makefile")
                if entry is not None and entry.type_str == "blob":
                    blob = self._load(self._trees[tag][0], entry.id, tag, "Makefile", 0)
                    version = makefile_version(blob.data)
            except KvdiffError:
                # e.g. offline, and an older fetch left the Makefile out: the file itself is
                # still readable; the version is unknown, and `kvdiff check` says so per tag
                version = None
            self._versions[tag] = (version, "Makefile") if version else ("", "")
        return self._versions[tag]

    def blob_data(self, tag: str, path: str, blob_id: str) -> bytes:
        """:meth:`read`'s bytes of ``blob_id`` (``path`` at ``tag``), read by id: no tree walk."""
        data = self._load(self._tree(tag)[0], pygit2.Oid(hex=blob_id), tag, path, 0).data
        return data if len(data) <= self.config.max_file_bytes else self.read(tag, path).data

    def blob_id(self, tag: str, path: str) -> str | None:
        """The blob id of ``path`` at ``tag`` from the tree entry (the blob is not read)."""
        entry, _, _ = self._entry(tag, path)
        if entry is None or entry.type_str != "blob":
            return None
        return str(entry.id)

    def available_tags(self) -> list[str]:
        """Tags held by the ``--repo`` clones and the cache, in version order."""
        tags: set[str] = set()
        repos = [repo for _, repo in self._local_repos()]
        cache = self._open_cache()
        for repo in repos:
            for ref in repo.references:
                if ref.startswith(_TAG_PREFIX):
                    tags.add(ref[len(_TAG_PREFIX) :])
        if cache is not None:
            # A damaged packed-refs makes libgit2 fail: the file listing below names every tag.
            with suppress(pygit2.GitError):
                tags.update(
                    r[len(_TAG_PREFIX) :] for r in cache.references if r.startswith(_TAG_PREFIX)
                )
            # Refs libgit2 cannot read are listed too, so that reading them reports the damage
            # instead of the tag silently missing from a history.
            tags |= integrity.listed_tags(self.config.cache)
        return sort_tags(tags)

    def upstream_tags(self) -> dict[str, str]:
        """Tag -> name of the first upstream (in order) whose listing has it; {} offline.

        An unreachable upstream is skipped with a warning (an error when none is reachable)."""
        if self.config.offline or not self.config.upstreams:
            return {}
        result = self.net.upstream_tags()
        return {tag: result[tag] for tag in sort_tags(result)}
