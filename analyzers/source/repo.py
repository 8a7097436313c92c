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
from dataclasses import dataclass
from pathlib import Path

import pygit2
from kvdiff.analyzers.errors import KvdiffError, os_error_hint, os_error_text
from kvdiff.analyzers.source import integrity
from kvdiff.analyzers.source.cachelock import LOCK_NAME, cache_lock, clear_stale_locks
from kvdiff.analyzers.source.cachelock import write_atomic as _write_atomic
from kvdiff.analyzers.source.progress import FetchCallbacks, progress_enabled
from kvdiff.analyzers.versions import closest_tags, sort_tags
from pygit2.enums import RepositoryOpenFlag

# Which upstream served each fetched tag, so that later runs can still say so.
ORIGINS_NAME = "kvdiff-origins.json"
_TAG_PREFIX = "refs/tags/"


@dataclass(frozen=True)
class Upstream:
    name: str
    url: str


# A C file larger than this is refused before it is parsed: parsing and highlighting take about
# 40 times the file's size in memory (a 66 MB file made `report` use 7.6 GB). The largest .c file
# of a 6.x kernel is a few MB. Raise it with --max-file-size.
DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class SourceConfig:
    cache: Path
    upstreams: tuple[Upstream, ...]
    repos: tuple[Path, ...] = ()
    offline: bool = False
    quiet: bool = False
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES


@dataclass(frozen=True)
class TagInfo:
    tag: str
    origin: str  # upstream name, or the repo path for --repo
    target_id: str  # the peeled commit (or tree, for tags of trees) id
    fetched: bool = False  # True when this run fetched it
    received_bytes: int = 0
    received_objects: int = 0


@dataclass(frozen=True)
class SourceFile:
    tag: str
    path: str
    blob_id: str
    origin: str
    data: bytes


def peel_to_tree(obj: pygit2.Object) -> pygit2.Tree:
    """Peel a tag/commit/tree object to its tree (v2.6.11 tags a tree, not a commit)."""
    return obj.peel(pygit2.Tree)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _size_hint(size: int) -> str:
    return f"{-(-size // (1024 * 1024))}M"


def _delete_hint(cache: Path) -> str:
    return integrity.cache_hint(cache)


class Sources:
    """Reads files at tags from ``--repo`` clones or the cache, fetching missing tags shallowly."""

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self._repos: list[tuple[Path, pygit2.Repository]] | None = None
        self._heads: dict[str, frozenset[str]] = {}  # upstream name -> ref names (per-run memo)
        self._trees: dict[str, tuple[pygit2.Tree, TagInfo]] = {}
        self._locked = False  # flock is per open file: never take it twice in one process

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
        """The cache repository, or None when it does not exist yet (nothing fetched)."""
        cache = self.config.cache
        problem = self._cache_problem()
        if problem:
            raise KvdiffError(problem)
        if not cache.is_dir() or not any(p.name != LOCK_NAME for p in cache.iterdir()):
            return None
        try:
            repo = pygit2.Repository(str(cache), RepositoryOpenFlag.NO_SEARCH)
        except pygit2.GitError as exc:
            if not self._locked and (cache / LOCK_NAME).exists():
                # Another kvdiff may be creating it right now; it holds the lock until done.
                with self._lock():
                    return self._open_cache()
            problem = (
                integrity.metadata_problem(cache) if integrity.is_kvdiff_cache(cache) else None
            )
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
            return pygit2.init_repository(str(self.config.cache), bare=True)
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

    def _record_origin(self, tag: str, upstream: str) -> None:
        """Record (before fetching: a full disk then stops the fetch instead of losing the
        provenance of a fetched tag) atomically, keeping the previous file as ``.prev``."""
        origins = self._origins()
        if origins.get(tag) == upstream:
            return
        origins[tag] = upstream
        path = self.config.cache / ORIGINS_NAME
        try:
            if path.exists():
                prev = path.with_name(ORIGINS_NAME + ".prev")
                prev.unlink(missing_ok=True)
                os.link(path, prev)
            _write_atomic(path, json.dumps(origins, sort_keys=True, indent=1) + "\n")
        except OSError as exc:
            raise KvdiffError(
                f"cannot record where {tag} comes from in {path}: {os_error_text(exc)} (the "
                f"previous file is kept); {os_error_hint(exc, '--cache DIR')}"
            ) from None

    @staticmethod
    def _peel_tag(repo: pygit2.Repository, tag: str) -> tuple[pygit2.Tree, str] | None:
        try:
            ref = repo.references.get(_TAG_PREFIX + tag)
        except (pygit2.GitError, ValueError):
            return None
        if ref is None:
            return None
        target = ref.peel()  # through annotated tags to the commit, or the tree (v2.6.11)
        return peel_to_tree(target), str(target.id)

    def _lookup_local(self, tag: str) -> tuple[pygit2.Tree, TagInfo] | None:
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
            if found is not None:
                tree, target = found
                result = (tree, TagInfo(tag=tag, origin=str(path), target_id=target))
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
        tree, target = found
        origin = self._origins().get(tag, "cache")
        result = (tree, TagInfo(tag=tag, origin=origin, target_id=target))
        self._trees[tag] = result
        return result

    # -- upstreams ------------------------------------------------------------------------

    def _list_heads(self, repo: pygit2.Repository, upstream: Upstream) -> frozenset[str]:
        if upstream.name not in self._heads:
            try:
                remote = repo.remotes.create_anonymous(upstream.url)
                heads = remote.list_heads()
            except pygit2.GitError as exc:
                raise KvdiffError(
                    f"cannot reach upstream {upstream.name} ({upstream.url}): {_one_line(exc)}; "
                    "check the URL or use --repo/--offline"
                ) from None
            self._heads[upstream.name] = frozenset(h.name for h in heads)
        return self._heads[upstream.name]

    def _listing_repo(self) -> pygit2.Repository:
        # libgit2 needs a repository to create a remote in; the cache is where we fetch anyway.
        with self._lock():
            return self._create_cache()

    def _find_upstream(self, tag: str) -> Upstream:
        if not self.config.upstreams:
            raise KvdiffError(
                f"tag {tag} is not in the cache or repos and no upstream is configured; "
                "pass --upstream NAME=URL or --repo PATH"
            )
        repo = self._listing_repo()
        seen: set[str] = set()
        for upstream in self.config.upstreams:
            heads = self._list_heads(repo, upstream)
            if _TAG_PREFIX + tag in heads:
                return upstream
            seen |= {h[len(_TAG_PREFIX) :] for h in heads if h.startswith(_TAG_PREFIX)}
        seen = {t.removesuffix("^{}") for t in seen}
        close = closest_tags(tag, seen)
        names = ", ".join(u.name for u in self.config.upstreams)
        hint = f"closest: {', '.join(close)}" if close else "the upstreams list no similar tag"
        raise KvdiffError(f"tag {tag} not found in {names}; {hint}")

    def _fetch(self, tag: str, upstream: Upstream) -> TagInfo:
        cache = self.config.cache
        with self._lock():
            repo = self._create_cache()
            # Another kvdiff may have fetched it while we waited for the lock.
            found = self._peel_tag(repo, tag)
            if found is not None:
                tree, target = found
                info = TagInfo(tag, self._origins().get(tag, upstream.name), target)
                self._trees[tag] = (tree, info)
                return info
            clear_stale_locks(cache)
            callbacks = FetchCallbacks(
                f"fetching {tag} from {upstream.name}", progress_enabled(self.config.quiet)
            )
            self._record_origin(tag, upstream.name)
            try:
                remote = repo.remotes.create_anonymous(upstream.url)
                # Only this tag, only its snapshot: a full kernel clone is gigabytes.
                stats = remote.fetch(
                    [f"+{_TAG_PREFIX}{tag}:{_TAG_PREFIX}{tag}"], depth=1, callbacks=callbacks
                )
            except pygit2.GitError as exc:
                raise KvdiffError(
                    f"cannot fetch {tag} from upstream {upstream.name} ({upstream.url}): "
                    f"{_one_line(exc)}; {integrity.fetch_hint(str(exc), cache)}"
                ) from None
            finally:
                callbacks.finish()
            found = self._peel_tag(repo, tag)
        if found is None:
            raise KvdiffError(
                f"upstream {upstream.name} listed {tag} but the fetch did not deliver it; "
                "rerun, or use --repo"
            )
        tree, target = found
        info = TagInfo(
            tag=tag,
            origin=upstream.name,
            target_id=target,
            fetched=True,
            received_bytes=stats.received_bytes,
            received_objects=stats.received_objects,
        )
        self._trees[tag] = (tree, TagInfo(tag, upstream.name, target))
        return info

    # -- public API -----------------------------------------------------------------------

    def ensure(self, tag: str) -> TagInfo:
        """Make ``tag`` available (fetching it shallowly if needed) and say where it came from."""
        return self.ensure_all([tag])[0]

    def ensure_all(self, tags: Iterable[str]) -> list[TagInfo]:
        """:meth:`ensure` for several tags; offline, one error names every missing tag."""
        tags = list(tags)
        local = {tag: self._lookup_local(tag) for tag in tags}
        missing = [tag for tag in tags if local[tag] is None]
        if missing and self.config.offline:
            raise KvdiffError(
                f"not available offline: {', '.join(missing)} (not in cache "
                f"{self.config.cache}{' or --repo' if self.config.repos else ''}); "
                "drop --offline to fetch, or run kvdiff fetch first"
            )
        infos = []
        for tag in tags:
            found = local[tag]
            if found is not None:
                infos.append(found[1])
            else:
                infos.append(self._fetch(tag, self._find_upstream(tag)))
        return infos

    def _tree(self, tag: str) -> tuple[pygit2.Tree, TagInfo]:
        found = self._lookup_local(tag)
        if found is None:
            self.ensure(tag)
            found = self._lookup_local(tag)
        assert found is not None  # ensure() either delivers the tag or raises
        return found

    def _entry(self, tag: str, path: str) -> tuple[pygit2.Object | None, pygit2.Tree, TagInfo]:
        tree, info = self._tree(tag)
        clean = posixpath.normpath(path.strip("/"))
        try:
            return tree[clean], tree, info
        except KeyError:
            return None, tree, info
        except pygit2.GitError as exc:
            raise self._damaged_object(tag, info, exc) from None

    def _damaged_object(self, tag: str, info: TagInfo, exc: BaseException) -> KvdiffError:
        if info.origin in {str(p) for p in self.config.repos}:
            return KvdiffError(
                f"--repo {info.origin} is damaged at tag {tag} ({_one_line(exc)}); "
                "repair the clone (git fsck) or drop --repo"
            )
        return integrity.damaged(self.config.cache, tag, exc)

    def _missing_path(self, tree: pygit2.Tree, tag: str, path: str, origin: str) -> KvdiffError:
        parent, _, name = posixpath.normpath(path.strip("/")).rpartition("/")
        try:
            folder = tree[parent] if parent else tree
            names = [e.name for e in folder] if isinstance(folder, pygit2.Tree) else []
        except KeyError:
            names = []
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = (
            "closest: " + ", ".join(posixpath.join(parent, c) for c in close)
            if close
            else "check the path (e.g. mm/rmap.c)"
        )
        return KvdiffError(f"{path} does not exist at {tag} (from {origin}); {hint}")

    def read(self, tag: str, path: str) -> SourceFile:
        entry, tree, info = self._entry(tag, path)
        if entry is None:
            raise self._missing_path(tree, tag, path, info.origin)
        try:
            obj = entry.peel(pygit2.Blob) if not isinstance(entry, pygit2.Blob) else entry
        except (pygit2.GitError, ValueError, pygit2.InvalidSpecError):
            raise KvdiffError(
                f"{path} at {tag} is a directory, not a file; pass a file path such as mm/rmap.c"
            ) from None
        try:
            data = obj.data
        except pygit2.GitError as exc:
            raise self._damaged_object(tag, info, exc) from None
        limit, size = self.config.max_file_bytes, len(data)
        if size > limit:
            raise KvdiffError(
                f"{path} at {tag} is {size:,} bytes, over the {limit:,}-byte limit "
                f"(parsing takes ~40x that in memory); pass --max-file-size {_size_hint(size)} "
                "to read it anyway"
            )
        return SourceFile(tag=tag, path=path, blob_id=str(obj.id), origin=info.origin, data=data)

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
        """Tag -> name of the first upstream (in order) whose listing has it; {} offline."""
        if self.config.offline or not self.config.upstreams:
            return {}
        repo = self._listing_repo()
        result: dict[str, str] = {}
        for upstream in self.config.upstreams:
            for head in sorted(self._list_heads(repo, upstream)):
                if head.startswith(_TAG_PREFIX) and not head.endswith("^{}"):
                    result.setdefault(head[len(_TAG_PREFIX) :], upstream.name)
        return {tag: result[tag] for tag in sort_tags(result)}
