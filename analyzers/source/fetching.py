"""The fetching half of :class:`~kvdiff.analyzers.source.repo.Sources`: batches per upstream.

Per command: one depth-1 fetch of every missing tag per upstream (commits and the trees down to
the paths it reads), then the missing trees of deeper paths (one batch per level, rarely), then
the distinct blobs (one batch); objects the cache only promises are fetched from the remote that
served the tag. Mixed into ``Sources``, whose lookups (``_lookup_local``, ``_entry``, ``_lock``)
it uses.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import pygit2
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.source.cachelock import clear_stale_locks
from kvdiff.analyzers.source.types import Missing, TagInfo, Upstream

# The git plumbing (subprocesses, signals, probes) loads on the first fetch or probe: a run the
# cache serves, like a warm report, never needs it.
if TYPE_CHECKING:
    from kvdiff.analyzers.source.network import Network


class FetchingMixin:
    """Batched network fetches into the cache (see the module docstring)."""

    @cached_property
    def net(self) -> Network:
        """The upstreams' probes, fetches and fetch log, made on first use."""
        from kvdiff.analyzers.source.network import Network

        return Network(self.config.upstreams, self.config.timeout, self.config.quiet)

    def list_dir(self, tag: str, folder: str) -> list[str]:
        """The names of the files (blobs) directly in ``folder`` at ``tag``, sorted; [] when
        there is no such folder (a tree the cache only promises is fetched on demand)."""
        entry, _, _ = self._entry(tag, folder)
        if entry is None or entry.type_str != "tree":
            return []
        repo = self._trees[tag][0]
        tree = self._load(repo, entry.id, tag, folder, 1)
        return sorted(e.name for e in tree if e.type_str == "blob")

    def _upstream(self, name: str) -> Upstream | None:
        return next((u for u in self.config.upstreams if u.name == name), None)

    def local_info(self, tag: str) -> TagInfo | None:
        """``tag``'s origin and commit when the cache or a ``--repo`` clone holds it, else None:
        never fetches (what to fetch is decided elsewhere); a damaged ref raises as reading it
        would."""
        found = self._lookup_local(tag)
        return found[2] if found is not None else None

    def _fetch_batch(self, upstream: Upstream, tags: list[str], paths: list[str]) -> list[TagInfo]:
        """Fetch ``tags`` from ``upstream`` in one ``git fetch`` (commits and trees)."""
        with self._lock():
            repo = self._create_cache()
            # Another kvdiff may have fetched some while we waited for the lock.
            todo = [tag for tag in tags if self._peel_tag(repo, tag) is None]
            stats = None
            if todo:
                clear_stale_locks(self.config.cache)
                # Provenance first: a full disk then stops here, before any tag is fetched
                # whose origin could no longer be recorded.
                self._record_origins({tag: upstream.name for tag in todo})
                stats = self.net.fetch_tags(self.config.cache, upstream, todo, paths)
        infos = []
        for tag in tags:
            self._trees.pop(tag, None)
            found = self._lookup_local(tag)
            if found is None:
                raise KvdiffError(
                    f"upstream {upstream.name} listed {tag} but the fetch did not deliver it; "
                    "rerun, or use --repo"
                )
            info = found[2]
            if stats is not None and tag in todo:
                # One batch for all: the first tag carries the batch's figures.
                first = tag == todo[0]
                info = TagInfo(
                    tag=tag,
                    origin=upstream.name,
                    target_id=info.target_id,
                    fetched=True,
                    received_bytes=stats.bytes if first else 0,
                    received_objects=stats.objects if first else 0,
                    mode=stats.mode,
                )
            infos.append(info)
        return infos

    def _prefetch_files(self, tags: list[str], paths: list[str]) -> None:
        """Fetch what reading ``paths`` at ``tags`` needs and the cache only promises: missing
        trees (one batch per level and upstream, rarely needed), then blobs (one batch)."""
        cache = self._open_cache()
        if cache is None or self.config.offline:
            return
        todo = [
            (tag, path)
            for tag in tags
            if (found := self._lookup_local(tag)) is not None and found[0] is cache
            for path in paths
        ]
        for _ in range(max((p.count("/") + 2 for p in paths), default=1)):
            trees: dict[str, dict[str, int]] = {}  # origin -> tree id -> levels below
            blobs: dict[str, set[str]] = {}  # origin -> blob ids
            for tag, path in todo:
                origin = self._trees[tag][2].origin
                self._defer = True
                try:
                    entry, _, _ = self._entry(tag, path)
                except Missing as missing:
                    got = trees.setdefault(origin, {})
                    got[str(missing.oid)] = max(got.get(str(missing.oid), 0), missing.levels)
                    continue
                finally:
                    self._defer = False
                if entry is not None and entry.type_str == "blob" and entry.id not in cache:
                    blobs.setdefault(origin, set()).add(str(entry.id))
            for origin, ids in trees.items():
                what = f"{len(ids)} directory(ies)"
                self._fetch_objects(origin, sorted(ids), tree_levels=max(ids.values()), what=what)
            if not trees:
                for origin, ids in blobs.items():
                    self._fetch_objects(origin, sorted(ids), what=f"{len(ids)} file(s)")
                return

    def _fetch_objects(
        self, origin: str, ids: list[str], *, tree_levels: int = 0, what: str
    ) -> None:
        """Fetch objects by id from the upstream that served the tag (else each in order)."""
        # The objects are promised by the remote that served the tag, at the URL it had then;
        # if that URL fails, the URL this run configures under the same name.
        from kvdiff.analyzers.source import gitnet
        from kvdiff.analyzers.source.network import remote_name

        url = gitnet.remote_url(self.config.cache, remote_name(origin))
        current = self._upstream(origin) or next(iter(self.config.upstreams), None)
        candidates = [Upstream(origin, url)] if url else []
        if current is not None and current.url != url:
            candidates.append(current)
        if not candidates:
            raise KvdiffError(
                f"{what} missing from the cache and no upstream is configured to fetch them; "
                "pass --upstream NAME=URL (or set [upstreams] in kvdiff.toml) or --repo PATH"
            )
        with self._lock():
            # Another kvdiff may have fetched them while we waited for the lock.
            cache = self._open_cache()
            ids = [i for i in ids if cache is None or pygit2.Oid(hex=i) not in cache]
            if not ids:
                return
            clear_stale_locks(self.config.cache)
            for n, upstream in enumerate(candidates):
                try:
                    self.net.fetch_objects(
                        self.config.cache, upstream, ids, tree_levels=tree_levels, what=what
                    )
                    return
                except KvdiffError:
                    if n + 1 == len(candidates):
                        raise
