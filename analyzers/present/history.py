"""``kvdiff history`` output: the timeline as plain text and as deterministic JSON."""

from __future__ import annotations

from typing import Any

from kvdiff.analyzers.compare.changes import Change
from kvdiff.analyzers.compare.timeline import NO_FUNCTION, PRESENT, FunctionVersion, History
from kvdiff.analyzers.present.schema import json_text


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
