"""Concept facts: how one concept's branch differs between two analysed tags (pair pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kvdiff.analyzers.compare.changes import (
    ABSENT_BOTH,
    APPEARED,
    CALLS_ADDED,
    CALLS_REMOVED,
    CONDITION_CHANGED,
    FUNCTION_CHANGED,
    MOVED_INTO_ANON,
    MOVED_OUT_OF_ANON,
    PATH_CHANGED,
    UNCHANGED,
    VANISHED,
    Change,
)

if TYPE_CHECKING:
    from kvdiff.analyzers.analyze.analysis import Analysis, ConceptHit, ConceptStatus


def concept_status(analysis: Analysis | None, concept: str) -> ConceptStatus | None:
    """``concept``'s status in ``analysis``; None without an analysis or that concept."""
    if analysis is None:
        return None
    for status in analysis.concepts:
        if status.concept == concept:
            return status
    return None


def primary_hit(status: ConceptStatus | None) -> ConceptHit | None:
    """The hit that stands for the concept: the first in the target function, else the first."""
    if status is None or not status.hits:
        return None
    for hit in status.hits:
        if not hit.moved:
            return hit
    return status.hits[0]


def anon_condition(analysis: Analysis | None) -> str:
    """The normalised condition of the anon branch ("" when there is none)."""
    hit = primary_hit(concept_status(analysis, "anon"))
    return hit.condition_normalized if hit is not None else ""


def _inside(hit: ConceptHit, anon: str) -> bool:
    """Is the hit nested under the PageAnon branch (its path mentions that condition)?"""
    cond = " ".join(anon.split())
    return any(cond and cond in " ".join(step.split()) for step in hit.branch_path)


def pair_changes(
    concept: str,
    hit_a: ConceptHit | None,
    hit_b: ConceptHit | None,
    anon_conditions: tuple[str, str],
) -> tuple[Change, ...]:
    """What changed for one concept between two tags, from each tag's primary hit."""
    if hit_a is None and hit_b is None:
        return (Change(concept, ABSENT_BOTH),)
    if hit_a is None:
        return (Change(concept, APPEARED),)
    if hit_b is None:
        return (Change(concept, VANISHED),)
    out: list[Change] = []
    if hit_a.condition_normalized != hit_b.condition_normalized:
        cond = (hit_a.condition_normalized,), (hit_b.condition_normalized,)
        out.append(Change(concept, CONDITION_CHANGED, *cond))
    if hit_a.function != hit_b.function:
        out.append(Change(concept, FUNCTION_CHANGED, (hit_a.function,), (hit_b.function,)))
    if hit_a.branch_path != hit_b.branch_path:
        anon_a, anon_b = anon_conditions
        in_a = concept != "anon" and bool(anon_a) and _inside(hit_a, anon_a)
        in_b = concept != "anon" and bool(anon_b) and _inside(hit_b, anon_b)
        if in_a and not in_b:
            out.append(Change(concept, MOVED_OUT_OF_ANON))
        elif in_b and not in_a:
            out.append(Change(concept, MOVED_INTO_ANON))
        out.append(Change(concept, PATH_CHANGED, hit_a.branch_path, hit_b.branch_path))
    calls_a, calls_b = set(hit_a.calls), set(hit_b.calls)
    if calls_b - calls_a:
        out.append(Change(concept, CALLS_ADDED, after=tuple(sorted(calls_b - calls_a))))
    if calls_a - calls_b:
        out.append(Change(concept, CALLS_REMOVED, before=tuple(sorted(calls_a - calls_b))))
    if not out:
        out.append(Change(concept, UNCHANGED))
    return tuple(out)


def worth_a_panel(changes: tuple[Change, ...]) -> bool:
    """Whether a (non-primary) concept's panel is worth showing: something differs and it
    exists on at least one side."""
    return [c.kind for c in changes] not in ([UNCHANGED], [ABSENT_BOTH])
