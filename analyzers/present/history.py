"""``kvdiff history`` output: the timeline as plain text and as deterministic JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kvdiff.analyzers.compare.changes import Change
from kvdiff.analyzers.compare.timeline import NO_FUNCTION, PRESENT, FunctionVersion, History
from kvdiff.analyzers.present.schema import json_text

if TYPE_CHECKING:  # only --behaviour has them: the model is not imported for a plain history
    from kvdiff.analyzers.model.behaviour import ScenarioTimeline, Span


def change_json(c: Change) -> dict[str, Any]:
    return {
        "concept": c.concept,
        "change": c.kind,
        "before": list(c.before),
        "after": list(c.after),
        "functions": list(c.functions),
    }


def version_json(v: FunctionVersion) -> dict[str, Any]:
    return {
        "index": v.index,
        "state": v.state,
        "first_tag": v.first_tag,
        "last_tag": v.last_tag,
        "tags": list(v.tags),
        "tag_count": v.tag_count,
        "content_hash": v.content_hash,
        "blob_ids": list(v.blob_ids),
        "start_line": v.start_line,
        "end_line": v.end_line,
        "lines": v.lines,
        "lines_added": v.lines_added,
        "lines_removed": v.lines_removed,
        "has_errors": v.has_errors,
        "concepts": {c: s for c, s in v.concepts},
        "concept_changes": [change_json(c) for c in v.concept_changes],
        "same_as": v.same_as,
    }


def history_doc(history: History) -> dict[str, Any]:
    return {
        "function": history.function,
        "path": history.path,
        "rule_set": history.rule_set,
        "tag_count": len(history.tags),
        "distinct_contents": history.distinct_contents,
        "versions": [version_json(v) for v in history.versions],
    }


def history_json(history: History) -> str:
    """Deterministic JSON text (sorted keys, stable order, trailing newline)."""
    return json_text(history_doc(history))


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
            by_change.setdefault(change.kind, []).append(change.concept)
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


# -- the behavioural timeline (kvdiff history --behaviour) ------------------------------------
def _span_json(s: Span) -> dict[str, Any]:
    b = s.behaviour
    return {
        "first_tag": s.first_tag,
        "last_tag": s.last_tag,
        "tags": list(s.tags),
        "behaviour": b.key,
        "via": list(s.via),
        "function": b.function,
        "detail": b.detail,
    }


def behaviour_doc(timelines: Sequence[ScenarioTimeline]) -> list[dict[str, Any]]:
    """Per scenario: its spans and, for each change, the neighbouring tags on either side."""
    return [
        {
            "scenario": t.scenario,
            "spans": [_span_json(s) for s in t.spans],
            "changes": [
                {
                    "before_tag": a.last_tag,
                    "after_tag": b.first_tag,
                    "before": a.behaviour.key,
                    "after": b.behaviour.key,
                }
                for a, b in t.changes
            ],  # fmt: skip
        }
        for t in timelines
    ]


def history_with_behaviour_json(history: History, timelines: Sequence[ScenarioTimeline]) -> str:
    doc = history_doc(history)
    doc["behaviour"] = behaviour_doc(timelines)
    return json_text(doc)


def format_behaviour(timelines: Sequence[ScenarioTimeline]) -> list[str]:
    """Plain-text lines: per scenario, one line per span; a change is marked by its tags."""
    n_tags = max((sum(len(s.tags) for s in t.spans) for t in timelines), default=0)
    lines = [f"behaviour of the derived model, per scenario ({n_tags} tags):"]
    width = max((len(_tags_span(s)) for t in timelines for s in t.spans), default=0)
    for t in timelines:
        n = len(t.changes)
        lines.append(f"{t.scenario}: {n} change{'s' if n != 1 else ''}")
        previous = None
        for s in t.spans:
            b = s.behaviour
            func = f" [{b.function}]" if b.function else ""
            since = f"  (changed after {previous})" if previous else ""
            via = f" via {', '.join(s.via)}" if s.via else ""
            lines.append(f"  {_tags_span(s):<{width}}  {b.key}{via}{func}{since}")
            if b.key in ("undetermined", "model unavailable", "not applicable"):
                lines.append(f"  {'':<{width}}    {b.detail}")
            previous = s.last_tag
    return lines


def _tags_span(s: Span) -> str:
    return s.first_tag if s.first_tag == s.last_tag else f"{s.first_tag}..{s.last_tag}"
