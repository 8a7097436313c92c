"""A repeated ``kvdiff history`` over unchanged tags reuses the timeline it computed.

The key is every input of a timeline: the function, the file, the tag selection (explicit tags,
``--tags`` glob, ``--range``), the rule file's bytes, a digest of kvdiff itself (version and
package files, :func:`.sitecache.package_digest`) and the fingerprint of every tag ref the
sources read (:func:`.source.refstate.refs_fingerprint`: same refs, same files at every tag).
An entry is one JSON document in the result cache: the timeline and the output ``kvdiff
history`` printed for it (text and ``--json``, rendered by :mod:`.present.history` when it was
stored), so that a repeated run prints it without importing the analysis, the timeline or the
presentation (:func:`load_output`). Anything that does not decode to a timeline is a miss. Runs
with unreadable tags are never stored, so damage is always reported afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kvdiff.analyzers.analyze.resultcache import ResultCache, make_key
from kvdiff.analyzers.versions import tag_patterns

if TYPE_CHECKING:
    from kvdiff.analyzers.compare.timeline import FunctionVersion, History

HISTORY_SCHEMA = 2
_FIELDS = {"function", "path", "rule_set", "versions", "stats", "text", "json"}


def history_key(
    fingerprint: str,
    function: str,
    path: str | None,
    selection: tuple[Sequence[str] | None, str | Sequence[str] | None, str | None],
    rules_file: Path | None,
    use_rules: bool = True,
) -> str:
    """``path`` as given (None: the rule set's file, which the package digest covers, as it
    covers the packaged rule sets); ``rules_file`` by its bytes."""
    from kvdiff.analyzers.jobs.sitecache import package_digest

    tags, pattern, tag_range = selection
    rules = hashlib.sha256(rules_file.read_bytes()).hexdigest() if rules_file else "-"
    if not use_rules:
        rules = "off"
    # A repr keeps None apart from the string "None" (``--file None``, ``--range None``).
    tags = tuple(tags) if tags is not None else None
    query = repr((function, path, tags, tag_patterns(pattern), tag_range))
    return make_key(
        f"history-run={HISTORY_SCHEMA}",
        f"kvdiff={package_digest()}",
        f"refs={fingerprint}",
        f"query={query}",
        f"rules={rules}",
    )


def _version(d: dict[str, Any]) -> FunctionVersion:
    from kvdiff.analyzers.compare.changes import Change
    from kvdiff.analyzers.compare.timeline import FunctionVersion

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


def _entry(cache: ResultCache, key: str) -> dict[str, Any] | None:
    doc = cache.get(key)
    if doc is None or set(doc) != _FIELDS or not isinstance(doc["versions"], list):
        return None
    if not (isinstance(doc["text"], str) and isinstance(doc["json"], str)):
        return None
    return doc


def load_history(cache: ResultCache, key: str) -> History | None:
    """The stored timeline, or None (a miss, or an entry that does not decode)."""
    from dataclasses import replace

    from kvdiff.analyzers.compare.timeline import History, HistoryStats

    doc = _entry(cache, key)
    if doc is None:
        return None
    try:
        versions = tuple(_version(v) for v in doc["versions"])
        stats = HistoryStats(**doc["stats"])
        history = History(doc["function"], doc["path"], doc["rule_set"], versions, stats)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    # Nothing was analysed: every distinct blob's summary is, in effect, a cache hit.
    return replace(history, stats=replace(stats, cache_hits=stats.distinct_blobs, analysed=0))


def load_output(cache: ResultCache, key: str, as_json: bool) -> str | None:
    """What ``kvdiff history`` printed for the stored timeline (its ``--json`` text, or its
    text lines joined), or None: read without decoding the timeline."""
    doc = _entry(cache, key)
    return None if doc is None else doc["json" if as_json else "text"]


def store_history(cache: ResultCache, key: str, history: History) -> None:
    from dataclasses import asdict

    from kvdiff.analyzers.present.history import format_history, history_json

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
            "text": "\n".join(format_history(history)),
            "json": history_json(history),
        },
    )
