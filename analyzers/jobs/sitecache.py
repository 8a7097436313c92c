"""A repeated `kvdiff report` with nothing changed reuses the pages the last run rendered.

The key holds every input of a report: the request (tags, function, file, pairs, language),
each tag's origin and commit id (which fixes the function's file and every header the model
reads), and a digest of kvdiff itself (its version and every module, rule, annotation, string
table and template of the installed package). Same key, same pages: the site is still written
through :func:`.present.sitewriter.publish`, with its manifest rules, byte for byte as a fresh
render would write it. Entries live in ``kvdiff-results/sites`` beside the per-blob results
(safe to delete; a damaged entry reads as a miss). A report with ``--history`` depends on every
tag the sources hold and is not cached.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from kvdiff.analyzers.analyze.resultcache import ResultCache, default_result_dir, make_key

if TYPE_CHECKING:
    from kvdiff.analyzers.jobs.report import ReportRequest
    from kvdiff.analyzers.source.repo import Sources
    from kvdiff.analyzers.source.types import TagInfo

# Bump when the shape of a stored entry changes.
SITE_SCHEMA = 1
_SUFFIXES = (".py", ".toml", ".j2", ".css", ".js", ".svg")


def _package_files() -> list[Path]:
    """Every file of the installed package that could change a page (sorted, stable). Found
    with ``os.walk`` and the templates' import spec, not ``rglob`` and ``importlib.resources``:
    a warm command pays for this listing on every run."""
    spec = importlib.util.find_spec("kvdiff.templates")
    templates = list(spec.submodule_search_locations or ()) if spec is not None else []
    files: set[str] = set()
    for root in (os.path.dirname(os.path.dirname(os.path.realpath(__file__))), *templates):
        for base, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            files.update(os.path.join(base, n) for n in names if n.endswith(_SUFFIXES))
    return sorted(Path(f) for f in files if os.path.isfile(f))


def _version() -> str:
    """kvdiff's version as ``importlib.metadata.version`` finds it (the first kvdiff
    ``*.dist-info`` or ``*.egg-info`` on ``sys.path``), read without importing
    ``importlib.metadata`` (about 15 ms of a warm command)."""
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
    return "unknown"


@cache
def package_digest() -> str:
    """sha256 over kvdiff's version and the names and bytes of :func:`_package_files`."""
    h = hashlib.sha256(_version().encode())
    for path in _package_files():
        h.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
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


def site_cache(sources: Sources) -> ResultCache:
    return ResultCache(default_result_dir(sources.config.cache) / "sites")
