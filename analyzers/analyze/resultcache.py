"""A small on-disk cache of analysis results, keyed by what determines them.

An entry is one JSON file named by the sha256 of its key parts (blob id, function, rule-set hash,
kvdiff version, schema). Entries are never trusted: anything that does not decode to the expected
envelope (garbage, truncated JSON, another schema, another key) reads as a miss and gets rewritten.
Deleting the directory is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

_TEMP_NUMBERS = itertools.count()

# Bump when the shape of stored payloads changes; old entries then read as misses.
SCHEMA = 1


def default_result_dir(source_cache: Path | None = None) -> Path:
    """``<source cache>/kvdiff-results`` (inside it: one directory to delete) when a source
    cache is known, else the XDG cache dir."""
    if source_cache is not None:
        return source_cache / "kvdiff-results"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kvdiff" / "results"


@cache
def kvdiff_version() -> str:
    """kvdiff's version as ``importlib.metadata.version`` finds it (the first kvdiff
    ``*.dist-info`` or ``*.egg-info`` on ``sys.path``), read without importing
    ``importlib.metadata`` (about 15 ms of a warm command), which is asked only when no such
    directory says."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            stem, _, suffix = name.rpartition(".")
            if suffix not in ("dist-info", "egg-info") or stem.split("-")[0].lower() != "kvdiff":
                continue
            for meta in ("METADATA", "PKG-INFO"):
                try:
                    with open(os.path.join(entry or ".", name, meta), encoding="utf-8") as fh:
                        for line in fh:
                            if line.startswith("Version:"):
                                return line[len("Version:") :].strip()
                except OSError:
                    continue
    from importlib import metadata

    try:
        return metadata.version("kvdiff")
    except metadata.PackageNotFoundError:
        return "unknown"


def make_key(*parts: str) -> str:
    h = hashlib.sha256()
    for part in (f"schema={SCHEMA}", *parts):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


class ResultCache:
    """Get/put JSON payloads by key. ``directory=None`` disables the cache (every get misses)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self._made: set[Path] = set()  # entry directories known to exist (a history writes 100s)

    def _file(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.directory is None:
            self.misses += 1
            return None
        payload = self._load(key)
        if payload is None:
            self.misses += 1
        else:
            self.hits += 1
        return payload

    def _load(self, key: str) -> dict[str, Any] | None:
        try:
            raw = self._file(key).read_bytes()
            doc = json.loads(raw)
        except (OSError, ValueError):
            return None
        if (
            not isinstance(doc, dict)
            or doc.get("schema") != SCHEMA
            or doc.get("key") != key
            or not isinstance(doc.get("payload"), dict)
        ):
            return None
        return doc["payload"]

    def put(self, key: str, payload: dict[str, Any]) -> None:
        """Store atomically (write a temp file, then rename); a failure to write is not an error."""
        if self.directory is None:
            return
        target = self._file(key)
        doc = {"schema": SCHEMA, "key": key, "payload": payload}
        data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")
        tmp_name = None
        try:
            if target.parent not in self._made:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(target.parent)
            # O_EXCL on a name no other process uses (pid, then a counter): what mkstemp
            # guarantees, without its random-name retries
            name = str(target.parent / f".tmp-{os.getpid()}-{next(_TEMP_NUMBERS)}.json")
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            tmp_name = name  # ours from here on: removed if anything below fails
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp_name, target)
            tmp_name = None
        except OSError:
            # A read-only or full cache directory only costs speed, never correctness.
            pass
        finally:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)
