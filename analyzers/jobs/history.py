"""A function's timeline across tags: tags grouped by the function's content, and what changed.

The work is proportional to distinct content, not to tags. Every tag's blob id is resolved first
(peel tag -> tree -> path: no blob is read); each distinct blob is then summarised once
(parse, find the function, apply the branch rules when a rule set exists) and the summary is
reused by every tag sharing the blob, and across runs through :class:`ResultCache`.

A tag whose file lacks the function, or that lacks the file, is a state in the timeline
("no-function", "no-file"), never an error.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from kvdiff.analyzers.analyze.resultcache import ResultCache, make_key
from kvdiff.analyzers.errors import DamagedTag, KvdiffError
from kvdiff.analyzers.versions import (
    TagRange,
    parse_tag_range,
    parse_version,
    sort_tags,
    version_key,
)

PRESENT = "present"
NO_FUNCTION = "no-function"
NO_FILE = "no-file"

# Where a concept's branch sits in one version.
_IN_TARGET = "target"
_IN_SIBLING = "sibling"
_NOWHERE = "none"


@dataclass(frozen=True)
class TagBlob:
    """Where the file lives at ``tag``: ``blob_id`` is None when the tag's tree lacks it."""

    tag: str
    origin: str
    blob_id: str | None


@dataclass(frozen=True)
class ConceptHitSummary:
    function: str
    condition: str  # whitespace-normalised condition text
    moved: bool


@dataclass(frozen=True)
class ConceptSummary:
    concept: str
    state: str  # "present" (in the function) | "moved" (only in a sibling) | "absent"
    hits: tuple[ConceptHitSummary, ...]

    @property
    def where(self) -> str:
        if any(not h.moved for h in self.hits):
            return _IN_TARGET
        return _IN_SIBLING if self.hits else _NOWHERE

    @property
    def conditions(self) -> tuple[str, ...]:
        return tuple(h.condition for h in self.hits)


@dataclass(frozen=True)
class BlobSummary:
    """What the timeline needs from one blob; this is what the result cache stores."""

    found: bool
    start_line: int = 0
    end_line: int = 0
    text: str = ""  # the whole lines of the function's first definition
    error_count: int = 0
    concepts: tuple[ConceptSummary, ...] | None = None  # None: no rule set for the function

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest() if self.found else ""

    def to_json(self) -> dict[str, Any]:
        concepts = None
        if self.concepts is not None:
            concepts = [
                [c.concept, c.state, [[h.function, h.condition, h.moved] for h in c.hits]]
                for c in self.concepts
            ]
        return {
            "found": self.found,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "text": self.text,
            "error_count": self.error_count,
            "concepts": concepts,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> BlobSummary:
        """Decode a cached summary; raises (TypeError/ValueError/KeyError) on any malformed part."""
        ints = ("start_line", "end_line", "error_count")
        if not isinstance(doc["found"], bool) or not isinstance(doc["text"], str):
            raise TypeError("bad summary")
        if any(type(doc[k]) is not int for k in ints):
            raise TypeError("bad summary")
        concepts = None
        if doc["concepts"] is not None:
            concepts = tuple(_concept_from_json(item) for item in doc["concepts"])
        return cls(
            found=doc["found"],
            start_line=doc["start_line"],
            end_line=doc["end_line"],
            text=doc["text"],
            error_count=doc["error_count"],
            concepts=concepts,
        )


def _concept_from_json(item: Any) -> ConceptSummary:
    concept, state, hits = item
    if not isinstance(concept, str) or not isinstance(state, str):
        raise TypeError("bad concept")
    out = []
    for function, condition, moved in hits:
        if not (isinstance(function, str) and isinstance(condition, str)):
            raise TypeError("bad hit")
        if not isinstance(moved, bool):
            raise TypeError("bad hit")
        out.append(ConceptHitSummary(function, condition, moved))
    return ConceptSummary(concept, state, tuple(out))


@dataclass(frozen=True)
class ConceptChange:
    concept: str
    change: str  # "appeared" | "vanished" | "moved" | "returned" | "condition-changed"
    before: tuple[str, ...]  # normalised conditions in the previous version (file order)
    after: tuple[str, ...]
    functions: tuple[str, ...]  # functions holding the branch now (empty when it vanished)

    def to_json(self) -> dict[str, Any]:
        return {
            "concept": self.concept,
            "change": self.change,
            "before": list(self.before),
            "after": list(self.after),
            "functions": list(self.functions),
        }


@dataclass(frozen=True)
class FunctionVersion:
    """A run of consecutive tags (in version order) with the same function content."""

    index: int  # 1-based position in the timeline
    state: str  # "present" | "no-function" | "no-file"
    first_tag: str
    last_tag: str
    tags: tuple[str, ...]
    content_hash: str  # sha256 of the function text; "" when absent
    blob_ids: tuple[str, ...]  # distinct blobs of the file in this run, first-seen order
    start_line: int  # at first_tag; 0 when absent
    end_line: int
    lines: int
    lines_added: int  # against the previous entry of the timeline (nothing, for the first)
    lines_removed: int
    has_errors: bool  # tree-sitter could not parse part of it
    concepts: tuple[tuple[str, str], ...]  # (concept id, state), rule-set order; () without rules
    concept_changes: tuple[ConceptChange, ...]
    same_as: int | None  # an earlier entry with identical content (the change was reverted)

    @property
    def tag_count(self) -> int:
        return len(self.tags)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "state": self.state,
            "first_tag": self.first_tag,
            "last_tag": self.last_tag,
            "tags": list(self.tags),
            "tag_count": self.tag_count,
            "content_hash": self.content_hash,
            "blob_ids": list(self.blob_ids),
            "start_line": self.start_line,
            "end_line": self.end_line,
            "lines": self.lines,
            "lines_added": self.lines_added,
            "lines_removed": self.lines_removed,
            "has_errors": self.has_errors,
            "concepts": {c: s for c, s in self.concepts},
            "concept_changes": [c.to_json() for c in self.concept_changes],
            "same_as": self.same_as,
        }


@dataclass(frozen=True)
class HistoryStats:
    """How much work a run did (not part of the deterministic output)."""

    tags: int
    distinct_blobs: int
    cache_hits: int
    analysed: int


@dataclass(frozen=True)
class History:
    function: str
    path: str
    rule_set: str | None  # the rule set's target when concept rules were applied
    versions: tuple[FunctionVersion, ...]
    stats: HistoryStats = field(compare=False, repr=False, default=HistoryStats(0, 0, 0, 0))
    # Tags the sources list but could not read (a damaged cache): never dropped silently.
    unreadable: tuple[DamagedTag, ...] = field(compare=False, default=())

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(t for v in self.versions for t in v.tags)

    @property
    def distinct_contents(self) -> int:
        return len({v.content_hash for v in self.versions if v.state == PRESENT})

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "path": self.path,
            "rule_set": self.rule_set,
            "tag_count": len(self.tags),
            "distinct_contents": self.distinct_contents,
            "versions": [v.to_json() for v in self.versions],
        }


# --------------------------------------------------------------------------- summarising


class Summarizer:
    """Turns a blob's bytes into a :class:`BlobSummary` for one function, with or without rules.

    ``digest`` identifies everything the summary depends on besides the blob and the function
    (rule files, the engine's code, the kvdiff version); it is part of the result-cache key.
    """

    def __init__(self, function: str, rules: Any | None, digest: str) -> None:
        self.function = function
        self.rules = rules
        self.digest = digest
        self._tag_classes: dict[str, str] = {}
        # function-content key -> (error count, concept summaries); lives for one run
        self._by_content: dict[str, tuple[int, Any]] = {}

    def tag_class(self, tag: str) -> str:
        """What, besides the blob, makes the analysis differ between tags.

        The rules look for a concept in a sibling function only from the tag it moved there
        (``moved_at``), so one blob can analyse differently on either side of that tag.
        """
        if self.rules is None:
            return ""
        if tag not in self._tag_classes:
            parts = []
            for rule in getattr(self.rules, "concepts", ()):
                moved = rule.moved_at(tag) if hasattr(rule, "moved_at") else None
                if moved is not None:
                    parts.append(f"{rule.concept}>{moved.function}")
            self._tag_classes[tag] = ",".join(parts)
        return self._tag_classes[tag]

    @property
    def rule_set(self) -> str | None:
        return getattr(self.rules, "target", None) if self.rules is not None else None

    def summarize(self, tag: str, path: str, blob_id: str, origin: str, data: bytes) -> BlobSummary:
        """Summarise the function's first definition (the one the rules analyse).

        With rules, the rule engine's own parse is the only one: a second parse just to
        extract the function would double the cold cost.
        """
        # Imported here so that a fully cached run never loads the parser or the rule engine.
        if self.rules is None:
            from kvdiff.analyzers.parse.cparse import parse_c
            from kvdiff.analyzers.parse.extract import find_functions

            defs = find_functions(parse_c(data), self.function)
            if not defs:
                return BlobSummary(found=False)
            return _summary(data, defs[0].start_line, defs[0].end_line, len(defs[0].errors), None)

        from kvdiff.analyzers.analyze.analysis import analyze_parsed
        from kvdiff.analyzers.parse.cparse import parse_c
        from kvdiff.analyzers.parse.extract import find_functions
        from kvdiff.analyzers.source.repo import SourceFile

        parsed = parse_c(data)
        defs = find_functions(parsed, self.function)
        if not defs:
            return BlobSummary(found=False)
        fn = defs[0]
        # Most new blobs change the file elsewhere: a summary holds no line numbers, so one
        # computed for the same function text (and the same siblings the rules may search at
        # this tag) is reused and only the parse is paid again.
        key = self._content_key(tag, parsed, fn)
        found = self._by_content.get(key)
        if found is None:
            src = SourceFile(tag=tag, path=path, blob_id=blob_id, origin=origin, data=data)
            analysis = analyze_parsed(src, parsed, self.rules, self.function)
            concepts = tuple(
                _concept_summary(
                    status.concept,
                    tuple(
                        ConceptHitSummary(h.function, h.condition_normalized, bool(h.moved))
                        for h in status.hits
                    ),
                )
                for status in analysis.concepts
            )
            found = self._by_content[key] = (len(analysis.errors), concepts)
        error_count, concepts = found
        return _summary(data, fn.start_line, fn.end_line, error_count, concepts)

    def _content_key(self, tag: str, parsed: Any, fn: Any) -> str:
        """What an analysis of ``fn`` depends on: its text, where its parse errors sit relative
        to it, and the sibling functions the rules may look in at this tag."""
        from kvdiff.analyzers.parse.extract import find_functions

        h = hashlib.sha256(self.tag_class(tag).encode())
        h.update(b"\0" + parsed.data[fn.start_byte : fn.end_byte])
        for e in fn.errors:
            h.update(
                f"\0{e.kind}{e.start_byte - fn.start_byte}:{e.end_byte - fn.start_byte}".encode()
            )
        for sibling in self._siblings(tag):
            defs = find_functions(parsed, sibling)
            h.update(b"\0" + (parsed.data[defs[0].start_byte : defs[0].end_byte] if defs else b"-"))
        return h.hexdigest()

    def _siblings(self, tag: str) -> list[str]:
        names = set()
        for rule in getattr(self.rules, "concepts", ()):
            moved = rule.moved_at(tag) if hasattr(rule, "moved_at") else None
            if moved is not None:
                names.add(moved.function)
        return sorted(names)


# Below this many blobs to analyse, starting worker processes costs more than it saves.
PARALLEL_MIN = 8
_worker_summarizer: Summarizer | None = None


def _init_worker(summarizer: Summarizer) -> None:
    global _worker_summarizer
    _worker_summarizer = summarizer


def _work(job: tuple[str, str, str, str, bytes]) -> BlobSummary:
    assert _worker_summarizer is not None
    return _worker_summarizer.summarize(*job)


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _summarize_all(
    summarizer: Summarizer, jobs: Iterator[tuple[str, str, str, str, bytes]], count: int
) -> Iterator[BlobSummary]:
    """Summaries of ``jobs`` in order; on several cores, in forked worker processes.

    At most two jobs per worker are in flight, so memory stays flat however many blobs miss.
    """
    workers = min(_workers(), 4, count)
    if workers < 2 or count < PARALLEL_MIN or "fork" not in multiprocessing.get_all_start_methods():
        for job in jobs:
            yield summarizer.summarize(*job)
        return
    # fork: the workers inherit the loaded parser and rules instead of re-importing them.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, context, _init_worker, (summarizer,)) as pool:
        pending: list[Future[BlobSummary]] = []
        for job in jobs:
            pending.append(pool.submit(_work, job))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def _summary(
    data: bytes,
    start_line: int,
    end_line: int,
    error_count: int,
    concepts: tuple[ConceptSummary, ...] | None,
) -> BlobSummary:
    # The function's content is its whole lines: the same slice whichever path found it.
    lines = data.split(b"\n")[start_line - 1 : end_line]
    return BlobSummary(
        found=True,
        start_line=start_line,
        end_line=end_line,
        text=b"\n".join(lines).decode("utf-8", errors="replace"),
        error_count=error_count,
        concepts=concepts,
    )


def _concept_summary(concept: str, hits: tuple[ConceptHitSummary, ...]) -> ConceptSummary:
    # The state is derived from where the hits are, not copied from the rule engine: its
    # "expected-absent" depends on the tag, while a summary is shared by every tag of a blob.
    where = ConceptSummary(concept, "", hits).where
    state = {_IN_TARGET: "present", _IN_SIBLING: "moved", _NOWHERE: "absent"}[where]
    return ConceptSummary(concept, state, hits)


def _engine_files() -> list[Path]:
    """Every file whose change could alter a blob summary: the parse and analyze stages, their
    rule sets, the shared vocabulary and this summarizer. Derived, so moved or added modules
    still invalidate the result cache."""
    root = Path(__file__).resolve().parent.parent
    files = [
        *root.glob("parse/*.py"),
        *root.glob("analyze/*.py"),
        *root.glob("analyze/rules/*.toml"),
    ]
    files += [root / "concepts.py", root / "versions.py", Path(__file__).resolve()]
    return sorted(files)


def _kvdiff_version() -> str:
    try:
        return metadata.version("kvdiff")
    except metadata.PackageNotFoundError:
        return "unknown"


def rule_digest(extra: Iterable[Path] = ()) -> str:
    """Hash of the rule files, the analysing code and the kvdiff version.

    Any change to what could alter a summary changes the digest, so stale cache entries are
    simply never looked up again.
    """
    h = hashlib.sha256(_kvdiff_version().encode())
    for path in [*_engine_files(), *extra]:
        h.update(b"\0" + path.name.encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()


def make_summarizer(function: str, rules: Any | None, rules_file: Path | None = None) -> Summarizer:
    """A summarizer for ``function`` with ``rules`` (None: line changes only); ``rules_file`` is
    where they were loaded from when not from the packaged rule sets."""
    tag = "rules" if rules is not None else "no-rules"
    extra = [rules_file] if rules_file is not None and rules is not None else []
    return Summarizer(function, rules, f"{tag}:{rule_digest(extra)}")


# --------------------------------------------------------------------------- the timeline


def _line_changes(before: str, after: str) -> tuple[int, int]:
    a = before.splitlines() if before else []
    b = after.splitlines() if after else []
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("replace", "delete"):
            removed += i2 - i1
        if op in ("replace", "insert"):
            added += j2 - j1
    return added, removed


def concept_changes(
    before: Sequence[ConceptSummary] | None, after: Sequence[ConceptSummary] | None
) -> tuple[ConceptChange, ...]:
    """What changed concept by concept; ``None`` (function or file absent) has no branches."""
    prev = {c.concept: c for c in before or ()}
    cur = {c.concept: c for c in after or ()}
    order = [c.concept for c in after or ()] + [
        c.concept for c in before or () if c.concept not in cur
    ]
    out = []
    empty = ConceptSummary("", "absent", ())
    for concept in order:
        p, c = prev.get(concept, empty), cur.get(concept, empty)
        pw, cw = p.where, c.where
        if pw == cw == _NOWHERE:
            continue
        if pw == _NOWHERE:
            change = "appeared"
        elif cw == _NOWHERE:
            change = "vanished"
        elif pw == _IN_TARGET and cw == _IN_SIBLING:
            change = "moved"
        elif pw == _IN_SIBLING and cw == _IN_TARGET:
            change = "returned"
        elif p.conditions != c.conditions:
            change = "condition-changed"
        else:
            continue
        functions = tuple(dict.fromkeys(h.function for h in c.hits))
        out.append(ConceptChange(concept, change, p.conditions, c.conditions, functions))
    return tuple(out)


def _group_key(state: str, summary: BlobSummary | None) -> tuple:
    if summary is None or state != PRESENT:
        return (state,)
    # Concepts join the key: a sibling's change can move a branch without touching the text.
    return (state, summary.content_hash, summary.concepts)


def build_history_from_blobs(
    tag_blobs: Sequence[TagBlob],
    path: str,
    read: Callable[[str], bytes | None],
    summarizer: Summarizer,
    cache: ResultCache | None = None,
) -> History:
    """The timeline of ``summarizer.function`` over ``tag_blobs`` (already in version order).

    ``read(blob_id)`` returns a blob's bytes; it is called once per distinct blob that the
    result cache does not already know, never per tag.
    """
    cache = cache or ResultCache(None)
    summaries: dict[tuple[str, str], BlobSummary] = {}  # (blob id, tag class) -> summary
    misses: list[tuple[tuple[str, str], str, TagBlob]] = []
    for tb in tag_blobs:
        if tb.blob_id is None:
            continue
        slot = (tb.blob_id, summarizer.tag_class(tb.tag))
        if slot in summaries:
            continue
        key = make_key("history", *slot, summarizer.function, summarizer.digest)
        summary = None
        cached = cache.get(key)
        if cached is not None:
            try:
                summary = BlobSummary.from_json(cached)
            except (TypeError, ValueError, KeyError, AttributeError):
                summary = None  # a damaged entry is rebuilt, never trusted
        if summary is None:
            misses.append((slot, key, tb))
            summaries[slot] = BlobSummary(found=False)  # placeholder, replaced below
        else:
            summaries[slot] = summary

    def jobs() -> Iterator[tuple[str, str, str, str, bytes]]:
        for _slot, _key, tb in misses:
            assert tb.blob_id is not None
            data = read(tb.blob_id)
            if data is None:
                raise LookupError(f"blob {tb.blob_id} of {path} at {tb.tag} cannot be read")
            yield (tb.tag, path, tb.blob_id, tb.origin, data)

    computed = _summarize_all(summarizer, jobs(), len(misses))
    for (slot, key, _tb), summary in zip(misses, computed, strict=True):
        summaries[slot] = summary
        cache.put(key, summary.to_json())
    analysed = len(misses)

    versions: list[FunctionVersion] = []
    prev_run_summary: list[BlobSummary | None] = [None]  # the previous entry's, if present
    run: list[TagBlob] = []
    run_key: tuple | None = None

    def state_of(tb: TagBlob) -> tuple[str, BlobSummary | None]:
        if tb.blob_id is None:
            return NO_FILE, None
        s = summaries[(tb.blob_id, summarizer.tag_class(tb.tag))]
        return (PRESENT if s.found else NO_FUNCTION), s

    def close_run() -> None:
        if not run:
            return
        state, summary = state_of(run[0])
        prev_summary = prev_run_summary[0]
        text = summary.text if summary is not None and summary.found else ""
        added, removed = _line_changes(prev_summary.text if prev_summary else "", text)
        content_hash = summary.content_hash if summary is not None else ""
        same_as = None
        if state == PRESENT:
            same_as = next(
                (
                    v.index
                    for v in versions
                    if v.state == PRESENT and v.content_hash == content_hash
                ),
                None,
            )
        present = summary if summary is not None and summary.found else None
        versions.append(
            FunctionVersion(
                index=len(versions) + 1,
                state=state,
                first_tag=run[0].tag,
                last_tag=run[-1].tag,
                tags=tuple(tb.tag for tb in run),
                content_hash=content_hash,
                blob_ids=tuple(dict.fromkeys(tb.blob_id for tb in run if tb.blob_id)),
                start_line=present.start_line if present else 0,
                end_line=present.end_line if present else 0,
                lines=len(text.splitlines()),
                lines_added=added,
                lines_removed=removed,
                has_errors=bool(present and present.error_count),
                concepts=tuple((c.concept, c.state) for c in (present.concepts or ()))
                if present
                else (),
                concept_changes=concept_changes(
                    prev_summary.concepts if prev_summary else None,
                    present.concepts if present else None,
                ),
                same_as=same_as,
            )
        )
        prev_run_summary[0] = present

    for tb in tag_blobs:
        state, summary = state_of(tb)
        key = _group_key(state, summary)
        if run and key != run_key:
            close_run()
            run = []
        run.append(tb)
        run_key = key
    close_run()

    return History(
        function=summarizer.function,
        path=path,
        rule_set=summarizer.rule_set,
        versions=tuple(versions),
        stats=HistoryStats(
            tags=len(tag_blobs),
            distinct_blobs=len(summaries),
            cache_hits=cache.hits,
            analysed=analysed,
        ),
    )


def history_json(history: History) -> str:
    """Deterministic JSON text (sorted keys, stable order, trailing newline)."""
    return json.dumps(history.to_json(), sort_keys=True, indent=2) + "\n"


# --------------------------------------------------------------------------- tags and sources


def parse_range(spec: str) -> tuple[str | None, str | None]:
    """``A..B`` (either side may be empty) into its bounds; anything else is a KvdiffError."""
    if spec.count("..") != 1:
        raise KvdiffError(
            f"--range {spec!r} is not of the form A..B; write e.g. --range v2.6.35..v5.10.37"
        )
    low, high = (part.strip() or None for part in spec.split(".."))
    for bound in (low, high):
        if bound is not None and parse_version(bound) is None:
            raise KvdiffError(
                f"--range bound {bound!r} is not a version tag; use tags like v5.1 or v5.10.37"
            )
    if low and high and version_key(low) > version_key(high):
        raise KvdiffError(f"--range {spec} is empty: {low} comes after {high}; swap the bounds")
    return low, high


def select_tags(
    tags: Iterable[str], pattern: str | None = None, tag_range: str | None = None
) -> list[str]:
    """Tags matching the glob and inside the inclusive version range, in version order."""
    window = _tag_range(*parse_range(tag_range)) if tag_range else None
    return [
        tag
        for tag in sort_tags(tags)
        if (pattern is None or fnmatch.fnmatchcase(tag, pattern))
        # TagRange leaves non-version tags outside every range
        and (window is None or window.matches(tag))
    ]


def _tag_range(low: str | None, high: str | None) -> TagRange | None:
    """``--range`` bounds (either may be open) as the shared inclusive version range."""
    if low and high:
        return parse_tag_range(f"{low}..{high}")
    if low or high:
        return parse_tag_range(f">={low}" if low else f"<={high}")
    return None


def missing_release_tags(
    sources: Any, pattern: str | None = None, tag_range: str | None = None
) -> list[str]:
    """Release tags the upstreams list (matching the filters) that are not available yet."""
    have = set(sources.available_tags())
    listed = [t for t in sources.upstream_tags() if parse_version(t) is not None]
    return [t for t in select_tags(listed, pattern, tag_range) if t not in have]


def resolve_tags(
    sources: Any, tags: Sequence[str], path: str, unreadable: list[DamagedTag] | None = None
) -> list[TagBlob]:
    """Each tag's blob id of ``path`` through ``Sources`` (tree lookups only, no blob reads).
    With ``unreadable``, a damaged tag is collected there instead of raising."""
    out = []
    for tag in tags:
        try:
            info = sources.ensure(tag)
            blob_id = sources.blob_id(tag, path)
        except DamagedTag as exc:
            if unreadable is None:
                raise
            unreadable.append(exc)
            continue
        out.append(TagBlob(tag=tag, origin=info.origin, blob_id=blob_id))
    return out


def build_history(
    sources: Any,
    function: str = "try_to_unmap_one",
    path: str | None = None,
    *,
    tags: Sequence[str] | None = None,
    pattern: str | None = None,
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
    from kvdiff.analyzers.analyze.ruleset import rules_for

    rules = rules_for(function, path, rules_file) if use_rules else None
    if path is None:
        path = getattr(rules, "path", None)
        if path is None:
            raise KvdiffError(
                f"no rule set says which file defines {function}; pass --file PATH (e.g. mm/rmap.c)"
            )
    chosen = select_tags(sources.available_tags() if tags is None else tags, pattern, tag_range)
    if not chosen:
        raise KvdiffError(
            "no tags to build a history from (none available, or none match --tags/--range); "
            "pass --repo PATH, run kvdiff fetch TAG..., or use --fetch"
        )
    unreadable: list[DamagedTag] = []
    tag_blobs = resolve_tags(sources, chosen, path, unreadable)
    if not tag_blobs:
        raise unreadable[0]
    by_blob = {tb.blob_id: tb.tag for tb in tag_blobs if tb.blob_id}

    def read(blob_id: str) -> bytes | None:
        return sources.read(by_blob[blob_id], path).data

    history = build_history_from_blobs(
        tag_blobs,
        path,
        read,
        make_summarizer(function, rules, rules_file),
        ResultCache(result_dir),
    )
    if not any(v.state == PRESENT for v in history.versions):
        raise _function_nowhere(sources, function, path, tag_blobs)
    return replace(history, unreadable=tuple(unreadable))


def _function_nowhere(
    sources: Any, function: str, path: str, tag_blobs: Sequence[TagBlob]
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
        else ("no similarly named function there")
    )
    return KvdiffError(
        f"function {function} is defined in {path} at none of the {len(tag_blobs)} tag(s); "
        f"{hint} (check the name, or pass --file for the file that defines it)"
    )


# --------------------------------------------------------------------------- text rendering

_CHANGE_WORDS = (
    ("appeared", "appeared"),
    ("vanished", "vanished"),
    ("moved", "moved"),
    ("returned", "moved back"),
    ("condition-changed", "condition changed"),
)


def format_history(history: History) -> list[str]:
    """Plain-text lines: a header, then one entry per version with its changes indented."""
    n_tags = len(history.tags)
    rules = f"rule set {history.rule_set}" if history.rule_set else "no rule set: line changes only"
    lines = [
        f"{history.function} in {history.path}: {n_tags} tag{'s' if n_tags != 1 else ''}, "
        f"{len(history.versions)} entries, {history.distinct_contents} distinct ({rules})"
    ]
    width = max((len(_span(v)) for v in history.versions), default=0)
    for v in history.versions:
        count = f"{v.tag_count} tag{'s' if v.tag_count != 1 else ''}"
        if v.state == PRESENT:
            what = f"lines {v.start_line}-{v.end_line} ({v.lines})"
            if v.has_errors:
                what += ", parse errors"
        elif v.state == NO_FUNCTION:
            what = f"{history.path} has no {history.function}"
        else:
            what = f"no {history.path}"
        delta = f"+{v.lines_added} -{v.lines_removed}"
        if v.same_as is not None:
            delta += f" (same as #{v.same_as})"
        lines.append(f"#{v.index:<3} {_span(v):<{width}}  {count:>9}  {what}  {delta}")
        by_change: dict[str, list[str]] = {}
        for change in v.concept_changes:
            by_change.setdefault(change.change, []).append(change.concept)
        parts = [
            f"{word}: {', '.join(by_change[key])}"
            for key, word in _CHANGE_WORDS
            if key in by_change
        ]
        if parts:
            lines.append("      " + "; ".join(parts))
    return lines


def _span(v: FunctionVersion) -> str:
    return v.first_tag if v.first_tag == v.last_tag else f"{v.first_tag}..{v.last_tag}"
