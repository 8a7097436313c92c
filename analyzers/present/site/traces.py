"""The model's traces as views: which lines a scenario goes through, and excerpts of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kvdiff.analyzers.present.pte_view import pte_fields
from kvdiff.analyzers.present.site.code import SourceView
from kvdiff.analyzers.present.site.inputs import TagInput
from kvdiff.analyzers.present.site.strings import hex64, tag_filename, trace_anchor
from kvdiff.analyzers.present.site.views import CodeLine, StepView, TraceView
from markupsafe import Markup

if TYPE_CHECKING:
    from kvdiff.analyzers.model import Outcome

# Lines of context kept around each traced line in the pair page's model panel.
TRACE_CONTEXT = 1


def traced_lines(inp: TagInput) -> dict[int, tuple[str, ...]]:
    """Real line -> the scenarios whose trace goes through it, in the tag's own file."""
    traced: dict[int, list[str]] = {}
    for outcome in inp.outcomes:
        for step in outcome.trace:
            if step.file == inp.source.path and outcome.scenario not in traced.get(step.line, []):
                traced.setdefault(step.line, []).append(outcome.scenario)
    return {k: tuple(v) for k, v in traced.items()}


def trace_view(
    inp: TagInput, outcome: Outcome, f: SourceView, shown: set[int], with_excerpt: bool
) -> TraceView:
    """One scenario at one tag; steps link to the tag page's lines in ``shown``. Built once per
    (scenario, ``shown``, excerpt or not): a tag's traces are on every pair page with it."""
    key = (outcome.scenario, id(shown), with_excerpt)
    done = f.traces.get(key)
    if isinstance(done, TraceView):
        return done
    view = _trace_view(inp, outcome, f, shown, with_excerpt)
    f.traces[key] = view
    return view


def _trace_view(
    inp: TagInput, outcome: Outcome, f: SourceView, shown: set[int], with_excerpt: bool
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
    return TraceView(
        tag=tag,
        scenario=outcome.scenario,
        anchor=trace_anchor(outcome.scenario),
        applicable=outcome.applicable,
        reason=outcome.reason,
        pte_before=hex64(outcome.pte_before),
        pte_after=hex64(outcome.pte_after),
        decoded_before=outcome.decoded_before.text,
        # Undetermined: the reason (a model sentence, translated as one) instead of a decoded PTE.
        decoded_after=outcome.undetermined or outcome.decoded_after.text,
        kind_after="undetermined" if outcome.undetermined else outcome.decoded_after.kind,
        ret=outcome.ret,
        side_effects=tuple(outcome.side_effects),
        next_fault=outcome.next_fault,
        steps=steps,
        excerpt=excerpt(f, steps, inp.source.path) if with_excerpt else (),
        href=f"{tag_filename(tag)}#{trace_anchor(outcome.scenario)}",
        bits_before=pte_fields(tag, outcome.pte_before, outcome.decoded_before.kind),
        bits_after=pte_fields(tag, outcome.pte_after, outcome.decoded_after.kind),
    )


def excerpt(f: SourceView, steps: tuple[StepView, ...], path: str) -> tuple[CodeLine, ...]:
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
        out.append(CodeLine(number=n, html=f.html(n), mark=marks.get(n, "")))
        prev = n
    return tuple(out)
