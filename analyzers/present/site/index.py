"""The index page: the tags on a timeline, the concept × tag and scenario × tag matrices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from kvdiff.analyzers.compare.facts import concept_status
from kvdiff.analyzers.concepts import BY_ID, CONCEPT_IDS
from kvdiff.analyzers.present.site.inputs import TagInput
from kvdiff.analyzers.present.site.strings import state_label, tag_filename, trace_anchor
from kvdiff.analyzers.present.site.views import ConceptCell, ConceptRow, Link, ModelCell, ModelRow

if TYPE_CHECKING:
    from kvdiff.analyzers.model import Outcome


def concepts_known(inputs: Sequence[TagInput]) -> tuple[str, ...]:
    """Concepts any tag's analysis knows: registry order, then unknown ids sorted."""
    known: set[str] = set()
    for inp in inputs:
        if inp.analysis is not None:
            known.update(s.concept for s in inp.analysis.concepts)
    return tuple(c for c in CONCEPT_IDS if c in known) + tuple(sorted(known - set(CONCEPT_IDS)))


def scenarios_run(inputs: Sequence[TagInput]) -> tuple[str, ...]:
    """Every scenario some tag was modelled on, first-seen order."""
    return tuple(dict.fromkeys(o.scenario for inp in inputs for o in inp.outcomes))


def _concept_cell(
    inp: TagInput, concept: str, function: str, strings: Mapping[str, str]
) -> ConceptCell:
    tag = inp.source.tag
    status = concept_status(inp.analysis, concept)
    if status is None:
        return ConceptCell(tag, "unknown", strings["state_unknown"], ())
    links = tuple(
        Link(
            f"{tag_filename(tag)}#L{h.start_line}",
            f"{h.start_line}–{h.end_line}" + (f" ({h.function})" if h.function != function else ""),
        )
        for h in status.hits
    )
    return ConceptCell(tag, status.state, state_label(strings, status.state), links, status.note)


def concept_rows(
    inputs: Sequence[TagInput],
    concepts: Sequence[str],
    function: str,
    strings: Mapping[str, str],
    lang: str,
) -> tuple[ConceptRow, ...]:
    rows = []
    for concept in concepts:
        meta = BY_ID.get(concept)
        rows.append(
            ConceptRow(
                concept=concept,
                title=strings.get(f"concept_{concept}", meta.title if meta else concept),
                summary=meta.summary if meta and lang == "en" else "",
                cells=tuple(_concept_cell(inp, concept, function, strings) for inp in inputs),
            )
        )
    return tuple(rows)


def _model_cell(
    tag: str, o: Outcome | None, scenario: str, strings: Mapping[str, str]
) -> ModelCell:
    if o is None:
        return ModelCell(tag, False, "", strings["model_not_covered"], "", "")
    if o.undetermined:  # the derived model met something its helper table does not know
        return ModelCell(tag, True, "undetermined", o.undetermined, "", "")
    return ModelCell(
        tag=tag,
        applicable=o.applicable,
        kind=o.decoded_after.kind if o.applicable else "",
        text=o.decoded_after.text if o.applicable else o.reason,
        ret=o.ret if o.applicable else "",
        href=f"{tag_filename(tag)}#{trace_anchor(scenario)}",
    )


def model_rows(
    inputs: Sequence[TagInput],
    scenarios: Sequence[str],
    outcome_of: Mapping[tuple[str, str], Outcome],
    strings: Mapping[str, str],
) -> tuple[ModelRow, ...]:
    return tuple(
        ModelRow(
            scenario,
            tuple(
                _model_cell(
                    inp.source.tag, outcome_of.get((inp.source.tag, scenario)), scenario, strings
                )
                for inp in inputs
            ),
        )
        for scenario in scenarios
    )
