"""libgit2's process-wide memory settings, bounded so that reading thousands of tags leaves
the process as large as reading a few.

- The object cache (256 MiB by default) keeps the small trees, commits and tags read: a
  history over 2,000 tags kept about 8 MiB of them, each used once. ``Sources`` keeps what it
  reuses itself (each tag's root tree id), so the cache is off.
- Packs are mapped in windows of 1 GiB, up to 8 GiB mapped: every page of a pack read stays in
  the process (a kernel clone's pack is several GiB, and 2,000 tags' trees are spread over
  it). Windows of 4 MiB, at most 8 MiB mapped at once, keep that flat; the pages stay in the
  kernel's page cache, so reading them again costs no I/O.
- Each pack keeps a delta base cache (up to 16 MiB, not configurable) that fills as blobs and
  trees are read and is let go only with the object database: :class:`Bound` releases a
  repository's database every :data:`RELEASE_EVERY` objects read (libgit2 reopens it on the
  next read: the pack index is mapped again, nothing is re-read from disk). Every 1,024 reads
  instead made a cold history over 2,000 tags 5% quicker, but its peak grew with the tags
  (49.0 MiB at 500, 54.4 at 2,000, against 45.7 and 46.6: ``bench/history.py``).
"""

from __future__ import annotations

import pygit2

_MIB = 1024 * 1024
WINDOW_SIZE = 4 * _MIB
MAPPED_LIMIT = 8 * _MIB
RELEASE_EVERY = 64


class Bound:
    """The settings above (applied on creation, for every repository opened after; they are
    process-wide and idempotent) and the count of objects read since the last release."""

    def __init__(self) -> None:
        pygit2.settings.enable_caching(False)
        pygit2.settings.mwindow_size = WINDOW_SIZE
        pygit2.settings.mwindow_mapped_limit = MAPPED_LIMIT
        self._reads = 0

    def read(self, repo: pygit2.Repository) -> None:
        """One object was read from ``repo``: every RELEASE_EVERY reads, release its database."""
        self._reads += 1
        if self._reads % RELEASE_EVERY == 0:
            repo.free()
