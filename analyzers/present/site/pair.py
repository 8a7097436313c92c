"""Pair pages: two tags side by side, concept panels with computed facts, the model at both."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from kvdiff.analyzers.compare import changes as ch
from kvdiff.analyzers.compare.facts import (
    anon_condition,
    concept_status,
    pair_changes,
    primary_hit,
    worth_a_panel,
)
from kvdiff.analyzers.concepts import BY_ID
from kvdiff.analyzers.present.site.code import SourceView, diff_blocks
from kvdiff.analyzers.present.site.inputs import TagInput
from kvdiff.analyzers.present.site.strings import (
    fmt,
    pair_filename,
    slug,
    state_label,
    tag_filename,
)
from kvdiff.analyzers.present.site.traces import trace_view
from kvdiff.analyzers.present.site.views import ConceptPanel, ModelPairRow, PairPage, PanelSide
from kvdiff.analyzers.present.site.xref import Resolver, resolver

if TYPE_CHECKING:
    from kvdiff.analyzers.analyze.analysis import ConceptHit
    from kvdiff.analyzers.present.annotations import Annotations

# Concept panels every pair page shows first, whatever changed: the study group's two branches.
PRIMARY_PANELS = ("anon", "migration")

# Change kind -> UI string key of its fact line.
_FACT_KEYS = {
    ch.ABSENT_BOTH: "fact_absent_both",
    ch.APPEARED: "fact_appeared",
    ch.VANISHED: "fact_vanished",
    ch.CONDITION_CHANGED: "fact_condition_changed",
    ch.FUNCTION_CHANGED: "fact_function_changed",
    ch.MOVED_OUT_OF_ANON: "fact_moved_out_of_anon",
    ch.MOVED_INTO_ANON: "fact_moved_into_anon",
    ch.PATH_CHANGED: "fact_path_changed",
    ch.CALLS_ADDED: "fact_calls_added",
    ch.CALLS_REMOVED: "fact_calls_removed",
    ch.UNCHANGED: "fact_unchanged",
}


def fact_text(change: ch.Change, a: str, b: str, strings: Mapping[str, str]) -> str:
    """One change between tags ``a`` and ``b`` as the panel's fact line."""
    key = _FACT_KEYS[change.kind]
    if change.kind in (ch.ABSENT_BOTH, ch.APPEARED, ch.VANISHED):
        return fmt(strings, key, a=a, b=b)
    if change.kind == ch.CONDITION_CHANGED:
        return fmt(strings, key, old=change.before[0] or "else", new=change.after[0] or "else")
    if change.kind == ch.FUNCTION_CHANGED:
        return fmt(strings, key, old=change.before[0], new=change.after[0])
    if change.kind == ch.PATH_CHANGED:
        top = strings["panel_top_level"]
        return fmt(
            strings, key, old=" › ".join(change.before) or top, new=" › ".join(change.after) or top
        )
    if change.kind == ch.CALLS_ADDED:
        return fmt(strings, key, items=", ".join(change.after))
    if change.kind == ch.CALLS_REMOVED:
        return fmt(strings, key, items=", ".join(change.before))
    return strings[key]


def _where(strings: Mapping[str, str], hit: ConceptHit | None, target: str) -> str:
    if hit is None:
        return strings["panel_nowhere"]
    path = " › ".join(hit.branch_path) if hit.branch_path else strings["panel_top_level"]
    key = "panel_where_moved" if hit.function != target else "panel_where"
    return fmt(
        strings, key, function=hit.function, path=path, start=hit.start_line, end=hit.end_line
    )


class PairContext:
    """What every panel of the site needs besides its two tags."""

    def __init__(
        self,
        function: str,
        annotations: Annotations | None,
        lang: str,
        strings: Mapping[str, str],
    ) -> None:
        self.function = function
        self.annotations = annotations
        self.lang = lang
        self.strings = strings

    def side(
        self, concept: str, inp: TagInput, f: SourceView
    ) -> tuple[PanelSide, ConceptHit | None]:
        status = concept_status(inp.analysis, concept)
        hit = primary_hit(status)
        state = status.state if status is not None else "absent"
        tag = inp.source.tag
        card = None
        if self.annotations is not None:
            card = self.annotations.card(concept, tag, self.lang)
        side = PanelSide(
            tag=tag,
            state=state,
            state_label=state_label(self.strings, state),
            where=_where(self.strings, hit, self.function),
            lines=f.code(hit.start_line, hit.end_line) if hit is not None else (),
            href=f"{tag_filename(tag)}#L{hit.start_line}" if hit is not None else "",
            card=card,
        )
        return side, hit

    def panel(
        self, concept: str, a: tuple[TagInput, SourceView], b: tuple[TagInput, SourceView]
    ) -> tuple[ConceptPanel, bool]:
        """The concept's panel, and whether anything about it differs (see worth_a_panel)."""
        side_a, hit_a = self.side(concept, *a)
        side_b, hit_b = self.side(concept, *b)
        tag_a, tag_b = a[0].source.tag, b[0].source.tag
        anon = (anon_condition(a[0].analysis), anon_condition(b[0].analysis))
        changes = pair_changes(concept, hit_a, hit_b, anon)
        explanation = ""
        if self.annotations is not None:
            explanation = self.annotations.change(concept, tag_a, tag_b, self.lang) or ""
        meta = BY_ID.get(concept)
        panel = ConceptPanel(
            concept=concept,
            title=self.strings.get(f"concept_{concept}", meta.title if meta else concept),
            anchor=f"panel-{slug(concept)}",
            a=side_a,
            b=side_b,
            facts=tuple(fact_text(c, tag_a, tag_b, self.strings) for c in changes),
            explanation=explanation,
        )
        return panel, worth_a_panel(changes)

    def panels(
        self,
        concepts: Sequence[str],
        a: tuple[TagInput, SourceView],
        b: tuple[TagInput, SourceView],
    ) -> tuple[ConceptPanel, ...]:
        """The primary concepts' panels, then those of the other concepts that changed."""
        out = [self.panel(c, a, b)[0] for c in PRIMARY_PANELS if c in concepts]
        for concept in concepts:
            if concept not in PRIMARY_PANELS:
                panel, changed = self.panel(concept, a, b)
                if changed:
                    out.append(panel)
        return tuple(out)


def _side_links(f: SourceView, prefix: str, shown: set[int]) -> Resolver:
    """Cross-links of one side of the diff: to its own rows (``#A12``), else its tag page."""
    tag = f.source.tag
    here = {n: f"#{prefix}{n}" for n in range(f.span.start_line, f.span.end_line + 1)}
    return resolver(
        tag, f.source.path, here, {n: f"{tag_filename(tag)}#L{n}" for n in sorted(shown)}
    )


def pair_page(
    ctx: PairContext,
    a: tuple[TagInput, SourceView, set[int]],
    b: tuple[TagInput, SourceView, set[int]],
    concepts: Sequence[str],
    scenarios: Sequence[str],
    notes: tuple[str, str],
) -> PairPage:
    """One diff page; each side is (input, view, the lines its tag page shows)."""
    (inp_a, fa, shown_a), (inp_b, fb, shown_b) = a, b
    tag_a, tag_b = inp_a.source.tag, inp_b.source.tag
    blocks, added, removed, changed = diff_blocks(
        fa, fb, (_side_links(fa, "A", shown_a), _side_links(fb, "B", shown_b))
    )
    out_a = {o.scenario: o for o in inp_a.outcomes}
    out_b = {o.scenario: o for o in inp_b.outcomes}
    model_rows = tuple(
        ModelPairRow(
            scenario=s,
            anchor=f"model-{slug(s)}",
            a=trace_view(inp_a, out_a[s], fa, shown_a, True) if s in out_a else None,
            b=trace_view(inp_b, out_b[s], fb, shown_b, True) if s in out_b else None,
        )
        for s in scenarios
    )
    rules_note, model_note = notes
    return PairPage(
        filename=pair_filename(tag_a, tag_b),
        title=fmt(ctx.strings, "pair_title", function=ctx.function, a=tag_a, b=tag_b),
        a=tag_a,
        b=tag_b,
        a_href=tag_filename(tag_a),
        b_href=tag_filename(tag_b),
        blocks=blocks,
        added=added,
        removed=removed,
        changed=changed,
        panels=ctx.panels(concepts, (inp_a, fa), (inp_b, fb)) if concepts else (),
        concept_note=rules_note,
        model_note=model_note,
        model_rows=model_rows,
    )
