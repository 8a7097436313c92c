"""The plain data of the source stage: where sources come from and what a read returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the plain data imports no libgit2: a warm `kvdiff history` opens no repository
    import pygit2

# Seconds an upstream may stay silent before a fetch gives up.
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Upstream:
    """A named upstream repository and where it is."""

    name: str
    url: str


# A C file larger than this is refused before it is parsed: parsing and highlighting take about
# 40 times the file's size in memory (a 66 MB file made `report` use 7.6 GB). The largest .c file
# of a 6.x kernel is a few MB. Raise it with --max-file-size.
DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class SourceConfig:
    """Where the sources come from and where they are cached."""

    cache: Path
    upstreams: tuple[Upstream, ...]
    repos: tuple[Path, ...] = ()
    offline: bool = False
    quiet: bool = False
    timeout: float = DEFAULT_TIMEOUT  # seconds an upstream may stay silent
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES


@dataclass(frozen=True)
class TagInfo:
    """A tag as resolved: which upstream has it and what it points at."""

    tag: str
    origin: str  # upstream name, or the repo path for --repo
    target_id: str  # the peeled commit (or tree, for tags of trees) id
    fetched: bool = False  # True when this run fetched it
    received_bytes: int = 0
    received_objects: int = 0
    mode: str = ""  # how this run fetched it: partial, blob:none or full ("" if not fetched)


class Missing(Exception):
    """A tree the cache only promises, met while walking with fetching deferred."""

    def __init__(self, oid: pygit2.Oid, levels: int) -> None:
        super().__init__(str(oid))
        self.oid = oid
        self.levels = levels  # tree levels below it that the path needs


@dataclass(frozen=True)
class SourceFile:
    """One file at one tag: its bytes and where they came from."""

    tag: str
    path: str
    blob_id: str
    origin: str
    data: bytes
    # The kernel version of the tree the file comes from, for a tag that is not shaped like one
    # (``wild/oppo-msm-4.19.110``, a --repo branch or commit): read from the tree's top-level
    # Makefile (``version_from = "Makefile"``). "" for a version tag, which is its own version.
    version: str = ""
    version_from: str = ""
