"""`kvdiff diff A B [FUNCTION]`: the function at two tags, concept by concept, then whole.

Reads both tags' file, finds the function (its first definition), and, when a rule set describes
it, the branch of every concept found at either tag; each of those and the whole function are
diffed line by line (``compare.linediff``). Plain data out; ``present.diff_view`` words it.
"""

from __future__ import annotations

from kvdiff.analyzers.compare.funcdiff import FunctionDiff, Section, Side
from kvdiff.analyzers.compare.linediff import SideBySide, side_by_side
from kvdiff.analyzers.concepts import BY_ID, CONCEPT_IDS
from kvdiff.analyzers.source.repo import SourceFile, Sources

PRIMARY = ("anon", "migration")


def _lines(source: SourceFile, start: int, end: int) -> list[str]:
    raw = source.data.split(b"\n")[start - 1 : end]
    return [line.decode("utf-8", errors="replace").rstrip("\r") for line in raw]


def _diff(a: Side | None, b: Side | None) -> SideBySide:
    left = _lines(a.source, a.start_line, a.end_line) if a else []
    right = _lines(b.source, b.start_line, b.end_line) if b else []
    return side_by_side(left, a.start_line if a else 1, right, b.start_line if b else 1)


def _span(source: SourceFile, function: str) -> Side:
    from kvdiff.analyzers.parse.cparse import parse_c
    from kvdiff.analyzers.parse.extract import require_function

    where = f"{source.path} at {source.tag}"
    fn = require_function(parse_c(source.data), function, where)[0]
    return Side(source, fn.start_line, fn.end_line)


def build_diff(sources: Sources, a: str, b: str, function: str, path: str | None) -> FunctionDiff:
    """Diff ``function`` between tags ``a`` and ``b`` (``path``: its rule set's file by default)."""
    from kvdiff.analyzers.analyze.analysis import analyze_source
    from kvdiff.analyzers.analyze.ruleset import rules_for
    from kvdiff.analyzers.compare.facts import concept_status, primary_hit

    rules = rules_for(function, path)
    path = path or (rules.path if rules is not None else "mm/rmap.c")
    src_a, src_b = sources.read(a, path), sources.read(b, path)
    side_a, side_b = _span(src_a, function), _span(src_b, function)
    sections: list[Section] = []
    if rules is not None:
        an_a = analyze_source(src_a, rules, function)
        an_b = analyze_source(src_b, rules, function)
        known = {s.concept for s in (*an_a.concepts, *an_b.concepts)}
        # The study group's two branches first (as on the site), then the registry's order.
        order = [c for c in PRIMARY if c in known]
        order += [c for c in CONCEPT_IDS if c in known and c not in order]
        order += sorted(known - set(CONCEPT_IDS))
        for concept in order:
            hit_a = primary_hit(concept_status(an_a, concept))
            hit_b = primary_hit(concept_status(an_b, concept))
            if hit_a is None and hit_b is None:
                continue
            sa = Side(src_a, hit_a.start_line, hit_a.end_line) if hit_a else None
            sb = Side(src_b, hit_b.start_line, hit_b.end_line) if hit_b else None
            meta = BY_ID.get(concept)
            sections.append(
                Section(
                    concept=concept,
                    title=meta.title if meta else concept,
                    a=sa,
                    b=sb,
                    function_a=hit_a.function if hit_a else "",
                    function_b=hit_b.function if hit_b else "",
                    diff=_diff(sa, sb),
                )
            )
    return FunctionDiff(
        function=function,
        path=path,
        a=side_a,
        b=side_b,
        sections=tuple(sections),
        whole=_diff(side_a, side_b),
        rule_set=rules is not None,
    )
