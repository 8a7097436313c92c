"""A repeated `kvdiff report` with nothing changed reuses the pages the last run rendered.

The key holds every input of a report: the request (tags, function, file, pairs, language),
each tag's origin and commit id (which fixes the function's file and every header the model
reads), and a digest of kvdiff itself (its version and every module, rule, annotation, string
table and template of the installed package). Same key, same pages: the site is still written
through :func:`.present.sitewriter.publish`, with its manifest rules, byte for byte as a fresh
render would write it. Entries live in ``kvdiff-results/sites`` beside the per-blob results
(safe to delete; a damaged entry reads as a miss). A report with ``--history`` depends on every
tag the sources hold and is not cached.

An entry is one file: a header line (the key, the warnings, each page's name and size, a CRC of
the pages) and then the pages' UTF-8 bytes as they are, which a hit hands to the site writer as
they are. A site is megabytes of HTML, and a hit is mostly start-up time: decoding that as JSON
strings would cost more than the rest of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import zlib
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from kvdiff.analyzers.analyze.resultcache import default_result_dir, kvdiff_version, make_key
from kvdiff.analyzers.jobs import codedigest

if TYPE_CHECKING:
    from kvdiff.analyzers.jobs.report import ReportRequest
    from kvdiff.analyzers.source.repo import Sources
    from kvdiff.analyzers.source.types import TagInfo

# Bump when the shape of a stored entry changes.
SITE_SCHEMA = 2
_MAGIC = b"kvdiff-site 2\n"
_SUFFIXES = (".py", ".toml", ".j2", ".css", ".js", ".svg")


def _package_entries() -> list[tuple[str, bytes]]:
    """(path, sha256) of every file of the installed package that could change a page, sorted
    by path. Found with ``os.walk`` and the templates' import spec, not ``rglob`` and
    ``importlib.resources``: a warm command pays for this listing on every run. Those under
    ``analyzers/`` come as the code digest hashed them (:func:`.codedigest.file_digests`): a
    run reads and hashes each file once."""
    code = codedigest.root()
    found = {
        os.path.join(code, rel): digest
        for rel, (_size, digest) in codedigest.file_digests().items()
        if rel.endswith(_SUFFIXES)
    }
    spec = importlib.util.find_spec("kvdiff.templates")
    for root in spec.submodule_search_locations or () if spec is not None else ():
        for base, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in names:
                path = os.path.join(base, name)
                if name.endswith(_SUFFIXES) and os.path.isfile(path):
                    with open(path, "rb") as fh:
                        found[path] = hashlib.sha256(fh.read()).digest()
    return sorted(found.items())


@cache
def package_digest() -> str:
    """sha256 over kvdiff's version and the name and sha256 of each file of
    :func:`_package_entries`."""
    h = hashlib.sha256(kvdiff_version().encode())
    for path, digest in _package_entries():
        h.update(b"\0" + os.path.basename(path).encode() + b"\0" + digest)
    return h.hexdigest()


def site_key(request: ReportRequest, path: str, infos: Sequence[TagInfo]) -> str:
    """The cache key of one report whose tags resolved to ``infos`` (origin and commit id:
    the commit fixes every file the report and the model read at that tag)."""
    parts = [
        f"site-schema={SITE_SCHEMA}",
        f"kvdiff={package_digest()}",
        f"function={request.function}",
        f"path={path}",  # --file as given ("" for the rule set's file)
        f"lang={request.lang}",
        "other-langs=" + ",".join(request.other_langs),
        "tags=" + ",".join(request.tags),
        "pairs=" + ",".join(f"{a}..{b}" for a, b in request.all_pairs),
    ]
    parts += (f"tag={i.tag}\0{i.origin}\0{i.target_id}" for i in infos)
    return make_key(*parts)


class SiteCache:
    """Rendered sites by key: ``get`` gives (pages, warnings) or None (absent or damaged),
    ``put`` stores them atomically; a failure to write only costs speed."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.site"

    def get(self, key: str) -> tuple[dict[str, bytes], tuple[str, ...]] | None:
        """The pages (name -> UTF-8 bytes, as stored) and warnings under ``key``."""
        try:
            data = self._file(key).read_bytes()
        except OSError:
            return None
        if not data.startswith(_MAGIC):
            return None
        end = data.find(b"\n", len(_MAGIC))
        try:
            head = json.loads(data[len(_MAGIC) : end]) if end > 0 else None
        except ValueError:
            return None
        body = memoryview(data)[end + 1 :]
        if not _valid_head(head, key, len(body)) or zlib.crc32(body) != head["crc32"]:
            return None
        pages: dict[str, bytes] = {}
        pos = 0
        for name, size in head["files"]:
            pages[name] = bytes(body[pos : pos + size])
            pos += size
        return pages, tuple(head["warnings"])

    def put(self, key: str, pages: Mapping[str, bytes], warnings: Sequence[str]) -> None:
        import tempfile  # only a run that rendered pages stores them

        blobs = list(pages.items())
        crc = 0
        for _, blob in blobs:  # the body's CRC, piece by piece: no megabytes-long join
            crc = zlib.crc32(blob, crc)
        head = {
            "key": key,
            "warnings": list(warnings),
            "files": [[name, len(b)] for name, b in blobs],
            "crc32": crc,
        }
        line = json.dumps(head, sort_keys=True, separators=(",", ":")).encode("utf-8")
        target = self._file(key)
        tmp_name = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".site")
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + line + b"\n")
                fh.writelines(blob for _, blob in blobs)
            os.replace(tmp_name, target)
            tmp_name = None
        except OSError:
            pass  # a read-only or full cache directory only costs speed
        finally:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)


def _valid_head(head: object, key: str, body_size: int) -> bool:
    if not isinstance(head, dict) or head.get("key") != key:
        return False
    files, warnings = head.get("files"), head.get("warnings")
    return (
        isinstance(head.get("crc32"), int)
        and isinstance(files, list)
        and bool(files)
        and all(
            isinstance(f, list)
            and len(f) == 2
            and isinstance(f[0], str)
            and isinstance(f[1], int)
            and f[1] >= 0
            for f in files
        )
        and sum(f[1] for f in files) == body_size
        and len({f[0] for f in files}) == len(files)
        and isinstance(warnings, list)
        and all(isinstance(w, str) for w in warnings)
    )


def site_cache(sources: Sources) -> SiteCache:
    return SiteCache(default_result_dir(sources.config.cache) / "sites")
