"""A fingerprint of every tag ref kvdiff reads: when it is unchanged, so is every tag's content.

Tags name commits, commits fix their trees and blobs: a run whose tag refs (and recorded
origins) are byte for byte those of an earlier run sees the same files at the same tags. The
fingerprint covers, for the cache and each ``--repo`` clone in order: the path, ``packed-refs``,
every file under ``refs/tags`` (names and contents) and, for the cache, the origins file. It is
read from the file system without libgit2 (a few file reads, no object lookups), so a warm
``kvdiff history`` can reuse its previous result before resolving thousands of tags.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from kvdiff.analyzers.source.config import SourceConfig
from kvdiff.analyzers.source.repo import ORIGINS_NAME


def _common_dir(path: Path) -> Path | None:
    """The git directory holding refs for a bare repository or a clone (``.git`` as a
    directory, a ``gitdir:`` file, or a worktree's ``commondir``); None when it is neither."""
    git = path / ".git"
    if git.is_file():
        text = git.read_text(encoding="utf-8", errors="replace").strip()
        if not text.startswith("gitdir:"):
            return None
        git = (path / text[len("gitdir:") :].strip()).resolve()
    elif not git.is_dir():
        git = path
    if not (git / "HEAD").exists():
        return None
    common = git / "commondir"
    if common.is_file():
        git = (git / common.read_text(encoding="utf-8", errors="replace").strip()).resolve()
    return git


def _hash_dir(h: hashlib._Hash, git: Path) -> None:
    for name in ("packed-refs", ORIGINS_NAME, ORIGINS_NAME + ".prev"):
        try:
            h.update(f"\0{name}\0".encode() + (git / name).read_bytes())
        except FileNotFoundError:
            h.update(f"\0{name}\0-".encode())
    root = str(git / "refs" / "tags")
    for base, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        rel = os.path.relpath(base, root)
        for name in sorted(files):
            with open(os.path.join(base, name), "rb") as fh:
                h.update(f"\0{rel}/{name}\0".encode() + fh.read())


def refs_fingerprint(config: SourceConfig) -> str | None:
    """sha256 over the tag refs of the cache and the ``--repo`` clones; None when one of them
    cannot be read this way (then nothing is reused)."""
    h = hashlib.sha256()
    try:
        for path in (*config.repos, config.cache):
            h.update(f"\0repo\0{path}".encode())
            if path == config.cache and not path.exists():
                continue
            git = _common_dir(Path(path))
            if git is None:
                return None
            _hash_dir(h, git)
    except OSError:
        return None
    return h.hexdigest()
