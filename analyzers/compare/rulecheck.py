"""``kvdiff check`` without a golden file: a fresh analysis against the rules' own history.

Each concept's ``[[history]]`` (:mod:`kvdiff.analyzers.analyze.expectations`) says whether it is
present, absent or moved at the tree's version, and where its arms may sit. :func:`check_rules`
turns every disagreement into a failing :class:`~.check.Finding` that says what the rules
expected, citing the change, and what the tree holds; where they agree, the finding is OK and
carries the hits' line spans, reported but not judged (no golden file pins them).
"""

from __future__ import annotations

from kvdiff.analyzers.analyze.analysis import Analysis, ConceptHit, ConceptStatus
from kvdiff.analyzers.analyze.expectations import Epoch
from kvdiff.analyzers.compare.changes import MOVED
from kvdiff.analyzers.compare.check import MISPLACED, OK, VERSION_UNKNOWN, Finding, TagCheck


def _hits(hits: tuple[ConceptHit, ...]) -> tuple[tuple[str, int, int, str], ...]:
    """(function, first line, last line, normalized condition) of each hit."""
    return tuple((h.function, h.start_line, h.end_line, h.condition_normalized) for h in hits)


def _expected(e: Epoch, version: str) -> dict:
    """The expectation as facts: the history entry in force and the version it was read at."""
    return {"expectation": e, "version": version}


def _placement(status: ConceptStatus, e: Epoch) -> dict | None:
    """Facts of the first hit sitting where the rules say it cannot, or None."""
    for h in status.hits:
        bad = [c for c in e.outside if c in h.within]
        missing = [c for c in e.inside if c not in h.within]
        if bad or missing:
            return {
                "hit": _hits((h,))[0],
                "inside_of": bad[0] if bad else "",
                "outside_of": missing[0] if missing else "",
                "rule_outside": e.outside,
            }
    return None


def check_status(tag: str, status: ConceptStatus, analysis: Analysis) -> Finding:
    """One concept at one tag against the rules' expectation."""
    cid, e, version = status.concept, status.expected, analysis.version
    if e is None:
        return Finding.of(tag, cid, VERSION_UNKNOWN, "version-unknown")
    want = _expected(e, version)
    errors = tuple(f"{x.start_line}-{x.end_line}" for x in analysis.errors)
    if status.state == "unexpected":
        return Finding.of(
            tag,
            cid,
            "unexpected",
            "history-unexpected",
            (e.state,),
            ("present",),
            hits=_hits(status.hits),
            **want,
        )
    if status.state == "absent":
        return Finding.of(
            tag,
            cid,
            "concept-missing",
            "history-missing",
            (e.state,),
            ("absent",),
            note=status.note,
            errors=errors,
            function=analysis.function,
            **want,
        )
    if e.state == "moved" and status.state == "present":
        return Finding.of(
            tag,
            cid,
            MOVED,
            "history-not-moved",
            (e.function,),
            (analysis.function,),
            hits=_hits(status.hits),
            **want,
        )
    misplaced = _placement(status, e)
    if misplaced is not None:
        return Finding.of(tag, cid, MISPLACED, "history-misplaced", **misplaced, **want)
    if status.state == "expected-absent":
        return Finding.of(tag, cid, OK, "history-absent", **want)
    return Finding.of(tag, cid, OK, "history-found", hits=_hits(status.hits))


def check_rules(tag: str, analysis: Analysis) -> TagCheck:
    """All findings for one tag checked against the rules alone."""
    if not analysis.version:
        findings = tuple(
            Finding.of(tag, s.concept, VERSION_UNKNOWN, "tree-version-unknown")
            for s in analysis.concepts
        )
    else:
        findings = tuple(check_status(tag, s, analysis) for s in analysis.concepts)
    return TagCheck(
        tag,
        (analysis.start_line, analysis.end_line),
        tuple((e.start_line, e.end_line) for e in analysis.errors),
        findings,
        version=analysis.version,
        version_from=analysis.version_from,
        checked_against="rules",
    )
