"""Tag pages: the whole function at one tag, concepts in the gutter, one section per scenario."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from kvdiff.analyzers.present.site.code import SourceView
from kvdiff.analyzers.present.site.inputs import TagInput
from kvdiff.analyzers.present.site.safety import safety_note
from kvdiff.analyzers.present.site.strings import fmt, tag_filename
from kvdiff.analyzers.present.site.traces import trace_view, traced_lines
from kvdiff.analyzers.present.site.views import CodeLine, TagPage, TimelineEntry
from kvdiff.analyzers.present.site.xref import resolver


class Notes(NamedTuple):
    """Why parts of the pages are missing, shared by every tag page (the builder's own record:
    a tuple, which is quicker to define than a dataclass)."""

    rules: str
    model: str
    has_model: bool
    extra: bool = False  # the page exists only because the history links to it


def timeline_entry(inp: TagInput, f: SourceView) -> TimelineEntry:
    return TimelineEntry(
        tag=inp.source.tag,
        origin=inp.source.origin,
        blob_id=inp.source.blob_id,
        start_line=f.span.start_line,
        end_line=f.span.end_line,
        href=tag_filename(inp.source.tag),
        signature=" ".join(f.span.signature.split()),
        errors=f.span.errors,
    )


def _elsewhere(inp: TagInput, function: str) -> dict[str, tuple[int, int]]:
    """Sibling function -> the line span covering the concept hits found in it."""
    spans: dict[str, tuple[int, int]] = {}
    if inp.analysis is None:
        return spans
    for status in inp.analysis.concepts:
        for hit in status.hits:
            if hit.function != function:
                lo, hi = spans.get(hit.function, (hit.start_line, hit.end_line))
                spans[hit.function] = (min(lo, hit.start_line), max(hi, hit.end_line))
    return spans


def tag_page(
    inp: TagInput, f: SourceView, function: str, strings: Mapping[str, str], notes: Notes
) -> tuple[TagPage, set[int]]:
    """One tag's page, and the line numbers it shows (trace steps may link to those)."""
    tag = inp.source.tag
    line_concepts = inp.analysis.line_concepts() if inp.analysis is not None else {}
    traced = traced_lines(inp)
    shown = set(range(f.span.start_line, f.span.end_line + 1))
    # Concepts found in sibling functions: each function's excerpt covers its hits' branches.
    ranges = []
    for name, (lo, hi) in sorted(_elsewhere(inp, function).items(), key=lambda kv: kv[1]):
        if lo >= f.span.start_line and hi <= f.span.end_line:
            continue
        ranges.append((name, lo, hi))
        shown.update(range(lo, hi + 1))
    # gotos and calls link to the lines this page shows, the rest of the file to Elixir.
    links = resolver(tag, inp.source.path, {n: f"#L{n}" for n in sorted(shown)})
    lines = f.code(f.span.start_line, f.span.end_line, line_concepts, traced, strings, links)
    other: list[tuple[str, tuple[CodeLine, ...]]] = [
        (name, f.code(lo, hi, line_concepts, traced, strings, links)) for name, lo, hi in ranges
    ]
    traces = tuple(trace_view(inp, o, f, shown, False) for o in inp.outcomes)
    tag_note = (
        "" if inp.outcomes or not notes.has_model else fmt(strings, "model_not_for_tag", tag=tag)
    )
    page = TagPage(
        filename=tag_filename(tag),
        title=fmt(strings, "tag_title", function=function, tag=tag),
        tag=tag,
        entry=timeline_entry(inp, f),
        lines=lines,
        elsewhere=tuple(other),
        traces=traces,
        concept_note=notes.rules,
        model_note=notes.model or tag_note,
        history_note=fmt(strings, "history_extra_page", tag=tag) if notes.extra else "",
        safety_note=safety_note(inp.source.data, shown, strings),
    )
    return page, shown
