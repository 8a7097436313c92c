"""Cache integrity: recognise a damaged cache, name what is damaged, and repair it in place.

Only the read side of the cache lives here (what ``kvdiff fetch --repair`` checks and rewrites);
fetching itself stays in :mod:`analyzers.source.repo`. Every repair step works on the cache's own
files under the cache lock, and never deletes the cache as a whole:

- a ``config`` libgit2 cannot parse is replaced by a minimal bare-repository config (the old one
  is kept as ``config.kvdiff-damaged``);
- lines of ``shallow`` and ``packed-refs`` that are not object ids are dropped (the tags of the
  dropped ``packed-refs`` lines are then re-fetched);
- a pack whose trailing SHA-1 does not match its content (a flipped bit, a truncation), or whose
  ``.idx``/``.pack`` partner is gone, is removed;
- every tag that is asked for, or whose ref no longer peels to its commit, is re-fetched into an
  empty side repository (so the upstream sends all it would to a new clone, not only what the
  damaged cache claims not to have) and moved in. Other objects of a removed pack are fetched on
  demand when next read, like any object the partial cache only promises.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pygit2
from kvdiff.analyzers.errors import DamagedTag

CACHE_MARKERS = ("kvdiff.flock", "kvdiff-origins.json", "kvdiff-results")
_HEX40 = re.compile(rb"^[0-9a-f]{40}$")
_TAGS = "refs/tags/"
_MINIMAL_CONFIG = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n"


def damaged(cache: Path, tag: str, exc: BaseException | None) -> DamagedTag:
    """The one-line error for a tag the cache cannot read, pointing at ``--repair``."""
    detail = f" ({' '.join(str(exc).split()) or type(exc).__name__})" if exc is not None else ""
    return DamagedTag(
        f"cache {cache} is damaged at tag {tag}{detail}; run kvdiff fetch --repair {tag} "
        "to re-fetch it (the rest of the cache is kept)",
        tag,
    )


# A libgit2 error text that is about the local disk, not the network (the hint must match).
_DISK_WORDS = ("No space left", "File too large", "Disk quota", "Read-only file system",
               "Permission denied")  # fmt: skip


def fetch_hint(message: str, cache: Path) -> str:
    """What to do about a failed fetch: a disk problem is not fixed by checking the URL."""
    if any(word in message for word in _DISK_WORDS):
        return f"the cache {cache} cannot be written: free disk space or pass --cache DIR"
    return "check the URL or use --repo/--offline"


def is_kvdiff_cache(cache: Path) -> bool:
    """True when ``cache`` holds a file only kvdiff makes (its lock or its provenance file)."""
    return any((cache / name).exists() for name in CACHE_MARKERS)


def cache_hint(cache: Path) -> str:
    """What to do about an unusable cache directory: deleting it is suggested only when it is
    recognisably kvdiff's own (then it only holds fetched tags)."""
    if is_kvdiff_cache(cache):
        return (
            f"run kvdiff fetch --repair to fix it, or delete {cache} "
            "(it only holds fetched tags), or pass --cache DIR"
        )
    return (
        f"{cache} is not a kvdiff cache (it has no {CACHE_MARKERS[0]}); "
        "pass --cache DIR for a new or kvdiff-made directory"
    )


def metadata_problem(cache: Path) -> str | None:
    """What is wrong with the cache's config, shallow or packed-refs file, or None."""
    config = cache / "config"
    if config.is_file() and _config_bad(config):
        return "its config file cannot be parsed"
    for name in ("shallow", "packed-refs"):
        bad = _bad_lines(cache / name, name)
        if bad:
            return f"its {name} file has {len(bad)} malformed line(s) (line {bad[0][0]})"
    return None


def _bad_lines(path: Path, kind: str) -> list[tuple[int, bytes]]:
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return []
    bad = []
    for number, line in enumerate(lines, 1):
        if kind == "packed-refs" and (line.startswith(b"#") or line.startswith(b"^")):
            ok = line.startswith(b"#") or bool(_HEX40.match(line[1:]))
        elif kind == "packed-refs":
            oid, _, name = line.partition(b" ")
            ok = bool(_HEX40.match(oid)) and name.startswith(b"refs/")
        else:
            ok = bool(_HEX40.match(line.strip()))
        if not ok:
            bad.append((number, line))
    return bad


def listed_tags(cache: Path) -> set[str]:
    """Tag names the cache's files hold, read from the file system (loose refs and
    ``packed-refs``), whether or not their content is readable: so a broken ref is reported
    instead of silently missing from a listing."""
    tags: set[str] = set()
    root = cache / "refs" / "tags"
    if root.is_dir():
        for path in root.rglob("*"):
            if path.is_file() and not path.name.endswith((".lock", ".kvdiff-tmp")):
                tags.add(path.relative_to(root).as_posix())
    try:
        packed = (cache / "packed-refs").read_bytes().splitlines()
    except OSError:
        packed = []
    for line in packed:
        _, _, name = line.partition(b" ")
        if name.startswith(b"refs/tags/") and not line.startswith((b"#", b"^")):
            tags.add(name[len(b"refs/tags/") :].decode("utf-8", errors="replace"))
    return tags


def damaged_packs(cache: Path) -> list[Path]:
    """Packs (by ``.pack`` path) whose content does not match their trailing SHA-1, whose index
    disagrees with them, or whose ``.idx`` or ``.pack`` is missing."""
    pack_dir = cache / "objects" / "pack"
    if not pack_dir.is_dir():
        return []
    stems = {p.with_suffix("") for p in pack_dir.iterdir() if p.suffix in (".pack", ".idx")}
    bad = []
    for stem in sorted(stems):
        pack, idx = stem.with_suffix(".pack"), stem.with_suffix(".idx")
        if not pack.is_file() or not idx.is_file() or not _pack_ok(pack, idx):
            bad.append(pack)
    return bad


def torn_packs(cache: Path) -> list[Path]:
    """Packs that are gone, cut short or not the ones their index describes: only the trailing
    checksums are compared (cheap), which catches a truncation or deletion; a flipped bit is
    caught by libgit2 when the object is read."""
    pack_dir = cache / "objects" / "pack"
    if not pack_dir.is_dir():
        return []
    torn = []
    for idx in sorted(pack_dir.glob("*.idx")):
        pack = idx.with_suffix(".pack")
        try:
            with pack.open("rb") as fh:
                fh.seek(-20, os.SEEK_END)
                trailer = fh.read(20)
            with idx.open("rb") as fh:
                fh.seek(-40, os.SEEK_END)
                recorded = fh.read(20)
        except OSError:
            torn.append(pack)
            continue
        if trailer != recorded:
            torn.append(pack)
    return torn


def _pack_ok(pack: Path, idx: Path) -> bool:
    digest = hashlib.sha1(usedforsecurity=False)
    size = pack.stat().st_size
    if size < 32:
        return False
    with pack.open("rb") as fh:
        remaining = size - 20
        while remaining:
            chunk = fh.read(min(remaining, 1 << 20))
            if not chunk:
                return False
            digest.update(chunk)
            remaining -= len(chunk)
        trailer = fh.read(20)
    index_tail = idx.read_bytes()[-40:-20]
    return digest.digest() == trailer == index_tail


def remove_pack(pack: Path) -> None:
    for suffix in (".pack", ".idx", ".rev", ".keep", ".bitmap", ".promisor", ".mtimes"):
        pack.with_suffix(suffix).unlink(missing_ok=True)


def tag_readable(repo: pygit2.Repository, tag: str) -> bool:
    """True when the tag's ref peels to its commit (or tree). Other objects are not checked:
    the cache is a partial clone, so a missing one is only promised and is fetched on demand
    (that is also how the objects of a removed damaged pack come back)."""
    try:
        ref = repo.references.get(_TAGS + tag)
        return ref is not None and ref.peel() is not None
    except (pygit2.GitError, KeyError, ValueError):
        return False


@dataclass
class RepairPlan:
    """What :func:`repair_metadata` fixed and which tags must be re-fetched."""

    fixed: list[str] = field(default_factory=list)  # human-readable, one item per fix
    tags: set[str] = field(default_factory=set)


def repair_metadata(cache: Path) -> RepairPlan:
    """Rewrite a damaged config, shallow or packed-refs file and remove damaged packs. Call
    under the cache lock."""
    plan = RepairPlan()
    config = cache / "config"
    if config.is_file() and _config_bad(config):
        os.replace(config, cache / "config.kvdiff-damaged")
        config.write_text(_MINIMAL_CONFIG, encoding="utf-8")
        plan.fixed.append("config rewritten (the old one is config.kvdiff-damaged)")
    for name in ("shallow", "packed-refs"):
        path = cache / name
        bad = _bad_lines(path, name)
        if not bad:
            continue
        numbers = {n for n, _ in bad}
        lines = path.read_bytes().splitlines()
        kept = [line for n, line in enumerate(lines, 1) if n not in numbers]
        for _, line in bad:
            _, _, ref = line.partition(b" ")
            if ref.startswith(b"refs/tags/"):
                plan.tags.add(ref[len(b"refs/tags/") :].decode("utf-8", errors="replace"))
        _write_lines(path, kept)
        plan.fixed.append(f"{name}: {len(bad)} malformed line(s) dropped")
    for pack in damaged_packs(cache):
        remove_pack(pack)
        plan.fixed.append(f"damaged pack {pack.name} removed")
    return plan


def _config_bad(config: Path) -> bool:
    try:
        pygit2.Config(str(config))["core.bare"]
    except (pygit2.GitError, KeyError, ValueError):
        return True
    return False


def _write_lines(path: Path, lines: list[bytes]) -> None:
    tmp = path.with_name(path.name + ".kvdiff-tmp")
    tmp.write_bytes(b"".join(line + b"\n" for line in lines))
    os.replace(tmp, path)


def drop_tag_ref(cache: Path, tag: str) -> None:
    """Remove ``refs/tags/TAG`` from the loose refs and ``packed-refs`` (read as text: the ref
    may be exactly what libgit2 cannot read)."""
    (cache / "refs" / "tags" / tag).unlink(missing_ok=True)
    packed = cache / "packed-refs"
    try:
        lines = packed.read_bytes().splitlines()
    except OSError:
        return
    name = f"{_TAGS}{tag}".encode()
    kept, skip_peel = [], False
    for line in lines:
        if skip_peel and line.startswith(b"^"):
            continue
        skip_peel = line.partition(b" ")[2] == name
        if not skip_peel:
            kept.append(line)
    if kept != lines:
        _write_lines(packed, kept)


def adopt(cache: Path, side: Path, tag: str) -> None:
    """Move the objects, the ref and the shallow lines of ``tag`` from the side repository
    ``side`` (a fresh fetch of it) into ``cache``."""
    for source in sorted((side / "objects").rglob("*")):
        if not source.is_file() or source.parent.name in ("info",):
            continue
        target = cache / "objects" / source.relative_to(side / "objects")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.rename(source, target)
    target_id = pygit2.Repository(str(side)).references[_TAGS + tag].target
    ref = cache / "refs" / "tags" / tag
    ref.parent.mkdir(parents=True, exist_ok=True)
    tmp = ref.with_name(ref.name + ".kvdiff-tmp")
    tmp.write_text(f"{target_id}\n", encoding="ascii")
    os.replace(tmp, ref)
    lines = set()
    for path in (cache / "shallow", side / "shallow"):
        if path.is_file():
            lines.update(x.strip() for x in path.read_bytes().splitlines() if x.strip())
    if lines:
        _write_lines(cache / "shallow", sorted(lines))
    shutil.rmtree(side, ignore_errors=True)
