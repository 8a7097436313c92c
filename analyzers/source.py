"""Kernel source access: read a file at a tag from a bare cache or local clones, never a checkout.

CONTRACT (shared by every later stage; keep these names and fields stable):

- ``SourceConfig``: where sources come from (cache dir, named upstreams in order, local repos,
  offline/quiet flags).
- ``Sources(config).read(tag, path) -> SourceFile``: the bytes of ``path`` at ``tag``, its blob id,
  and which upstream (by name) or repo (by path) served it. Fetches the tag first if needed.
- ``Sources(config).ensure(tag) -> TagInfo``: make the tag available (fetch shallow if needed).
- ``Sources(config).blob_id(tag, path) -> str``: the blob id without reading the blob.
- ``Sources(config).available_tags() -> list[str]``: tags the cache and repos hold.

Errors are :class:`analyzers.errors.KvdiffError` with one line that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygit2

from .errors import KvdiffError


@dataclass(frozen=True)
class Upstream:
    name: str
    url: str


@dataclass(frozen=True)
class SourceConfig:
    cache: Path
    upstreams: tuple[Upstream, ...]
    repos: tuple[Path, ...] = ()
    offline: bool = False
    quiet: bool = False


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


class Sources:
    """Reads files at tags. Placeholder: only ``--repo`` reading until source access lands."""

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self._repos = [pygit2.Repository(str(p)) for p in config.repos]

    def _lookup(self, tag: str) -> tuple[pygit2.Tree, str]:
        for path, repo in zip(self.config.repos, self._repos, strict=True):
            try:
                ref = repo.references.get(f"refs/tags/{tag}")
            except pygit2.GitError:
                ref = None
            if ref is not None:
                return peel_to_tree(ref.peel()), str(path)
        raise KvdiffError(f"tag {tag} not found in the given repos")

    def read(self, tag: str, path: str) -> SourceFile:
        tree, origin = self._lookup(tag)
        try:
            entry = tree[path]
        except KeyError:
            raise KvdiffError(f"{path} does not exist at {tag}") from None
        blob = entry.peel(pygit2.Blob) if hasattr(entry, "peel") else entry
        return SourceFile(tag=tag, path=path, blob_id=str(blob.id), origin=origin, data=blob.data)
