"""A function's timeline: tags (in version order) grouped by the function's content, and what
changed between consecutive versions, concept by concept (as :class:`~.changes.Change` values).

A tag whose file lacks the function, or that lacks the file, is a state in the timeline
("no-function", "no-file"), never an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from kvdiff.analyzers.analyze.summaries import (
    IN_SIBLING,
    IN_TARGET,
    NOWHERE,
    BlobSummaries,
    BlobSummary,
    ConceptSummary,
    TagBlob,
)
from kvdiff.analyzers.compare.changes import (
    APPEARED,
    CONDITION_CHANGED,
    MOVED,
    RETURNED,
    VANISHED,
    Change,
)

PRESENT = "present"
NO_FUNCTION = "no-function"
NO_FILE = "no-file"


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
    concept_changes: tuple[Change, ...]
    same_as: int | None  # an earlier entry with identical content (the change was reverted)

    @property
    def tag_count(self) -> int:
        return len(self.tags)


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
    # (tag, why) of tags the sources list but could not read (a damaged cache): the CLI names
    # them and exits non-zero instead of dropping them silently.
    unreadable: tuple[tuple[str, str], ...] = field(compare=False, default=())

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(t for v in self.versions for t in v.tags)

    @property
    def distinct_contents(self) -> int:
        return len({v.content_hash for v in self.versions if v.state == PRESENT})


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
) -> tuple[Change, ...]:
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
        if pw == cw == NOWHERE:
            continue
        if pw == NOWHERE:
            kind = APPEARED
        elif cw == NOWHERE:
            kind = VANISHED
        elif pw == IN_TARGET and cw == IN_SIBLING:
            kind = MOVED
        elif pw == IN_SIBLING and cw == IN_TARGET:
            kind = RETURNED
        elif p.conditions != c.conditions:
            kind = CONDITION_CHANGED
        else:
            continue
        functions = tuple(dict.fromkeys(h.function for h in c.hits))
        out.append(Change(concept, kind, p.conditions, c.conditions, functions))
    return tuple(out)


def _group_key(state: str, summary: BlobSummary | None) -> tuple:
    if summary is None or state != PRESENT:
        return (state,)
    # Concepts join the key: a sibling's change can move a branch without touching the text.
    return (state, summary.content_hash, summary.concepts)


def _version(
    index: int,
    run: Sequence[TagBlob],
    state: str,
    summary: BlobSummary | None,
    prev: BlobSummary | None,
    earlier: Sequence[FunctionVersion],
) -> FunctionVersion:
    """One timeline entry for a run of tags; ``prev`` is the previous entry's summary when the
    function was present there, ``earlier`` the entries so far (for ``same_as``)."""
    present = summary if summary is not None and summary.found else None
    text = present.text if present else ""
    added, removed = _line_changes(prev.text if prev else "", text)
    content_hash = summary.content_hash if summary is not None else ""
    same_as = None
    if state == PRESENT:
        same_as = next(
            (v.index for v in earlier if v.state == PRESENT and v.content_hash == content_hash),
            None,
        )
    return FunctionVersion(
        index=index,
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
        concepts=tuple((c.concept, c.state) for c in (present.concepts or ())) if present else (),
        concept_changes=concept_changes(
            prev.concepts if prev else None, present.concepts if present else None
        ),
        same_as=same_as,
    )


def build_timeline(
    tag_blobs: Sequence[TagBlob],
    summaries: BlobSummaries,
    function: str,
    path: str,
    rule_set: str | None,
) -> History:
    """Group ``tag_blobs`` (already in version order) into runs of equal content."""

    def state_of(tb: TagBlob) -> tuple[str, BlobSummary | None]:
        if tb.blob_id is None:
            return NO_FILE, None
        s = summaries.by_tag[tb.tag]
        return (PRESENT if s.found else NO_FUNCTION), s

    runs: list[list[TagBlob]] = []
    run_key: tuple | None = None
    for tb in tag_blobs:
        key = _group_key(*state_of(tb))
        if not runs or key != run_key:
            runs.append([])
        runs[-1].append(tb)
        run_key = key
    versions: list[FunctionVersion] = []
    prev: BlobSummary | None = None  # the previous entry's summary, if the function was there
    for run in runs:
        state, summary = state_of(run[0])
        versions.append(_version(len(versions) + 1, run, state, summary, prev, versions))
        prev = summary if summary is not None and summary.found else None
    stats = HistoryStats(
        tags=len(tag_blobs),
        distinct_blobs=summaries.distinct,
        cache_hits=summaries.cache_hits,
        analysed=summaries.analysed,
    )
    return History(function, path, rule_set, tuple(versions), stats)
