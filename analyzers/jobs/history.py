"""One ``kvdiff history`` run: which tags, which file and rules, the result cache, the timeline.

The work is proportional to distinct content, not to tags. Every tag is made available first
(one batch of fetches for those missing); each tag's blob id is then resolved (tree -> path: no
blob is read) and each distinct blob summarised once, on every core
(:mod:`~kvdiff.analyzers.analyze.tagwork`), and :mod:`~kvdiff.analyzers.compare.timeline`
groups the tags by the function's content.

A repeated run over unchanged tag refs is one file read (:mod:`.historycache`): the key is
computed before any repository is opened, and that path imports neither libgit2 nor the
parser nor the analysis; they are imported when a timeline has to be built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kvdiff.analyzers.analyze.resultcache import ResultCache, default_result_dir
from kvdiff.analyzers.errors import DamagedTag, KvdiffError
from kvdiff.analyzers.jobs.collector import collection_paused
from kvdiff.analyzers.jobs.historycache import (
    history_key,
    load_history,
    load_output,
    store_history,
)
from kvdiff.analyzers.source.refstate import refs_fingerprint
from kvdiff.analyzers.versions import is_glob, parse_version, select_tags, tag_patterns

if TYPE_CHECKING:
    from kvdiff.analyzers.analyze.summaries import TagBlob
    from kvdiff.analyzers.compare.timeline import History
    from kvdiff.analyzers.source.repo import Sources
    from kvdiff.analyzers.source.types import SourceConfig

# Wraps the tags being fetched in a progress display: (tags) -> context giving an iterable.
Progress = Callable[[list[str]], AbstractContextManager[Iterable[str]]]


def missing_release_tags(
    sources: Sources, pattern: str | Sequence[str] | None = None, tag_range: str | None = None
) -> list[str]:
    """Release tags the upstreams list (matching the filters) that are not available yet."""
    have = set(sources.available_tags())
    listed = [t for t in sources.upstream_tags() if parse_version(t) is not None]
    return [t for t in select_tags(listed, pattern, tag_range) if t not in have]


def fetch_release_tags(
    sources: Sources,
    pattern: str | Sequence[str] | None = None,
    tag_range: str | None = None,
    progress: Progress | None = None,
    path: str | None = None,
) -> list[str]:
    """Fetch the missing release tags (``--fetch``) in one batch per upstream: their commits
    and the trees down to ``path``. ``progress`` is not used: the batch has no per-tag steps,
    ``Sources`` draws its phases (tags, trees, blobs) itself unless ``--quiet``."""
    del progress
    tags = missing_release_tags(sources, pattern, tag_range)
    sources.ensure_all(tags, [path] if path else [])
    return tags


def ready_tags(
    sources: Sources, tags: Sequence[str], path: str, unreadable: list[DamagedTag]
) -> list[tuple[str, str]]:
    """The tags whose refs can be read, with where each comes from, all made available in
    one batch: one fetch of the missing tags' commits and trees, one of the distinct blobs
    the cache lacks (no network when all are at hand). Damaged tags are collected in
    ``unreadable`` and left out. Their trees are walked later, by the summarising workers."""
    damage = {tag: sources.damage(tag) for tag in tags}
    unreadable.extend(e for e in damage.values() if e is not None)
    tags = [tag for tag in tags if damage[tag] is None]
    infos = sources.ensure_all(tags, [path])
    return [(tag, info.origin) for tag, info in zip(tags, infos, strict=True)]


def build_history(
    sources: Sources,
    function: str = "try_to_unmap_one",
    path: str | None = None,
    *,
    tags: Sequence[str] | None = None,
    pattern: str | Sequence[str] | None = None,
    tag_range: str | None = None,
    result_dir: Path | None = None,
    use_rules: bool = True,
    rules_file: Path | None = None,
) -> History:
    """The timeline of ``function`` over the tags ``sources`` holds (or the given ``tags``).

    ``path`` defaults to the file the function's rule set names. ``result_dir`` is the result
    cache directory (None: no cache). Tags are filtered by ``pattern`` (a glob) and
    ``tag_range`` (``A..B``, inclusive) and put in version order.
    """
    query = _Query(function, path, (tags, pattern, tag_range), use_rules, rules_file)
    return _history(query, sources.config, lambda: sources, result_dir, None)


@dataclass(frozen=True)
class _Query:
    """What a timeline shows: every input of it but the sources (see :mod:`.historycache`)."""

    function: str
    path: str | None  # as given: None is the rule set's file
    selection: tuple[Sequence[str] | None, str | Sequence[str] | None, str | None]
    use_rules: bool
    rules_file: Path | None


def _history(
    query: _Query,
    config: SourceConfig,
    open_sources: Callable[[], Sources],
    result_dir: Path | None,
    memo: str | None,
) -> History:
    """The stored timeline when the tag refs, the query and kvdiff are those of an earlier run
    (nothing else is imported or opened), else the one :func:`_compute` builds, then stored
    unless the refs changed meanwhile (a tag was fetched: the next run stores it). ``memo``:
    the key :func:`stored_output` just computed for this query (None: compute it here)."""
    cache = ResultCache(result_dir)
    if memo is None:
        memo = _memo_key(config, result_dir, query)
    if memo is not None and (hit := load_history(cache, memo)) is not None:
        return hit
    # Resolving and summarising thousands of tags makes objects by the hundred thousand and a
    # few hundred reference cycles at most.
    with collection_paused():
        history = _compute(open_sources(), query, cache)
    if memo is not None and memo == _memo_key(config, result_dir, query):
        store_history(cache, memo, history)
    return history


def _compute(sources: Sources, query: _Query, cache: ResultCache) -> History:
    """Resolve every tag's blob, summarise each distinct blob once, group the tags."""
    from kvdiff.analyzers.analyze.ruleset import rules_for
    from kvdiff.analyzers.analyze.summaries import make_summarizer
    from kvdiff.analyzers.analyze.tagwork import summarize_tags
    from kvdiff.analyzers.compare.timeline import PRESENT, build_timeline

    function, path, rules_file = query.function, query.path, query.rules_file
    rules = rules_for(function, path, rules_file) if query.use_rules else None
    if path is None:
        if rules is None:
            raise KvdiffError(
                f"no rule set says which file defines {function}; pass --file PATH (e.g. mm/rmap.c)"
            )
        path = rules.path
    chosen = _chosen_tags(sources, *query.selection)
    unreadable: list[DamagedTag] = []
    ready = ready_tags(sources, chosen, path, unreadable)
    file_path = path

    def blob_of(tag: str) -> str | None:
        return sources.blob_id(tag, file_path)

    def read(tag: str, blob_id: str) -> bytes | None:
        return sources.blob_data(tag, file_path, blob_id)

    summarizer = make_summarizer(function, rules, rules_file)
    tag_blobs, summaries, damaged = summarize_tags(ready, path, blob_of, read, summarizer, cache)
    unreadable += damaged
    if not tag_blobs:
        raise unreadable[0]
    history = build_timeline(tag_blobs, summaries, function, path, summarizer.rule_set)
    if not any(v.state == PRESENT for v in history.versions):
        raise _function_nowhere(sources, function, path, tag_blobs)
    # Tags listed but unreadable (a damaged cache) are never dropped silently.
    return replace(history, unreadable=tuple((e.tag, e.message) for e in unreadable))


def _memo_key(config: SourceConfig, result_dir: Path | None, query: _Query) -> str | None:
    """The key of this timeline in the result cache (see :mod:`.historycache`); None without
    a result cache or when the tag refs cannot be fingerprinted."""
    if result_dir is None:
        return None
    tags, pattern, _ = query.selection
    names = [*(tags or ()), *tag_patterns(pattern)]
    fingerprint = refs_fingerprint(config, names)
    if fingerprint is None:
        return None
    try:
        return history_key(
            fingerprint,
            query.function,
            query.path,
            query.selection,
            query.rules_file,
            query.use_rules,
        )
    except OSError:
        return None  # an unreadable --rules file: the rule set's loader says what is wrong


_WHERE = "tags in the cache and --repo clones"


def _chosen_tags(
    sources: Sources,
    tags: Sequence[str] | None,
    pattern: str | Sequence[str] | None,
    tag_range: str | None,
) -> list[str]:
    """The tags a history covers: the available ones (or ``tags``) matching ``--tags`` and
    ``--range``. A plain tag in ``--tags`` is taken even when not available yet (it is fetched,
    as everywhere else); a glob or range that selects nothing is an error saying which."""
    patterns = tag_patterns(pattern)
    pool = list(sources.available_tags() if tags is None else tags)
    if not pool and not any(not is_glob(p) for p in patterns):
        raise KvdiffError(
            "no tags to build a history from: the cache and --repo clones hold none; "
            "pass --repo PATH, run kvdiff fetch TAG..., or use --fetch"
        )
    pool += [p for p in patterns if not is_glob(p) and p not in pool]
    chosen = select_tags(pool, patterns, tag_range, where=_WHERE)
    if not chosen:
        which = f"--tags {','.join(patterns)} with --range" if patterns else "--range"
        raise KvdiffError(
            f"no tags to build a history from: {which} {tag_range} matches none of the "
            f"{len(pool)} {_WHERE} ({pool[0]} … {pool[-1]}); widen the range, or use --fetch"
        )
    return chosen


def _function_nowhere(
    sources: Sources, function: str, path: str, tag_blobs: Sequence[TagBlob]
) -> KvdiffError:
    """No tag defines ``function``: name the closest functions of the newest file there is."""
    from kvdiff.analyzers.parse.cparse import parse_c
    from kvdiff.analyzers.parse.extract import closest_names

    with_file = [tb for tb in tag_blobs if tb.blob_id]
    if not with_file:
        return KvdiffError(
            f"{path} exists at none of the {len(tag_blobs)} tag(s); check --file (e.g. mm/rmap.c)"
        )
    newest = with_file[-1]
    close = closest_names(parse_c(sources.read(newest.tag, path).data), function)
    hint = (
        f"closest in {path} at {newest.tag}: {', '.join(close)}"
        if close
        else "no similarly named function there"
    )
    return KvdiffError(
        f"function {function} is defined in {path} at none of the {len(tag_blobs)} tag(s); "
        f"{hint} (check the name, or pass --file for the file that defines it)"
    )


@dataclass(frozen=True)
class HistoryRequest:
    """``kvdiff history``'s options: what to show, and where results are cached."""

    function: str = "try_to_unmap_one"
    path: str | None = None
    pattern: str | tuple[str, ...] | None = None  # --tags: tags and globs
    tag_range: str | None = None
    fetch: bool = False
    result_cache: Path | None = None  # None: kvdiff-results/ inside the source cache
    use_result_cache: bool = True
    rules_file: Path | None = None


def run_history(
    request: HistoryRequest,
    config: SourceConfig,
    progress: Progress | None = None,
    sources: Sources | None = None,
    stored: StoredOutput | None = None,
) -> History:
    """Fetch (with ``--fetch``), then the timeline the request asks for: the stored one when
    nothing changed, else built through ``sources`` (opened from ``config`` only then).
    ``stored``: what :func:`stored_output` just found for this request (its key is reused:
    the tag refs are read once, not twice)."""
    opened = sources

    def open_sources() -> Sources:
        nonlocal opened
        if opened is None:
            from kvdiff.analyzers.source.repo import Sources

            opened = Sources(config)
        return opened

    if request.fetch:
        fetch_release_tags(
            open_sources(), request.pattern, request.tag_range, progress, path=request.path
        )
    query, result_dir = _query_of(request, config)
    memo = stored.key if stored is not None and not request.fetch else None
    return _history(query, config, open_sources, result_dir, memo)


@dataclass(frozen=True)
class StoredOutput:
    """What :func:`stored_output` found: the text (None: not stored) and the request's key."""

    text: str | None
    key: str | None


def stored_output(request: HistoryRequest, config: SourceConfig, as_json: bool) -> StoredOutput:
    """What ``kvdiff history`` printed for the same request over the same tag refs, when it is
    stored (:func:`.historycache.load_output`); no text otherwise, and always with ``--fetch``
    (the upstreams may have new tags). Reads one file: no repository, no analysis."""
    if request.fetch:
        return StoredOutput(None, None)
    query, result_dir = _query_of(request, config)
    memo = _memo_key(config, result_dir, query)
    text = None if memo is None else load_output(ResultCache(result_dir), memo, as_json)
    return StoredOutput(text, memo)


def _query_of(request: HistoryRequest, config: SourceConfig) -> tuple[_Query, Path | None]:
    """The request's query and its result cache directory (None: no result cache)."""
    result_dir = None
    if request.use_result_cache:
        result_dir = request.result_cache or default_result_dir(config.cache)
    selection = (None, request.pattern, request.tag_range)
    return _Query(request.function, request.path, selection, True, request.rules_file), result_dir
