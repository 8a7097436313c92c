"""Plain-text and JSON views of model outcomes, for the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass

from analyzers.analysis import Analysis

from .encoding import MODEL_TAGS
from .outcome import Outcome
from .scenarios import SCENARIOS


@dataclass(frozen=True)
class SourceLine:
    """One analyzer hit for a concept the model took, with its first source line."""

    concept: str
    start_line: int
    end_line: int
    text: str


def taken_source_lines(outcome: Outcome, analysis: Analysis, data: bytes) -> tuple[SourceLine, ...]:
    """The branches the run took, as the analyzer finds them in the source read at the tag.

    A step is matched by line and normalized condition; a step the source does not have at that
    line (another blob than the corpus's) is reported with an empty range and a note.
    """
    lines = data.decode("utf-8", errors="replace").splitlines()
    branches = {(b.start_line, b.condition_normalized): b for b in analysis.tree.walk()}
    out: list[SourceLine] = []
    for step in outcome.trace:
        if not step.taken:
            continue
        b = branches.get((step.line, step.condition))
        if b is None:
            out.append(SourceLine(step.concept, 0, 0, f"(not at line {step.line} in this source)"))
            continue
        text = lines[b.start_line - 1].strip() if 0 < b.start_line <= len(lines) else ""
        out.append(SourceLine(step.concept, b.start_line, b.end_line, text))
    return tuple(out)


def outcome_text(outcome: Outcome, source: tuple[SourceLine, ...] | None = None) -> str:
    o = outcome
    head = f"{o.scenario} at {o.tag}"
    if not o.applicable:
        return f"{head}: not applicable\n  {o.reason}\n"
    out = [head]
    out.append(f"  flags:   {' | '.join(o.flags) if o.flags else '(none)'}  [{o.flags_source}]")
    out.append(f"  before:  {o.pte_before:#018x}  {o.decoded_before.text}")
    out.append(f"  after:   {o.pte_after:#018x}  {o.decoded_after.text}")
    out.append(f"  returns: {o.ret}")
    out.append("  trace:")
    for s in o.trace:
        mark = "taken" if s.taken else "not taken"
        cond = s.condition or "else"
        out.append(f"    {s.concept:<16} {s.file}:{s.line:<5} {mark:<9}  {cond}")
    out.append("  side effects:")
    out.extend(f"    {e}" for e in o.side_effects)
    if source is not None:
        out.append("  source of the branches taken (analyzer, at this tag):")
        if not source:
            out.append("    (no analyzer hits for the concepts taken)")
        for sl in source:
            out.append(f"    {sl.concept:<16} {sl.start_line}-{sl.end_line}  {sl.text}")
    out.append(f"  next fault: {o.next_fault}")
    return "\n".join(out) + "\n"


def matrix_text(outcomes: tuple[Outcome, ...]) -> str:
    cells = {(o.scenario, o.tag): o.cell for o in outcomes}
    names = [s.name for s in SCENARIOS]
    width0 = max(len(n) for n in names)
    widths = {t: max(len(t), *(len(cells[(n, t)]) for n in names)) for t in MODEL_TAGS}
    rows = [" | ".join([" " * width0, *(t.ljust(widths[t]) for t in MODEL_TAGS)]).rstrip()]
    for n in names:
        row = [n.ljust(width0), *(cells[(n, t)].ljust(widths[t]) for t in MODEL_TAGS)]
        rows.append(" | ".join(row).rstrip())
    return "\n".join(rows) + "\n"


def to_json_text(payload: object) -> str:
    return json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
