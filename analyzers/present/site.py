"""Build the report site's pages as plain dataclasses from sources, analyses, model outcomes and
annotations. Pure: no I/O; :mod:`analyzers.render` turns the pages into files.

Every piece of source-derived text that is meant to be shown as code is turned into
:class:`markupsafe.Markup` only by :func:`analyzers.highlight.render_line`, which escapes it first;
everything else stays a plain ``str`` and is escaped by the template engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kvdiff.analyzers.compare.linediff import side_by_side
from kvdiff.analyzers.concepts import BY_ID, CONCEPT_IDS
from kvdiff.analyzers.present.highlight import Line, highlight_lines, render_line
from kvdiff.analyzers.present.textsafety import bidi_lines, bidi_warning
from kvdiff.analyzers.source.repo import SourceFile
from markupsafe import Markup

if TYPE_CHECKING:  # the analyze/model/annotation stages; only their data is used here
    from kvdiff.analyzers.analyze.analysis import Analysis, ConceptHit, ConceptStatus
    from kvdiff.analyzers.jobs.history import History
    from kvdiff.analyzers.model import Outcome
    from kvdiff.analyzers.present.annotations import Annotations

# Concept panels every pair page shows first, whatever changed: the study group's two branches.
PRIMARY_PANELS = ("anon", "migration")
# Lines of context kept around each traced line in the pair page's model panel.
TRACE_CONTEXT = 1


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class FunctionSpan:
    """Where the function sits in one tag's file (real 1-based lines)."""

    start_line: int
    end_line: int
    signature: str
    errors: int  # parse errors inside it
    definitions: int = 1  # how many times the file defines the function (this is the first)


@dataclass(frozen=True)
class TagInput:
    """Everything known about one tag: its source file, and the analysis and model outcomes when
    a rule set / the model covers the function (``None`` / ``()`` otherwise). Without an
    analysis, ``span`` says where the function is (with one, the analysis does)."""

    source: SourceFile
    analysis: Analysis | None = None
    outcomes: tuple[Outcome, ...] = ()
    span: FunctionSpan | None = None

    def function_span(self) -> FunctionSpan:
        if self.analysis is not None:
            a = self.analysis
            return FunctionSpan(
                a.start_line, a.end_line, a.signature, len(a.errors), len(a.definitions) or 1
            )
        if self.span is None:
            raise ValueError(f"{self.source.tag}: a TagInput needs an analysis or a span")
        return self.span


# ---------------------------------------------------------------------------------------------
# Pages


@dataclass(frozen=True)
class Link:
    href: str
    text: str


@dataclass(frozen=True)
class CodeLine:
    number: int
    html: Markup
    concepts: tuple[str, ...] = ()
    traced: tuple[str, ...] = ()  # scenarios whose trace goes through this line
    title: str = ""  # hover text: concepts and traces
    mark: str = ""  # "" | "taken" | "not-taken" (model panel excerpts)
    gap: bool = False  # a "…" row standing for skipped lines


@dataclass(frozen=True)
class TimelineEntry:
    tag: str
    origin: str
    blob_id: str
    start_line: int
    end_line: int
    href: str
    signature: str
    errors: int


@dataclass(frozen=True)
class ConceptCell:
    tag: str
    state: str
    label: str
    links: tuple[Link, ...]
    note: str = ""


@dataclass(frozen=True)
class ConceptRow:
    concept: str
    title: str
    summary: str
    cells: tuple[ConceptCell, ...]


@dataclass(frozen=True)
class ModelCell:
    tag: str
    applicable: bool
    kind: str
    text: str  # decoded PTE after, or the reason it does not apply
    ret: str
    href: str


@dataclass(frozen=True)
class ModelRow:
    scenario: str
    cells: tuple[ModelCell, ...]


@dataclass(frozen=True)
class StepView:
    concept: str
    condition: str
    file: str
    line: int
    taken: bool
    href: str  # "" when the line is not shown on our pages


@dataclass(frozen=True)
class TraceView:
    tag: str
    scenario: str
    anchor: str
    applicable: bool
    reason: str
    pte_before: str
    pte_after: str
    decoded_before: str
    decoded_after: str
    kind_after: str
    ret: str
    side_effects: tuple[str, ...]
    next_fault: str
    steps: tuple[StepView, ...]
    excerpt: tuple[CodeLine, ...] = ()
    href: str = ""  # the section on the tag page


@dataclass(frozen=True)
class Card:
    writes: str
    when: str
    callers: str


@dataclass(frozen=True)
class PanelSide:
    tag: str
    state: str
    state_label: str
    where: str  # function and nesting path, in words
    lines: tuple[CodeLine, ...]
    href: str
    card: Card | None


@dataclass(frozen=True)
class ConceptPanel:
    concept: str
    title: str
    anchor: str
    a: PanelSide
    b: PanelSide
    facts: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class DiffRowView:
    kind: str
    left_number: int | None
    left_html: Markup
    right_number: int | None
    right_html: Markup


@dataclass(frozen=True)
class DiffBlockView:
    kind: str  # "equal" | "change"
    rows: tuple[DiffRowView, ...]
    collapse: bool  # long unchanged runs are folded into <details>


@dataclass(frozen=True)
class ModelPairRow:
    scenario: str
    anchor: str
    a: TraceView | None
    b: TraceView | None


@dataclass(frozen=True)
class Nav:
    """Links every page carries: home, question, tags and pairs."""

    index: Link
    question: Link | None
    tags: tuple[Link, ...]
    pairs: tuple[Link, ...]
    history: Link | None = None


@dataclass(frozen=True)
class TagPage:
    filename: str
    title: str
    tag: str
    entry: TimelineEntry
    lines: tuple[CodeLine, ...]
    elsewhere: tuple[tuple[str, tuple[CodeLine, ...]], ...]  # (function, lines) of moved hits
    traces: tuple[TraceView, ...]
    concept_note: str
    model_note: str
    history_note: str = ""  # set on pages made only because the history links to them
    safety_note: str = ""  # bidirectional control characters in the shown code (Trojan Source)


@dataclass(frozen=True)
class PairPage:
    filename: str
    title: str
    a: str
    b: str
    a_href: str
    b_href: str
    blocks: tuple[DiffBlockView, ...]
    added: int
    removed: int
    changed: int
    panels: tuple[ConceptPanel, ...]
    concept_note: str
    model_rows: tuple[ModelPairRow, ...]
    model_note: str


@dataclass(frozen=True)
class QuestionFact:
    tag: str
    text: str
    href: str


@dataclass(frozen=True)
class QuestionPage:
    filename: str
    title: str
    paragraphs: tuple[str, ...]
    migration_facts: tuple[QuestionFact, ...]
    model_facts: tuple[QuestionFact, ...]


@dataclass(frozen=True)
class IndexPage:
    filename: str
    title: str
    function: str
    path: str
    timeline: tuple[TimelineEntry, ...]
    concept_rows: tuple[ConceptRow, ...]
    concept_note: str
    model_rows: tuple[ModelRow, ...]
    model_note: str
    question: QuestionPage | None


@dataclass(frozen=True)
class HistoryChangeView:
    concept: str
    title: str
    change: str  # "appeared" | "vanished" | "moved" | "returned" | "condition-changed"
    label: str
    before: tuple[str, ...]  # normalised conditions in the previous version
    after: tuple[str, ...]
    elsewhere: str  # "now in f()" when the branch lives outside the target; "" otherwise


@dataclass(frozen=True)
class HistoryRow:
    """One distinct version of the function: a run of consecutive tags with the same content."""

    index: int
    state: str  # "present" | "no-function" | "no-file"
    state_label: str
    first_tag: str
    last_tag: str
    tag_count: int
    count_label: str
    tags: tuple[str, ...]
    start_line: int
    end_line: int
    lines: int
    lines_added: int
    lines_removed: int
    same_as: int | None
    has_errors: bool
    changes: tuple[HistoryChangeView, ...]
    href: str  # the first tag's page at the function's first line; "" when absent


@dataclass(frozen=True)
class HistoryPage:
    filename: str
    title: str
    function: str
    path: str
    summary: str
    rules_note: str
    rows: tuple[HistoryRow, ...]


@dataclass(frozen=True)
class Site:
    lang: str
    strings: Mapping[str, str] = field(compare=False)
    nav: Nav
    index: IndexPage
    question: QuestionPage | None
    tags: tuple[TagPage, ...]
    pairs: tuple[PairPage, ...]
    history: HistoryPage | None = None
    warnings: tuple[str, ...] = ()  # for stderr: functions defined twice, bidi controls


# ---------------------------------------------------------------------------------------------
# Helpers


def slug(text: str) -> str:
    """A file-name and id safe form of a tag or scenario name, one-to-one so that no two tags
    share a page: any other byte becomes ``_XX`` (hex; ``_`` itself too, so ``a/b`` and ``a_b``
    differ), and so does a ``-`` at either end or next to another ``-``, which keeps the ``--``
    of ``diff-A--B.html`` unambiguous."""
    out = []
    for i, ch in enumerate(text):
        dash_ok = ch == "-" and 0 < i < len(text) - 1 and "-" not in (text[i - 1], text[i + 1])
        if dash_ok or (ch.isascii() and (ch.isalnum() or ch == ".")):
            out.append(ch)
        else:
            out.extend(f"_{b:02x}" for b in ch.encode("utf-8"))
    return "".join(out)


HISTORY_FILENAME = "history.html"


def tag_filename(tag: str) -> str:
    return f"tag-{slug(tag)}.html"


def pair_filename(a: str, b: str) -> str:
    return f"diff-{slug(a)}--{slug(b)}.html"


def trace_anchor(scenario: str) -> str:
    return f"trace-{slug(scenario)}"


def _fmt(strings: Mapping[str, str], key: str, **kw: Any) -> str:
    return strings[key].format(**kw)


def _hex(value: int) -> str:
    return f"0x{value:016x}"


class _File:
    """One tag's file, highlighted once, and where the function is in it."""

    def __init__(self, source: SourceFile, span: FunctionSpan) -> None:
        self.source = source
        self.span = span
        self.lines: dict[int, Line] = {ln.number: ln for ln in highlight_lines(source.data)}

    def code(
        self,
        start: int,
        end: int,
        concepts: Mapping[int, tuple[str, ...]] | None = None,
        traced: Mapping[int, tuple[str, ...]] | None = None,
        strings: Mapping[str, str] | None = None,
    ) -> tuple[CodeLine, ...]:
        out = []
        for n in range(start, end + 1):
            ln = self.lines.get(n)
            if ln is None:
                continue
            cs = concepts.get(n, ()) if concepts else ()
            ts = traced.get(n, ()) if traced else ()
            title_parts = []
            if cs and strings is not None:
                title_parts.append(_fmt(strings, "hover_concepts", items=", ".join(cs)))
            if ts and strings is not None:
                title_parts.append(_fmt(strings, "hover_traced", items=", ".join(ts)))
            out.append(
                CodeLine(
                    number=n,
                    html=render_line(ln.text, ln.spans),
                    concepts=cs,
                    traced=ts,
                    title="; ".join(title_parts),
                )
            )
        return tuple(out)


def _primary_hit(status: ConceptStatus | None) -> ConceptHit | None:
    if status is None or not status.hits:
        return None
    for hit in status.hits:
        if not hit.moved:
            return hit
    return status.hits[0]


def _state_label(strings: Mapping[str, str], state: str) -> str:
    return strings.get(f"state_{state.replace('-', '_')}", state)


def _status(analysis: Analysis | None, concept: str) -> ConceptStatus | None:
    if analysis is None:
        return None
    for status in analysis.concepts:
        if status.concept == concept:
            return status
    return None


# ---------------------------------------------------------------------------------------------
# Builders


def _timeline(inp: TagInput, f: _File) -> TimelineEntry:
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


def _traced_lines(inp: TagInput) -> dict[int, tuple[str, ...]]:
    traced: dict[int, list[str]] = {}
    for outcome in inp.outcomes:
        for step in outcome.trace:
            if step.file == inp.source.path and outcome.scenario not in traced.get(step.line, []):
                traced.setdefault(step.line, []).append(outcome.scenario)
    return {k: tuple(v) for k, v in traced.items()}


def _trace_view(
    inp: TagInput, outcome: Outcome, f: _File, shown: set[int], with_excerpt: bool
) -> TraceView:
    tag = inp.source.tag
    steps = tuple(
        StepView(
            concept=s.concept,
            condition=s.condition,
            file=s.file,
            line=s.line,
            taken=s.taken,
            href=f"{tag_filename(tag)}#L{s.line}"
            if s.file == inp.source.path and s.line in shown
            else "",
        )
        for s in outcome.trace
    )
    excerpt: tuple[CodeLine, ...] = ()
    if with_excerpt:
        excerpt = _excerpt(f, steps, inp.source.path)
    return TraceView(
        tag=tag,
        scenario=outcome.scenario,
        anchor=trace_anchor(outcome.scenario),
        applicable=outcome.applicable,
        reason=outcome.reason,
        pte_before=_hex(outcome.pte_before),
        pte_after=_hex(outcome.pte_after),
        decoded_before=outcome.decoded_before.text,
        decoded_after=outcome.decoded_after.text,
        kind_after=outcome.decoded_after.kind,
        ret=outcome.ret,
        side_effects=tuple(outcome.side_effects),
        next_fault=outcome.next_fault,
        steps=steps,
        excerpt=excerpt,
        href=f"{tag_filename(tag)}#{trace_anchor(outcome.scenario)}",
    )


def _excerpt(f: _File, steps: tuple[StepView, ...], path: str) -> tuple[CodeLine, ...]:
    """The traced lines of one version with a little context, marked taken / not taken."""
    marks: dict[int, str] = {}
    for s in steps:
        if s.file != path:
            continue
        # A line evaluated twice keeps "taken" if it was ever taken.
        if marks.get(s.line) != "taken":
            marks[s.line] = "taken" if s.taken else "not-taken"
    wanted: set[int] = set()
    for n in marks:
        wanted.update(range(n - TRACE_CONTEXT, n + TRACE_CONTEXT + 1))
    out: list[CodeLine] = []
    prev: int | None = None
    for n in sorted(wanted):
        ln = f.lines.get(n)
        if ln is None:
            continue
        if prev is not None and n != prev + 1:
            out.append(CodeLine(number=0, html=Markup(""), gap=True))
        out.append(CodeLine(number=n, html=render_line(ln.text, ln.spans), mark=marks.get(n, "")))
        prev = n
    return tuple(out)


def _where(strings: Mapping[str, str], hit: ConceptHit | None, target: str) -> str:
    if hit is None:
        return strings["panel_nowhere"]
    path = " › ".join(hit.branch_path) if hit.branch_path else strings["panel_top_level"]
    key = "panel_where_moved" if hit.function != target else "panel_where"
    return _fmt(
        strings, key, function=hit.function, path=path, start=hit.start_line, end=hit.end_line
    )


def _card(annotations: Annotations | None, concept: str, tag: str, lang: str) -> Card | None:
    if annotations is None:
        return None
    card = annotations.card(concept, tag, lang)
    if card is None:
        return None
    return Card(writes=card.writes, when=card.when, callers=card.callers)


def _facts(
    strings: Mapping[str, str],
    concept: str,
    a: tuple[str, ConceptHit | None],
    b: tuple[str, ConceptHit | None],
    anon_conditions: tuple[str, str],
) -> tuple[str, ...]:
    """What changed for one concept between two tags, computed from the two analyses."""
    tag_a, hit_a = a
    tag_b, hit_b = b
    if hit_a is None and hit_b is None:
        return (_fmt(strings, "fact_absent_both", a=tag_a, b=tag_b),)
    if hit_a is None:
        return (_fmt(strings, "fact_appeared", a=tag_a, b=tag_b),)
    if hit_b is None:
        return (_fmt(strings, "fact_vanished", a=tag_a, b=tag_b),)
    facts: list[str] = []
    if hit_a.condition_normalized != hit_b.condition_normalized:
        facts.append(
            _fmt(
                strings,
                "fact_condition_changed",
                old=hit_a.condition_normalized or "else",
                new=hit_b.condition_normalized or "else",
            )
        )
    if hit_a.function != hit_b.function:
        facts.append(_fmt(strings, "fact_function_changed", old=hit_a.function, new=hit_b.function))
    if hit_a.branch_path != hit_b.branch_path:
        anon_a, anon_b = anon_conditions
        in_a = concept != "anon" and bool(anon_a) and _inside(hit_a, anon_a)
        in_b = concept != "anon" and bool(anon_b) and _inside(hit_b, anon_b)
        if in_a and not in_b:
            facts.append(strings["fact_moved_out_of_anon"])
        elif in_b and not in_a:
            facts.append(strings["fact_moved_into_anon"])
        facts.append(
            _fmt(
                strings,
                "fact_path_changed",
                old=" › ".join(hit_a.branch_path) or strings["panel_top_level"],
                new=" › ".join(hit_b.branch_path) or strings["panel_top_level"],
            )
        )
    calls_a, calls_b = set(hit_a.calls), set(hit_b.calls)
    if calls_b - calls_a:
        facts.append(_fmt(strings, "fact_calls_added", items=", ".join(sorted(calls_b - calls_a))))
    if calls_a - calls_b:
        facts.append(
            _fmt(strings, "fact_calls_removed", items=", ".join(sorted(calls_a - calls_b)))
        )
    if not facts:
        facts.append(strings["fact_unchanged"])
    return tuple(facts)


def _inside(hit: ConceptHit, anon_condition: str) -> bool:
    """Is the hit nested under the PageAnon branch (its path mentions that condition)?"""
    cond = " ".join(anon_condition.split())
    return any(cond and cond in " ".join(step.split()) for step in hit.branch_path)


def _anon_condition(analysis: Analysis | None) -> str:
    hit = _primary_hit(_status(analysis, "anon"))
    return hit.condition_normalized if hit is not None else ""


def _panel(
    concept: str,
    inp_a: TagInput,
    inp_b: TagInput,
    fa: _File,
    fb: _File,
    target: str,
    annotations: Annotations | None,
    lang: str,
    strings: Mapping[str, str],
) -> ConceptPanel:
    sides = []
    hits = []
    for inp, f in ((inp_a, fa), (inp_b, fb)):
        status = _status(inp.analysis, concept)
        hit = _primary_hit(status)
        hits.append(hit)
        state = status.state if status is not None else "absent"
        tag = inp.source.tag
        sides.append(
            PanelSide(
                tag=tag,
                state=state,
                state_label=_state_label(strings, state),
                where=_where(strings, hit, target),
                lines=f.code(hit.start_line, hit.end_line) if hit is not None else (),
                href=f"{tag_filename(tag)}#L{hit.start_line}" if hit is not None else "",
                card=_card(annotations, concept, tag, lang),
            )
        )
    facts = _facts(
        strings,
        concept,
        (inp_a.source.tag, hits[0]),
        (inp_b.source.tag, hits[1]),
        (_anon_condition(inp_a.analysis), _anon_condition(inp_b.analysis)),
    )
    explanation = ""
    if annotations is not None:
        explanation = annotations.change(concept, inp_a.source.tag, inp_b.source.tag, lang) or ""
    meta = BY_ID.get(concept)
    return ConceptPanel(
        concept=concept,
        title=strings.get(f"concept_{concept}", meta.title if meta else concept),
        anchor=f"panel-{slug(concept)}",
        a=sides[0],
        b=sides[1],
        facts=facts,
        explanation=explanation,
    )


def _diff_blocks(fa: _File, fb: _File) -> tuple[tuple[DiffBlockView, ...], int, int, int]:
    a_lines = [fa.lines[n].text for n in range(fa.span.start_line, fa.span.end_line + 1)]
    b_lines = [fb.lines[n].text for n in range(fb.span.start_line, fb.span.end_line + 1)]
    sbs = side_by_side(a_lines, fa.span.start_line, b_lines, fb.span.start_line)
    blocks = []
    for block in sbs.blocks():
        rows = []
        for row in block.rows:
            left = right = Markup("")
            if row.left is not None:
                ln = fa.lines[row.left.line]
                left = render_line(
                    ln.text, ln.spans, row.left.changed if row.kind == "change" else ()
                )
            if row.right is not None:
                ln = fb.lines[row.right.line]
                right = render_line(
                    ln.text, ln.spans, row.right.changed if row.kind == "change" else ()
                )
            rows.append(
                DiffRowView(
                    kind=row.kind,
                    left_number=row.left.line if row.left else None,
                    left_html=left,
                    right_number=row.right.line if row.right else None,
                    right_html=right,
                )
            )
        blocks.append(
            DiffBlockView(
                kind=block.kind, rows=tuple(rows), collapse=block.kind == "equal" and len(rows) > 8
            )
        )
    return tuple(blocks), sbs.added, sbs.removed, sbs.changed


def _concepts_known(inputs: Sequence[TagInput]) -> tuple[str, ...]:
    known: set[str] = set()
    for inp in inputs:
        if inp.analysis is not None:
            known.update(s.concept for s in inp.analysis.concepts)
    return tuple(c for c in CONCEPT_IDS if c in known) + tuple(sorted(known - set(CONCEPT_IDS)))


@dataclass(frozen=True)
class _Notes:
    """Why parts of the pages are missing, shared by every tag page."""

    rules: str
    model: str
    has_model: bool
    extra: bool = False  # the page exists only because the history links to it


def _tag_page(
    inp: TagInput, f: _File, function: str, strings: Mapping[str, str], notes: _Notes
) -> tuple[TagPage, set[int]]:
    """One tag's page, and the line numbers it shows (trace steps may link to those)."""
    tag = inp.source.tag
    line_concepts = inp.analysis.line_concepts() if inp.analysis is not None else {}
    traced = _traced_lines(inp)
    lines = f.code(f.span.start_line, f.span.end_line, line_concepts, traced, strings)
    shown = set(range(f.span.start_line, f.span.end_line + 1))
    # Concepts found in sibling functions: each function's excerpt covers its hits' branches.
    elsewhere: dict[str, tuple[int, int]] = {}
    if inp.analysis is not None:
        for status in inp.analysis.concepts:
            for hit in status.hits:
                if hit.function != function:
                    lo, hi = elsewhere.get(hit.function, (hit.start_line, hit.end_line))
                    elsewhere[hit.function] = (min(lo, hit.start_line), max(hi, hit.end_line))
    other = []
    for name, (lo, hi) in sorted(elsewhere.items(), key=lambda kv: kv[1]):
        if lo >= f.span.start_line and hi <= f.span.end_line:
            continue
        other.append((name, f.code(lo, hi, line_concepts, traced, strings)))
        shown.update(range(lo, hi + 1))
    traces = tuple(_trace_view(inp, o, f, shown, False) for o in inp.outcomes)
    tag_note = (
        "" if inp.outcomes or not notes.has_model else _fmt(strings, "model_not_for_tag", tag=tag)
    )
    page = TagPage(
        filename=tag_filename(tag),
        title=_fmt(strings, "tag_title", function=function, tag=tag),
        tag=tag,
        entry=_timeline(inp, f),
        lines=lines,
        elsewhere=tuple(other),
        traces=traces,
        concept_note=notes.rules,
        model_note=notes.model or tag_note,
        history_note=_fmt(strings, "history_extra_page", tag=tag) if notes.extra else "",
        safety_note=_safety_note(inp.source.data, sorted(shown), strings),
    )
    return page, shown


def _warnings(function: str, path: str, inputs: Sequence[TagInput]) -> tuple[str, ...]:
    """What ``kvdiff report`` tells stderr about the pages: which definition it shows of a
    function defined several times, and where bidi controls hide in the shown code."""
    out = []
    for inp in inputs:
        tag, span = inp.source.tag, inp.function_span()
        if span.definitions > 1:
            out.append(
                f"{function} is defined {span.definitions} times in {path} at {tag} (e.g. "
                f"#ifdef/#else arms); the site shows the first in file order, lines "
                f"{span.start_line}-{span.end_line} (kvdiff show prints them all)"
            )
        lines = bidi_lines(inp.source.data, span.start_line, span.end_line)
        warning = bidi_warning(f"{function} in {path} at {tag}", lines)
        if warning:
            out.append(warning)
    return tuple(out)


def _safety_note(data: bytes, shown: list[int], strings: Mapping[str, str]) -> str:
    lines = bidi_lines(data, shown[0], shown[-1]) if shown else []
    lines = [n for n in lines if n in set(shown)]
    if not lines:
        return ""
    return _fmt(strings, "bidi_warning", lines=", ".join(map(str, lines)))


def _history_page(
    history: History, function: str, path: str, strings: Mapping[str, str]
) -> HistoryPage:
    rows = []
    for v in history.versions:
        changes = tuple(
            HistoryChangeView(
                concept=c.concept,
                title=strings.get(f"concept_{c.concept}", c.concept),
                change=c.change,
                label=strings.get(f"history_change_{c.change.replace('-', '_')}", c.change),
                before=c.before,
                after=c.after,
                elsewhere=""
                if c.functions in ((), (function,))
                else _fmt(
                    strings,
                    "history_in_functions",
                    functions=", ".join(f"{name}()" for name in c.functions),
                ),
            )
            for c in v.concept_changes
        )
        present = v.state == "present"
        rows.append(
            HistoryRow(
                index=v.index,
                state=v.state,
                state_label=strings.get(f"history_state_{v.state.replace('-', '_')}", v.state),
                first_tag=v.first_tag,
                last_tag=v.last_tag,
                tag_count=v.tag_count,
                count_label=strings["history_tag_one"]
                if v.tag_count == 1
                else _fmt(strings, "history_tag_count", count=v.tag_count),
                tags=v.tags,
                start_line=v.start_line,
                end_line=v.end_line,
                lines=v.lines,
                lines_added=v.lines_added,
                lines_removed=v.lines_removed,
                same_as=v.same_as,
                has_errors=v.has_errors,
                changes=changes,
                href=f"{tag_filename(v.first_tag)}#L{v.start_line}" if present else "",
            )
        )
    return HistoryPage(
        filename=HISTORY_FILENAME,
        title=_fmt(strings, "history_title", function=function, path=path),
        function=function,
        path=path,
        summary=_fmt(
            strings,
            "history_summary",
            tags=len(history.tags),
            versions=len(history.versions),
            distinct=history.distinct_contents,
        ),
        rules_note="" if history.rule_set else _fmt(strings, "history_no_rules", function=function),
        rows=tuple(rows),
    )


def build_site(
    function: str,
    path: str,
    inputs: Sequence[TagInput],
    pairs: Sequence[tuple[str, str]],
    strings: Mapping[str, str],
    lang: str,
    annotations: Annotations | None = None,
    rules_note: str = "",
    model_note: str = "",
    history: History | None = None,
    extra_inputs: Sequence[TagInput] = (),
) -> Site:
    """All pages of the site. ``pairs`` name tags of ``inputs``; ``rules_note`` / ``model_note``
    explain why concept / model panels are missing (empty when they are present).

    With ``history``, the site gains a timeline page of every distinct version; each version's
    first tag links to its tag page, and ``extra_inputs`` supply the pages of first tags that are
    not among ``inputs`` (they get a page but no place in the navigation or the matrices)."""
    by_tag = {inp.source.tag: inp for inp in inputs}
    files = {inp.source.tag: _File(inp.source, inp.function_span()) for inp in inputs}
    concepts = _concepts_known(inputs)
    has_model = any(inp.outcomes for inp in (*inputs, *extra_inputs))
    notes = _Notes(rules_note, model_note, has_model)
    history_page = _history_page(history, function, path, strings) if history else None

    outcome_of = {(inp.source.tag, o.scenario): o for inp in inputs for o in inp.outcomes}
    question = _question(inputs, annotations, lang, strings, outcome_of, function)
    nav = Nav(
        index=Link("index.html", strings["nav_index"]),
        question=Link("question.html", strings["nav_question"]) if question else None,
        tags=tuple(Link(tag_filename(t), t) for t in by_tag),
        pairs=tuple(Link(pair_filename(a, b), f"{a} → {b}") for a, b in pairs),
        history=Link(HISTORY_FILENAME, strings["nav_history"]) if history_page else None,
    )

    tag_pages = []
    timeline = []
    shown_lines: dict[str, set[int]] = {}
    for inp in inputs:
        page, shown = _tag_page(inp, files[inp.source.tag], function, strings, notes)
        tag_pages.append(page)
        timeline.append(page.entry)
        shown_lines[inp.source.tag] = shown
    # Versions the history links to that are not among the report's tags: pages, no nav entry.
    extra_notes = replace(notes, extra=True)
    for inp in extra_inputs:
        if inp.source.tag in by_tag:
            continue
        f = _File(inp.source, inp.function_span())
        tag_pages.append(_tag_page(inp, f, function, strings, extra_notes)[0])

    concept_rows = []
    for concept in concepts:
        cells = []
        for inp in inputs:
            status = _status(inp.analysis, concept)
            tag = inp.source.tag
            if status is None:
                cells.append(ConceptCell(tag, "unknown", strings["state_unknown"], ()))
                continue
            links = tuple(
                Link(
                    f"{tag_filename(tag)}#L{h.start_line}",
                    f"{h.start_line}–{h.end_line}"
                    + (f" ({h.function})" if h.function != function else ""),
                )
                for h in status.hits
            )
            cells.append(
                ConceptCell(
                    tag, status.state, _state_label(strings, status.state), links, status.note
                )
            )
        meta = BY_ID.get(concept)
        concept_rows.append(
            ConceptRow(
                concept=concept,
                title=strings.get(f"concept_{concept}", meta.title if meta else concept),
                summary=meta.summary if meta and lang == "en" else "",
                cells=tuple(cells),
            )
        )

    scenarios: list[str] = []
    for inp in inputs:
        for o in inp.outcomes:
            if o.scenario not in scenarios:
                scenarios.append(o.scenario)
    model_rows = []
    for scenario in scenarios:
        cells = []
        for inp in inputs:
            tag = inp.source.tag
            o = outcome_of.get((tag, scenario))
            if o is None:
                cells.append(ModelCell(tag, False, "", strings["model_not_covered"], "", ""))
                continue
            cells.append(
                ModelCell(
                    tag=tag,
                    applicable=o.applicable,
                    kind=o.decoded_after.kind if o.applicable else "",
                    text=o.decoded_after.text if o.applicable else o.reason,
                    ret=o.ret if o.applicable else "",
                    href=f"{tag_filename(tag)}#{trace_anchor(scenario)}",
                )
            )
        model_rows.append(ModelRow(scenario, tuple(cells)))

    pair_pages = []
    for a, b in pairs:
        inp_a, inp_b = by_tag[a], by_tag[b]
        fa, fb = files[a], files[b]
        blocks, added, removed, changed = _diff_blocks(fa, fb)
        panels: list[ConceptPanel] = []
        if concepts:
            for concept in PRIMARY_PANELS:
                if concept in concepts:
                    panels.append(
                        _panel(concept, inp_a, inp_b, fa, fb, function, annotations, lang, strings)
                    )
            for concept in concepts:
                if concept in PRIMARY_PANELS:
                    continue
                panel = _panel(concept, inp_a, inp_b, fa, fb, function, annotations, lang, strings)
                if panel.facts != (strings["fact_unchanged"],) and panel.facts != (
                    _fmt(strings, "fact_absent_both", a=a, b=b),
                ):
                    panels.append(panel)
        out_a = {o.scenario: o for o in inp_a.outcomes}
        out_b = {o.scenario: o for o in inp_b.outcomes}
        model_pair = []
        for scenario in scenarios:
            oa, ob = out_a.get(scenario), out_b.get(scenario)
            model_pair.append(
                ModelPairRow(
                    scenario=scenario,
                    anchor=f"model-{slug(scenario)}",
                    a=_trace_view(inp_a, oa, fa, shown_lines[a], True) if oa else None,
                    b=_trace_view(inp_b, ob, fb, shown_lines[b], True) if ob else None,
                )
            )
        pair_pages.append(
            PairPage(
                filename=pair_filename(a, b),
                title=_fmt(strings, "pair_title", function=function, a=a, b=b),
                a=a,
                b=b,
                a_href=tag_filename(a),
                b_href=tag_filename(b),
                blocks=blocks,
                added=added,
                removed=removed,
                changed=changed,
                panels=tuple(panels),
                concept_note=rules_note,
                model_note=model_note,
                model_rows=tuple(model_pair),
            )
        )

    index = IndexPage(
        filename="index.html",
        title=_fmt(strings, "index_title", function=function, path=path),
        function=function,
        path=path,
        timeline=tuple(timeline),
        concept_rows=tuple(concept_rows),
        concept_note=rules_note,
        model_rows=tuple(model_rows),
        model_note=model_note,
        question=question,
    )
    return Site(
        warnings=_warnings(function, path, [*inputs, *extra_inputs]),
        lang=lang,
        strings=strings,
        nav=nav,
        index=index,
        question=question,
        tags=tuple(tag_pages),
        pairs=tuple(pair_pages),
        history=history_page,
    )


def _question(
    inputs: Sequence[TagInput],
    annotations: Annotations | None,
    lang: str,
    strings: Mapping[str, str],
    outcome_of: Mapping[tuple[str, str], Outcome],
    function: str,
) -> QuestionPage | None:
    """The study group's question, answered with the authored text plus live facts."""
    if annotations is None:
        return None
    q = annotations.question(lang)
    if not q.title:
        return None
    migration_facts = []
    model_facts = []
    for inp in inputs:
        tag = inp.source.tag
        status = _status(inp.analysis, "migration")
        if status is not None:
            hit = _primary_hit(status)
            if hit is not None:
                text = _fmt(
                    strings,
                    "q_migration_yes",
                    tag=tag,
                    function=hit.function,
                    start=hit.start_line,
                    end=hit.end_line,
                    condition=hit.condition_normalized,
                )
                href = f"{tag_filename(tag)}#L{hit.start_line}"
            else:
                text = _fmt(
                    strings, "q_migration_no", tag=tag, state=_state_label(strings, status.state)
                )
                href = tag_filename(tag)
            migration_facts.append(QuestionFact(tag, text, href))
        o = outcome_of.get((tag, "compaction-anon"))
        if o is not None:
            if o.applicable:
                text = _fmt(
                    strings,
                    "q_model_cell",
                    tag=tag,
                    before=_hex(o.pte_before),
                    after=_hex(o.pte_after),
                    decoded=o.decoded_after.text,
                    ret=o.ret,
                )
            else:
                text = _fmt(strings, "q_model_na", tag=tag, reason=o.reason)
            model_facts.append(
                QuestionFact(tag, text, f"{tag_filename(tag)}#{trace_anchor('compaction-anon')}")
            )
    return QuestionPage(
        filename="question.html",
        title=q.title,
        paragraphs=tuple(q.paragraphs),
        migration_facts=tuple(migration_facts),
        model_facts=tuple(model_facts),
    )
