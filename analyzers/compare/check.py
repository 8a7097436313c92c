"""``kvdiff check``'s comparison: how a fresh analysis of one tag differs from its golden file.

:func:`compare` tells apart the ways an analysis can drift from the golden file, as
:class:`Finding` values whose kinds come from the shared vocabulary (:mod:`.changes`) where they
mean the same thing; line drift alone is reported but is not a failure. The text, JSON and JUnit
forms of a :class:`CheckResult` are in :mod:`kvdiff.analyzers.present.check`.
"""

from __future__ import annotations

from dataclasses import dataclass

from kvdiff.analyzers.analyze.analysis import Analysis
from kvdiff.analyzers.compare.changes import CONDITION_CHANGED, LINE_DRIFT, MOVED
from kvdiff.analyzers.parse.branches import normalize

# Finding kinds. FAILING ones make `kvdiff check` exit 1.
OK = "ok"
FAILING = (
    "function-missing",
    "parse-error",
    "concept-missing",
    "unexpected",
    MOVED,
    CONDITION_CHANGED,
    "hits-changed",
    "state-changed",
    "not-in-golden",
    "not-in-rules",
)


@dataclass(frozen=True)
class Finding:
    tag: str
    concept: str
    kind: str  # OK, LINE_DRIFT or one of FAILING
    message: str

    @property
    def failed(self) -> bool:
        return self.kind in FAILING


@dataclass(frozen=True)
class TagCheck:
    tag: str
    function_lines: tuple[int, int] | None  # None when the function is missing
    errors: tuple[tuple[int, int], ...]  # parse-error line spans inside the function
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class CheckResult:
    target: str
    tags: tuple[TagCheck, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for t in self.tags for f in t.findings)

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.failed)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


def _span(h: dict) -> str:
    return f"{h.get('start_line')}-{h.get('end_line')}"


def _errors_note(analysis: Analysis) -> str:
    if not analysis.errors:
        return ""
    spans = ", ".join(f"{e.start_line}-{e.end_line}" for e in analysis.errors)
    return f" (the function has parse errors at lines {spans})"


def _overlaps_error(analysis: Analysis, hits: list[dict]) -> bool:
    for e in analysis.errors:
        for h in hits:
            if e.start_line <= h.get("end_line", 0) and h.get("start_line", 0) <= e.end_line:
                return True
    return False


def compare_concept(tag: str, concept: str, expected: dict, analysis: Analysis) -> Finding:
    """How ``analysis``'s view of ``concept`` differs from the golden ``expected`` entry."""
    status = analysis.concept(concept)
    exp_state = expected.get("state", "")
    exp_hits: list[dict] = expected.get("hits", [])
    act = [
        {
            "function": h.function,
            "start_line": h.start_line,
            "end_line": h.end_line,
            "condition": h.condition,
        }
        for h in status.hits
    ]

    def finding(kind: str, message: str) -> Finding:
        return Finding(tag, concept, kind, message)

    if exp_hits and not act:
        if analysis.errors and (_overlaps_error(analysis, exp_hits) or status.state == "absent"):
            spans = ", ".join(f"{e.start_line}-{e.end_line}" for e in analysis.errors)
            return finding(
                "parse-error",
                f"expected at {_span(exp_hits[0])} ({exp_hits[0]['condition']!r}) but not found; "
                f"tree-sitter could not parse lines {spans} of {analysis.function}",
            )
        return finding(
            "concept-missing",
            f"expected {exp_state} at {_span(exp_hits[0])} "
            f"({normalize(exp_hits[0]['condition'])!r}), now {status.state}"
            f"{': ' + status.note if status.note else ''}",
        )
    if act and not exp_hits:
        return finding(
            "unexpected",
            f"present where expected {exp_state or 'absent'}: "
            f"{status.hits[0].condition_normalized!r} at {_span(act[0])} in {act[0]['function']}",
        )
    # These two states mean the rules and the source disagree, so a golden file that recorded
    # them (an unreviewed --update) must not make them pass: fix the rules instead.
    if status.state == "absent":
        return finding(
            "concept-missing",
            "absent, and the rules do not declare it expected_absent at this tag"
            f"{': ' + status.note if status.note else ''}; fix the rule or declare the absence",
        )
    if status.state == "unexpected":
        return finding(
            "unexpected",
            f"present where the rules declare it absent: {status.hits[0].condition_normalized!r} "
            f"at {_span(act[0])} in {act[0]['function']}; fix the rule or its expected_absent",
        )
    if exp_state != status.state and "moved" in (exp_state, status.state):
        where = act[0]["function"] if act else "?"
        return finding(
            MOVED,
            f"was {exp_state} in {exp_hits[0]['function']}, now {status.state} in {where}",
        )
    if exp_state != status.state:
        return finding("state-changed", f"was {exp_state}, now {status.state}")
    if len(exp_hits) != len(act):
        return finding(
            "hits-changed",
            f"{len(exp_hits)} hit(s) expected ({', '.join(_span(h) for h in exp_hits)}), "
            f"found {len(act)} ({', '.join(_span(h) for h in act)}){_errors_note(analysis)}",
        )
    drift = []
    for e, a in zip(exp_hits, act, strict=True):
        if e.get("function") != a["function"]:
            return finding(MOVED, f"was in {e.get('function')}, now in {a['function']}")
        if normalize(e.get("condition", "")) != normalize(a["condition"]):
            return finding(
                CONDITION_CHANGED,
                f"condition at {_span(a)} is {normalize(a['condition'])!r}, "
                f"expected {normalize(e.get('condition', ''))!r}{_errors_note(analysis)}",
            )
        if (e.get("start_line"), e.get("end_line")) != (a["start_line"], a["end_line"]):
            drift.append(f"{_span(e)} -> {_span(a)}")
        elif e.get("condition") != a["condition"]:
            drift.append(f"condition whitespace changed at {_span(a)}")
    if drift:
        return finding(LINE_DRIFT, "; ".join(drift))
    return finding(OK, "")


def compare(tag: str, golden: dict, analysis: Analysis | None, missing: str = "") -> TagCheck:
    """All findings for one tag. ``analysis`` is None when the function is missing (``missing``
    then holds why)."""
    expected: dict = golden["concepts"]
    if analysis is None:
        findings = tuple(
            Finding(tag, c, "function-missing", missing or "function not found") for c in expected
        )
        return TagCheck(tag, None, (), findings)
    known = [s.concept for s in analysis.concepts]
    findings = []
    for concept in known:
        if concept not in expected:
            findings.append(
                Finding(
                    tag,
                    concept,
                    "not-in-golden",
                    "the rules know this concept but the golden file does not; "
                    "run kvdiff check --update and review the result",
                )
            )
        else:
            findings.append(compare_concept(tag, concept, expected[concept], analysis))
    for concept in expected:
        if concept not in known:
            findings.append(
                Finding(
                    tag,
                    concept,
                    "not-in-rules",
                    "the golden file has this concept but the rules do not",
                )
            )
    return TagCheck(
        tag,
        (analysis.start_line, analysis.end_line),
        tuple((e.start_line, e.end_line) for e in analysis.errors),
        tuple(findings),
    )
