"""``kvdiff fetch --repair``: fix a damaged cache in place and re-fetch its damaged tags.

The checks and file rewrites are in :mod:`analyzers.source.integrity`; this module drives them
with a :class:`~analyzers.source.repo.Sources` (its lock, its upstreams, its provenance file).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import replace

from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.source import integrity
from kvdiff.analyzers.source.repo import Sources, TagInfo
from kvdiff.analyzers.versions import sort_tags


def repair(sources: Sources, tags: Iterable[str] = ()) -> tuple[list[str], list[TagInfo]]:
    """``kvdiff fetch --repair``: fix the cache in place (see :mod:`analyzers.source.integrity`)
    and re-fetch ``tags`` and every tag found damaged. Returns what was fixed and the
    re-fetched tags."""
    cache = sources.config.cache
    if sources.config.offline:
        raise KvdiffError("--repair re-fetches damaged tags from the upstreams; drop --offline")
    if not cache.is_dir() or not integrity.is_kvdiff_cache(cache):
        raise KvdiffError(f"nothing to repair at {cache}: {integrity.cache_hint(cache)}")
    with sources._lock():
        plan = integrity.repair_metadata(cache)
        sources._trees.clear()
        sources._cache_repo = None  # reopen: packs and refs changed
        repo = sources._open_cache()
        wanted = dict.fromkeys(tags)
        for tag in sort_tags(integrity.listed_tags(cache) | plan.tags):
            if repo is None or not integrity.tag_readable(repo, tag):
                wanted[tag] = None
        infos = [_refetch(sources, tag) for tag in wanted]
    return plan.fixed, infos


def _refetch(sources: Sources, tag: str) -> TagInfo:
    """Fetch ``tag`` into an empty side repository (so the upstream sends every object of
    it), then move it into the cache over the damaged copy. Call under the cache lock."""
    side = sources.config.cache / "kvdiff-repair"
    shutil.rmtree(side, ignore_errors=True)
    integrity.drop_tag_ref(sources.config.cache, tag)
    sources._trees.pop(tag, None)
    info = Sources(replace(sources.config, cache=side, repos=())).ensure(tag)
    integrity.adopt(sources.config.cache, side, tag)
    sources._record_origins({tag: info.origin})
    sources._cache_repo = None
    return info
