"""A repeated ``kvdiff history`` over unchanged tags reuses the timeline it computed.

The key is every input of a timeline: the function, the file, the tag selection (explicit tags,
``--tags`` glob, ``--range``), the rule file's bytes, a digest of kvdiff itself (version and
package files, :func:`.sitecache.package_digest`) and the fingerprint of every tag ref the
sources read (:func:`.source.refstate.refs_fingerprint`: same refs, same files at every tag).
An entry is one JSON document in the result cache; anything that does not decode to a timeline
is a miss. Runs with unreadable tags are never stored, so damage is always reported afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from kvdiff.analyzers.analyze.resultcache import ResultCache, make_key
from kvdiff.analyzers.compare.changes import Change
from kvdiff.analyzers.compare.timeline import FunctionVersion, History, HistoryStats

HISTORY_SCHEMA = 1
_FIELDS = {"function", "path", "rule_set", "versions", "stats"}


def history_key(
    fingerprint: str,
    function: str,
    path: str,
    selection: tuple[Sequence[str] | None, str | None, str | None],
    rules_file: Path | None,
) -> str:
    from kvdiff.analyzers.jobs.sitecache import package_digest

    tags, pattern, tag_range = selection
    rules = hashlib.sha256(rules_file.read_bytes()).hexdigest() if rules_file else "-"
    return make_key(
        f"history-run={HISTORY_SCHEMA}",
        f"kvdiff={package_digest()}",
        f"refs={fingerprint}",
        f"function={function}",
        f"path={path}",
        "tags=" + ("\0".join(tags) if tags is not None else "*"),
        f"pattern={pattern}",
        f"range={tag_range}",
        f"rules={rules}",
    )


def _version(d: dict[str, Any]) -> FunctionVersion:
    return FunctionVersion(
        **{
            **d,
            "tags": tuple(d["tags"]),
            "blob_ids": tuple(d["blob_ids"]),
            "concepts": tuple((str(a), str(b)) for a, b in d["concepts"]),
            "concept_changes": tuple(
                Change(**{k: tuple(v) if isinstance(v, list) else v for k, v in c.items()})
                for c in d["concept_changes"]
            ),
        }
    )


def load_history(cache: ResultCache, key: str) -> History | None:
    """The stored timeline, or None (a miss, or an entry that does not decode)."""
    doc = cache.get(key)
    if doc is None or set(doc) != _FIELDS:
        return None
    try:
        versions = tuple(_version(v) for v in doc["versions"])
        stats = HistoryStats(**doc["stats"])
        history = History(doc["function"], doc["path"], doc["rule_set"], versions, stats)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    # Nothing was analysed: every distinct blob's summary is, in effect, a cache hit.
    return replace(history, stats=replace(stats, cache_hits=stats.distinct_blobs, analysed=0))


def store_history(cache: ResultCache, key: str, history: History) -> None:
    if history.unreadable:
        return
    cache.put(
        key,
        {
            "function": history.function,
            "path": history.path,
            "rule_set": history.rule_set,
            "versions": [asdict(v) for v in history.versions],
            "stats": asdict(history.stats),
        },
    )
