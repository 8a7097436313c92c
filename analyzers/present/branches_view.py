"""What ``kvdiff branches`` prints: an :class:`~analyzers.analysis.Analysis` as text or JSON."""

from __future__ import annotations

from collections.abc import Mapping

from kvdiff.analyzers.analyze.analysis import Analysis
from kvdiff.analyzers.analyze.ruleset import RuleSet
from kvdiff.analyzers.parse.branches import BranchTree, Effects
from kvdiff.analyzers.present.textsafety import terminal_safe


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
    data["definitions"] = [list(span) for span in analysis.definitions]
    data["definition"] = analysis.definition
    data["version"] = analysis.version or None
    data["version_from"] = analysis.version_from or None
    return data


def branches_text(analysis: Analysis, rules: RuleSet) -> str:
    """A header line, the labelled branch tree, then each concept not found in the target."""
    version = ""
    if analysis.version_from != "tag":  # a version tag is its own version: nothing to add
        known = f"{analysis.version} from {analysis.version_from}" if analysis.version else ""
        version = f" (version {known or 'unknown: no version in the tag or Makefile'})"
    lines = [
        f"{analysis.function}() in {analysis.path} at {analysis.tag} ({analysis.origin}, "
        f"blob {analysis.blob_id[:12]}), lines {analysis.start_line}-{analysis.end_line}"
        f"{version}\n",
        terminal_safe(tree_text(analysis.tree, analysis.branch_concepts())),
    ]
    if rules.concepts:
        for status in analysis.concepts:
            if any(not h.moved for h in status.hits):
                continue
            where = f" in {status.hits[0].function}()" if status.hits else ""
            note = f": {status.note}" if status.note else ""
            lines.append(f"  {status.concept}: {status.state}{where}{note}\n")
    return "".join(lines)


def definitions_warning(analysis: Analysis, chooser: str = "") -> str | None:
    """When the function is defined several times (``#ifdef``/``#else`` arms): which definition
    this output is about and why, or None for a single definition. ``chooser`` names the option
    that picks another one (``--definition N``), if the command has it."""
    if len(analysis.definitions) < 2:
        return None
    spans = ", ".join(f"{a}-{b}" for a, b in analysis.definitions)
    lo, hi = analysis.definitions[analysis.definition - 1]
    n = analysis.definition
    first = ", the first in file order" if n == 1 else ""
    pick = f"; pick another with {chooser}" if chooser else " (kvdiff show prints them all)"
    return (
        f"{analysis.function} is defined {len(analysis.definitions)} times in {analysis.path} at "
        f"{analysis.tag} (lines {spans}, e.g. #ifdef/#else arms); this uses definition {n} "
        f"(lines {lo}-{hi}{first}){pick}"
    )


def _effects_summary(e: Effects) -> str:
    parts = [f"{a.target} = {a.value}" for a in e.ret_assignments]
    parts += [f"pte: {c.name}" for c in e.pte_writes]
    parts += [f"entry: {c.name}" for c in e.entries]
    parts += [f"{x.kind} {x.target}".rstrip() for x in e.exits]
    return "; ".join(parts)


def tree_text(
    tree: BranchTree, labels: Mapping[tuple[int, int, str], tuple[str, ...]] | None = None
) -> str:
    """The tree as indented text with real line spans; ``labels`` maps a branch's
    (start_line, end_line, condition_normalized) to the concept ids it carries. A branch that
    needs more of the configuration than its parent says so (``{needs CONFIG_X}``), except a
    ``preproc`` arm, whose directive already does."""
    labels = labels or {}
    out = []
    for e in tree.errors:
        out.append(f"parse {e.kind} at lines {e.start_line}-{e.end_line} (skipped)")
    if tree.resolved:
        out.append(
            f"#if arms split statements: parsed once per configuration of "
            f"{', '.join(tree.resolved)} ({tree.parses} parses, merged)"
        )
    parents: dict[int, tuple[str, ...]] = {}
    for b in tree.walk():
        for child in b.children:
            parents[id(child)] = b.config
        span = f"{b.start_line}-{b.end_line}"
        if b.kind == "function":
            head = f"{span:>11}  {tree.function}()"
        else:
            head = f"{span:>11}  {'  ' * (len(b.path) - 1)}{b.label}"
        concepts = labels.get((b.start_line, b.end_line, b.condition_normalized), ())
        if concepts and b.kind != "function":
            head += f"  [{', '.join(concepts)}]"
        if b.config != parents.get(id(b), ()) and b.kind != "preproc":
            head += f"  {{needs {' && '.join(b.config)}}}"
        summary = _effects_summary(b.effects)
        if summary:
            head += f"  -> {summary}"
        out.append(head)
    return "\n".join(out) + "\n"
