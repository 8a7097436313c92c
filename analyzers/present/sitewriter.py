"""Put a rendered site into ``--out`` safely: all of it or none of it, and only kvdiff's own files.

The rules (README "Guarantees"):

- **Nothing outside ``--out``.** Pages are created fresh in a work directory beside ``--out``
  (never opened through a path that already exists), so a symlink inside ``--out`` is never
  followed; at most the link itself is replaced, and only with ``--force``.
- **Nothing kvdiff did not write is replaced or deleted.** ``--out/.kvdiff-site.json`` (the
  manifest) lists the files kvdiff wrote there. A non-empty directory without one is refused
  unless ``--force``; an entry that is not in the manifest is carried over untouched, and one that
  a new page would replace is refused unless ``--force``.
- **Stale pages go.** A page of the previous run that this run does not produce is in the
  manifest, so it is not carried over.
- **Atomic.** The work directory is complete (files flushed) before it is swapped with ``--out``
  in one ``renameat2(RENAME_EXCHANGE)``. A run killed or out of disk before the swap leaves the
  previous site whole; its leftover work directory is cleaned up by the next run (entries it does
  not list are moved back, never deleted).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from kvdiff.analyzers.errors import KvdiffError

MANIFEST = ".kvdiff-site.json"
_WORK_TAG = ".kvdiff-work-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _work_prefix(out: Path) -> str:
    return f".{out.name}{_WORK_TAG}"


def _os_error(what: str, exc: OSError, out: Path) -> KvdiffError:
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        todo = "free some space (or raise the file-size limit) and rerun, or choose another --out"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        todo = "check the permissions of --out and its parent, or choose another --out"
    else:
        todo = "choose another --out"
    return KvdiffError(
        f"{what}: {reason} (errno {exc.errno}); "
        f"the previous site in {out} is left as it was; {todo}"
    )


def read_manifest(out: Path) -> list[str] | None:
    """The files a previous kvdiff run wrote into ``out``, or None when it has no manifest."""
    try:
        raw = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raw = None
    if not isinstance(raw, dict) or not isinstance(raw.get("files"), list):
        raise KvdiffError(
            f"{out / MANIFEST} is damaged, so kvdiff cannot tell which files in {out} it wrote; "
            "remove it and pass --force, or choose another --out"
        )
    return [str(name) for name in raw["files"]]


def _check_names(files: Mapping[str, str | bytes]) -> None:
    for name in files:
        if not name or "/" in name or name in (".", "..", MANIFEST) or name.startswith("."):
            raise KvdiffError(f"internal: refusing site file name {name!r}")


@contextmanager
def _locked(path: Path, blocking: bool = True) -> Iterator[bool]:
    """flock ``path`` (a directory); yields False when ``blocking`` is off and it is held."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directory entries; False when the kernel or file system cannot."""
    import ctypes  # only to replace a site: a first report into a new --out never needs it

    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _retire(work: Path, out: Path, replaced: frozenset[str] = frozenset()) -> list[str]:
    """Empty a work directory that holds kvdiff's files plus entries carried over from ``out``:
    delete what its manifest lists (and ``replaced``: the user's files ``--force`` replaced),
    move everything else back into ``out``. Returns the names that could not be moved back
    (left in ``work``, which is then kept)."""
    listed = set(read_manifest(work) or []) | replaced
    kept = []
    for entry in sorted(os.listdir(work)):
        path = work / entry
        if entry in listed or entry == MANIFEST:
            path.unlink(missing_ok=True)
        elif not os.path.lexists(out / entry):
            os.rename(path, out / entry)
        else:
            kept.append(entry)
    if not kept:
        os.rmdir(work)
    return kept


def _clean_stale(out: Path) -> None:
    """Retire work directories a killed run left beside ``out`` (no live run holds their lock)."""
    prefix = _work_prefix(out)
    for entry in sorted(os.listdir(out.parent)):
        path = out.parent / entry
        if not entry.startswith(prefix) or not path.is_dir() or path.is_symlink():
            continue
        with _locked(path, blocking=False) as free:
            if free and out.is_dir():
                _retire(path, out)


def _foreign(out: Path, files: Mapping[str, str | bytes], force: bool) -> list[str]:
    """Entries of ``out`` kvdiff did not write, after checking that it may write there."""
    if not out.exists():
        return []
    present = sorted(os.listdir(out))
    manifest = read_manifest(out)
    if manifest is None:
        if present and not force:
            raise KvdiffError(
                f"--out {out} is not empty and kvdiff did not make it (no {MANIFEST}); "
                "choose a new or empty directory, or pass --force to write into it "
                "(only same-named files are replaced, nothing else is touched)"
            )
        manifest = []
    foreign = [name for name in present if name not in manifest and name != MANIFEST]
    clash = [name for name in foreign if name in files]
    if clash and not force:
        raise KvdiffError(
            f"--out {out} has {', '.join(clash[:3])}{' …' if len(clash) > 3 else ''} that kvdiff "
            "did not write and would replace; move it away, or pass --force to replace it"
        )
    return [name for name in foreign if name not in files]


def _write_file(path: Path, text: str | bytes) -> None:
    """Create ``path`` (it must not exist: never follows a link) and flush it to disk; ``text``
    is written as UTF-8 with "\\n" newlines, or as given when it is bytes already."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    if isinstance(text, bytes):
        with os.fdopen(fd, "wb") as fb:
            fb.write(text)
            fb.flush()
            os.fsync(fb.fileno())
        return
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _fill(work: Path, files: Mapping[str, str | bytes]) -> None:
    # The manifest first: a run killed halfway leaves a work directory that says what is its.
    manifest = {"generator": "kvdiff", "files": sorted(files)}
    _write_file(work / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    for name, text in sorted(files.items()):
        _write_file(work / name, text)


def _target(out: Path) -> Path:
    """``--out`` itself, or the directory it links to: a link named by the user is followed,
    links inside it never are."""
    if out.is_symlink():
        real = out.resolve()
        if not real.is_dir():
            raise KvdiffError(f"--out {out} is a link to {real}, not to a directory; fix it")
        return real
    if out.exists() and not out.is_dir():
        raise KvdiffError(f"--out {out} is a file, not a directory; choose another --out")
    return out.absolute()


def publish(files: Mapping[str, str | bytes], out: Path, force: bool = False) -> tuple[Path, ...]:
    """Make ``out`` hold exactly ``files`` (name -> text, or its UTF-8 bytes) plus what kvdiff
    did not write."""
    _check_names(files)
    target = _target(out)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(f"cannot create {target.parent}", exc, out) from None
    _foreign(target, files, force)  # refuse early, before any work
    try:
        work = Path(tempfile.mkdtemp(prefix=_work_prefix(target), dir=target.parent))
    except OSError as exc:
        raise _os_error(f"cannot create a work directory in {target.parent}", exc, out) from None
    try:
        with _locked(work):
            _fill(work, files)
            umask = os.umask(0)
            os.umask(umask)
            mode = stat.S_IMODE(target.stat().st_mode) if target.is_dir() else 0o777 & ~umask
            os.chmod(work, mode)
            with _locked(target.parent):
                _swap(work, target, files, force)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise _os_error(f"cannot write the site into {out}", exc, out) from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)  # holds only this run's new files
        raise
    return tuple(out / name for name in sorted(files))


def _swap(work: Path, target: Path, files: Mapping[str, str | bytes], force: bool) -> None:
    """Under the parent's lock: swap the full work directory in, then retire the old site."""
    _clean_stale(target)
    foreign = _foreign(target, files, force)  # again: another run may have changed it
    if not target.exists():
        os.rename(work, target)
        return
    if not _exchange(work, target):
        # No RENAME_EXCHANGE (old kernel, some file systems): two renames, a short gap.
        old = Path(tempfile.mkdtemp(prefix=_work_prefix(target), dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
        os.rename(work, target)
        work = old
    # ``work`` now holds the previous site; carry the user's entries back, drop kvdiff's.
    for name in foreign:
        os.rename(work / name, target / name)
    _retire(work, target, frozenset(files) if force else frozenset())
