"""Plain-text and JSON views of model outcomes, paired with the analyzer's source lines.

This is a presenter: it joins two finished stages (a model :class:`Outcome` and an
:class:`Analysis` of the source at the same tag) and neither stage knows about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kvdiff.analyzers.model.names import SCENARIO_NAMES
from kvdiff.analyzers.present.schema import json_text
from kvdiff.analyzers.present.textsafety import terminal_safe

if TYPE_CHECKING:  # the matrix from cached outcomes needs neither the analysis nor the models
    from kvdiff.analyzers.analyze.analysis import Analysis
    from kvdiff.analyzers.model.outcome import Outcome


@dataclass(frozen=True)
class WriteLine:
    """A line inside a taken branch that writes the PTE or builds the entry written."""

    line: int
    text: str


@dataclass(frozen=True)
class SourceLine:
    """One branch the model took, as the analyzer finds it in the source at that tag."""

    concept: str
    start_line: int
    end_line: int
    text: str  # the branch's first line
    writes: tuple[WriteLine, ...] = ()

    def to_json(self) -> dict:
        return {
            "concept": self.concept,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "text": self.text,
            "writes": [{"line": w.line, "text": w.text} for w in self.writes],
        }


def taken_source_lines(outcome: Outcome, analysis: Analysis, data: bytes) -> tuple[SourceLine, ...]:
    """The branches the run took, as the analyzer finds them in the source read at the tag.

    A step is matched by line and normalized condition; a step the source does not have at that
    line (another blob than the corpus's) is reported with an empty range and a note. Taken guards
    that the rules do not label with the step's concept are left out. For each
    branch, the lines that belong directly to it and write the PTE or construct an entry are
    listed, so a reader sees which lines produced the new PTE value.
    """
    lines = data.decode("utf-8", errors="replace").splitlines()

    def text_at(n: int) -> str:
        return lines[n - 1].strip() if 0 < n <= len(lines) else ""

    branches = {(b.start_line, b.condition_normalized): b for b in analysis.tree.walk()}
    # Guards the model also traces (e.g. `!(flags & TTU_IGNORE_MLOCK)`, entered on every reclaim)
    # are not the concept's branch; only branches the rules label with that concept are shown.
    labelled = {
        (start, cond, concept)
        for (start, _end, cond), concepts in analysis.branch_concepts().items()
        for concept in concepts
    }
    out: list[SourceLine] = []
    for step in outcome.trace:
        if not step.taken:
            continue
        b = branches.get((step.line, step.condition))
        if b is None:
            out.append(SourceLine(step.concept, 0, 0, f"(not at line {step.line} in this source)"))
            continue
        if (b.start_line, b.condition_normalized, step.concept) not in labelled:
            continue
        write_lines = sorted({c.line for c in (*b.effects.entries, *b.effects.pte_writes)})
        writes = tuple(WriteLine(n, text_at(n)) for n in write_lines)
        out.append(
            SourceLine(step.concept, b.start_line, b.end_line, text_at(b.start_line), writes)
        )
    return tuple(out)


def outcome_text(outcome: Outcome, source: tuple[SourceLine, ...] | None = None) -> str:
    o = outcome
    head = f"{o.scenario} at {o.tag}"
    if not o.applicable:
        return f"{head}: not applicable\n  {o.reason}\n"
    out = [head]
    if o.undetermined:
        out.append(f"  UNDETERMINED: {o.undetermined}")
    out.append(f"  flags:   {' | '.join(o.flags) if o.flags else '(none)'}  [{o.flags_source}]")
    options = " ".join(f"{k}={'y' if on else 'n'}" for k, on in o.config.kconfig().items())
    out.append(f"  config:  {options}")
    out.append(f"  before:  {o.pte_before:#018x}  {o.decoded_before.text}")
    after = "after:  " if not o.undetermined else "stopped:"
    out.append(f"  {after} {o.pte_after:#018x}  {o.decoded_after.text}")
    out.append(f"  returns: {o.ret if not o.undetermined else '(undetermined)'}")
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
            text = terminal_safe(sl.text)
            out.append(f"    {sl.concept:<16} {sl.start_line}-{sl.end_line}  {text}")
            for w in sl.writes:
                out.append(f"    {'':<16} {w.line:<9}  {terminal_safe(w.text)}")
    if o.next_fault:
        out.append(f"  next fault: {o.next_fault}")
    return "\n".join(out) + "\n"


def matrix_text(outcomes: tuple[Outcome, ...]) -> str:
    cells = {(o.scenario, o.tag): o.cell for o in outcomes}
    names = list(SCENARIO_NAMES)
    tags = list(dict.fromkeys(o.tag for o in outcomes))
    width0 = max(len(n) for n in names)
    widths = {t: max(len(t), *(len(cells[(n, t)]) for n in names)) for t in tags}
    rows = [" | ".join([" " * width0, *(t.ljust(widths[t]) for t in tags)]).rstrip()]
    for n in names:
        row = [n.ljust(width0), *(cells[(n, t)].ljust(widths[t]) for t in tags)]
        rows.append(" | ".join(row).rstrip())
    return "\n".join(rows) + "\n"


def to_json_text(payload: dict) -> str:
    """One outcome (``kvdiff model --json``), with ``schema_version``."""
    return json_text(payload, ensure_ascii=False)


def matrix_json_text(outcomes: list[dict]) -> str:
    """``kvdiff model --matrix --json``: ``{schema_version, outcomes: [...]}``."""
    return json_text({"outcomes": outcomes}, ensure_ascii=False)
