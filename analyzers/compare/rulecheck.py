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


def _spans(hits: tuple[ConceptHit, ...]) -> str:
    return ", ".join(
        f"{h.function} {h.start_line}-{h.end_line} {h.condition_normalized or 'else'!r}"
        for h in hits
    )


def _parse_note(analysis: Analysis) -> str:
    if not analysis.errors:
        return ""
    spans = ", ".join(f"{e.start_line}-{e.end_line}" for e in analysis.errors)
    return f"; tree-sitter could not parse lines {spans} of {analysis.function}"


def _expected_words(e: Epoch, version: str) -> str:
    where = f" in {e.function}()" if e.state == "moved" else ""
    return f"{e.state}{where} {e.cite(version)}"


def _placement(status: ConceptStatus, e: Epoch, version: str) -> str:
    """Why a hit sits where the rules say it cannot, or ""."""
    for h in status.hits:
        bad = [c for c in e.outside if c in h.within]
        if bad:
            return (
                f"{h.start_line}-{h.end_line} {h.condition_normalized!r} sits inside the "
                f"{bad[0]} arm, but the rules place it outside {', '.join(e.outside)} "
                f"{e.cite(version)}"
            )
        missing = [c for c in e.inside if c not in h.within]
        if missing:
            return (
                f"{h.start_line}-{h.end_line} {h.condition_normalized!r} is not inside the "
                f"{missing[0]} arm, as the rules require {e.cite(version)}"
            )
    return ""


def check_status(tag: str, status: ConceptStatus, analysis: Analysis) -> Finding:
    """One concept at one tag against the rules' expectation."""
    cid, e, version = status.concept, status.expected, analysis.version
    if e is None:
        return Finding.of(tag, cid, VERSION_UNKNOWN, "no version to read the rules at")
    want = _expected_words(e, version)
    if status.state == "unexpected":
        message = f"found at {_spans(status.hits)}, but the rules say {want}"
        return Finding.of(tag, cid, "unexpected", message, (e.state,), ("present",))
    if status.state == "absent":
        note = f" ({status.note})" if status.note else ""
        message = f"not found{note}; the rules say {want}{_parse_note(analysis)}"
        return Finding.of(tag, cid, "concept-missing", message, (e.state,), ("absent",))
    if e.state == "moved" and status.state == "present":
        message = f"found in {analysis.function} at {_spans(status.hits)}; the rules say {want}"
        return Finding.of(tag, cid, MOVED, message, (e.function,), (analysis.function,))
    misplaced = _placement(status, e, version)
    if misplaced:
        return Finding.of(tag, cid, MISPLACED, misplaced)
    if status.state == "expected-absent":
        return Finding.of(tag, cid, OK, f"absent as expected ({e.cite(version)})")
    return Finding.of(tag, cid, OK, _spans(status.hits))


def check_rules(tag: str, analysis: Analysis) -> TagCheck:
    """All findings for one tag checked against the rules alone."""
    if not analysis.version:
        message = (
            f"{tag} is not shaped like a version and its tree has no readable Makefile "
            "version (VERSION/PATCHLEVEL/SUBLEVEL); the rules' ranges cannot be applied"
        )
        findings = tuple(
            Finding.of(tag, s.concept, VERSION_UNKNOWN, message) for s in analysis.concepts
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
