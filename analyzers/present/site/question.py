"""The question page: the study group's question, answered with authored text and live facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from kvdiff.analyzers.compare.facts import concept_status, primary_hit
from kvdiff.analyzers.present.site.inputs import TagInput
from kvdiff.analyzers.present.site.strings import (
    fmt,
    hex64,
    state_label,
    tag_filename,
    trace_anchor,
)
from kvdiff.analyzers.present.site.views import QuestionFact, QuestionPage

if TYPE_CHECKING:
    from kvdiff.analyzers.model import Outcome
    from kvdiff.analyzers.present.annotations import Annotations

# The scenario the question is about: an anon page that compaction migrates.
QUESTION_SCENARIO = "compaction-anon"


def _migration_fact(inp: TagInput, strings: Mapping[str, str]) -> QuestionFact | None:
    """Where the migration branch is at this tag, or which state it is in."""
    tag = inp.source.tag
    status = concept_status(inp.analysis, "migration")
    if status is None:
        return None
    hit = primary_hit(status)
    if hit is None:
        text = fmt(strings, "q_migration_no", tag=tag, state=state_label(strings, status.state))
        return QuestionFact(tag, text, tag_filename(tag))
    text = fmt(
        strings,
        "q_migration_yes",
        tag=tag,
        function=hit.function,
        start=hit.start_line,
        end=hit.end_line,
        condition=hit.condition_normalized,
    )
    return QuestionFact(tag, text, f"{tag_filename(tag)}#L{hit.start_line}")


def _model_fact(tag: str, o: Outcome, strings: Mapping[str, str]) -> QuestionFact:
    """What the model says the question's scenario leaves in the PTE at this tag."""
    if o.applicable:
        text = fmt(
            strings,
            "q_model_cell",
            tag=tag,
            before=hex64(o.pte_before),
            after=hex64(o.pte_after),
            decoded=o.decoded_after.text,
            ret=o.ret,
        )
    else:
        text = fmt(strings, "q_model_na", tag=tag, reason=o.reason)
    return QuestionFact(tag, text, f"{tag_filename(tag)}#{trace_anchor(QUESTION_SCENARIO)}")


def question_page(
    inputs: Sequence[TagInput],
    annotations: Annotations | None,
    lang: str,
    strings: Mapping[str, str],
    outcome_of: Mapping[tuple[str, str], Outcome],
) -> QuestionPage | None:
    """The question page, or None when no annotation file asks a question."""
    if annotations is None:
        return None
    q = annotations.question(lang)
    if not q.title:
        return None
    migration_facts = []
    model_facts = []
    for inp in inputs:
        fact = _migration_fact(inp, strings)
        if fact is not None:
            migration_facts.append(fact)
        o = outcome_of.get((inp.source.tag, QUESTION_SCENARIO))
        if o is not None:
            model_facts.append(_model_fact(inp.source.tag, o, strings))
    return QuestionPage(
        filename="question.html",
        title=q.title,
        paragraphs=tuple(q.paragraphs),
        migration_facts=tuple(migration_facts),
        model_facts=tuple(model_facts),
    )
