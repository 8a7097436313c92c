"""An exclusive process lock on the cache, cleanup of what a killed fetch leaves behind, and
atomic file writes."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Not "*.lock": libgit2's own lock files end in ".lock" and are cleared as stale under this lock.
LOCK_NAME = "kvdiff.flock"
# Which upstream served each fetched tag, so that later runs can still say so.
ORIGINS_NAME = "kvdiff-origins.json"
# Not a git directory: kvdiff's own files that may exist before the repository does (the
# result cache defaults to kvdiff-results/ inside the source cache).
RESULTS_NAME = "kvdiff-results"
OWN_FILES = frozenset({LOCK_NAME, RESULTS_NAME})


@contextmanager
def cache_lock(cache: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``cache/kvdiff.flock`` (blocking) for any cache write.

    The kernel releases a flock when its process dies, so a SIGKILLed kvdiff never leaves this
    lock held; that is why it is a flock and not a lock file whose existence means "locked".
    """
    fd = os.open(cache / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def clear_stale_locks(git_dir: Path) -> list[Path]:
    """Remove libgit2 lock files and temporary packs left by a killed process.

    Only call this while holding :func:`cache_lock`: then no live kvdiff can own them, and a
    leftover ``refs/tags/T.lock`` or ``shallow.lock`` would otherwise make every later fetch fail.
    """
    removed: list[Path] = []
    candidates = [p for p in git_dir.glob("*.lock")]
    candidates += [p for p in (git_dir / "refs").rglob("*.lock")]
    pack_dir = git_dir / "objects" / "pack"
    if pack_dir.is_dir():
        # libgit2's indexer streams into "pack_git2_XXXXXX" and renames it when complete.
        candidates += [p for p in pack_dir.iterdir() if p.name.startswith(("pack_git2_", "tmp_"))]
    for path in sorted(candidates):
        if path.is_file():
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed.append(path)
    return removed


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    import tempfile  # only to write: reading the origins' name needs none of it

    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it private; the cache is not secret
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
