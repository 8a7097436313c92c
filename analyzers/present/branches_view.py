"""What ``kvdiff branches`` prints: an :class:`~analyzers.analysis.Analysis` as text or JSON."""

from __future__ import annotations

from kvdiff.analyzers.analyze.analysis import Analysis
from kvdiff.analyzers.analyze.ruleset import RuleSet
from kvdiff.analyzers.parse.branches import render_text


def parse_warning(analysis: Analysis) -> str | None:
    """One line naming the lines tree-sitter could not parse, or None when the parse is clean."""
    if not analysis.errors:
        return None
    spans = ", ".join(f"{e.start_line}-{e.end_line}" for e in analysis.errors)
    return (
        f"tree-sitter could not parse lines {spans} of {analysis.function}; those lines are skipped"
    )


def branches_json(analysis: Analysis, rules: RuleSet) -> dict:
    """The analysis, where it came from, the rule set's name (None without one) and the tree."""
    data = analysis.to_json()
    data["origin"] = analysis.origin
    data["rules"] = rules.target if rules.concepts else None
    data["tree"] = analysis.tree.to_json()
    return data


def branches_text(analysis: Analysis, rules: RuleSet) -> str:
    """A header line, the labelled branch tree, then each concept not found in the target."""
    lines = [
        f"{analysis.function}() in {analysis.path} at {analysis.tag} ({analysis.origin}, "
        f"blob {analysis.blob_id[:12]}), lines {analysis.start_line}-{analysis.end_line}\n",
        render_text(analysis.tree, analysis.branch_concepts()),
    ]
    if rules.concepts:
        for status in analysis.concepts:
            if any(not h.moved for h in status.hits):
                continue
            where = f" in {status.hits[0].function}()" if status.hits else ""
            note = f": {status.note}" if status.note else ""
            lines.append(f"  {status.concept}: {status.state}{where}{note}\n")
    return "".join(lines)
