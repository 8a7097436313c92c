"""``kvdiff check``'s comparison: how a fresh analysis of one tag differs from its golden file.

:func:`compare` tells apart the ways an analysis can drift from the golden file, as
:class:`Finding` values whose kinds come from the shared vocabulary (:mod:`.changes`) where they
mean the same thing; line drift alone is reported but is not a failure. A finding carries facts
(a ``reason`` and named values), not sentences: the words, and the text, JSON and JUnit forms of
a :class:`CheckResult`, are in :mod:`kvdiff.analyzers.present.check`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kvdiff.analyzers.compare.changes import CONDITION_CHANGED, LINE_DRIFT, MOVED, Change

if TYPE_CHECKING:  # a cached check reads findings back without the analysis stack
    from kvdiff.analyzers.analyze.analysis import Analysis

# Finding kinds. FAILING ones make `kvdiff check` exit 1.
OK = "ok"
MISPLACED = "misplaced"  # a hit inside an arm the rules' history keeps it out of (or vice versa)
VERSION_UNKNOWN = "version-unknown"  # no version to read the rules' ranges at
FAILING = (
    MISPLACED,
    VERSION_UNKNOWN,
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
    """One (tag, concept) check: the difference found, as a :class:`~.changes.Change` (OK when
    none), why (``reason``, e.g. ``"golden-missing"``) and the facts it is worded from
    (:func:`kvdiff.analyzers.present.check.finding_message`)."""

    tag: str
    change: Change
    reason: str = ""
    facts: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(
        cls,
        tag: str,
        concept: str,
        kind: str,
        reason: str = "",
        before: tuple[str, ...] = (),
        after: tuple[str, ...] = (),
        **facts: Any,
    ) -> Finding:
        return cls(tag, Change(concept, kind, before, after), reason, tuple(sorted(facts.items())))

    def fact(self, name: str, default: Any = "") -> Any:
        return dict(self.facts).get(name, default)

    @property
    def concept(self) -> str:
        return self.change.concept

    @property
    def kind(self) -> str:  # OK, LINE_DRIFT or one of FAILING
        return self.change.kind

    @property
    def failed(self) -> bool:
        return self.kind in FAILING


@dataclass(frozen=True)
class TagCheck:
    tag: str
    function_lines: tuple[int, int] | None  # None when the function is missing
    errors: tuple[tuple[int, int], ...]  # parse-error line spans inside the function
    findings: tuple[Finding, ...]
    version: str = ""  # the version the rules were read at ("" when unknown)
    version_from: str = ""  # "tag" or "Makefile"
    checked_against: str = "golden"  # "golden" (a golden file) or "rules" (the rules' history)


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


def _error_spans(analysis: Analysis) -> tuple[str, ...]:
    return tuple(f"{e.start_line}-{e.end_line}" for e in analysis.errors)


def _overlaps_error(analysis: Analysis, hits: list[dict]) -> bool:
    for e in analysis.errors:
        for h in hits:
            if e.start_line <= h.get("end_line", 0) and h.get("start_line", 0) <= e.end_line:
                return True
    return False


class _Case:
    """One concept at one tag: the golden entry against the fresh analysis."""

    def __init__(self, tag: str, concept: str, expected: dict, analysis: Analysis) -> None:
        self.tag, self.concept, self.analysis = tag, concept, analysis
        self.status = analysis.concept(concept)
        self.exp_state: str = expected.get("state", "")
        self.exp_hits: list[dict] = expected.get("hits", [])
        self.act = [
            {
                "function": h.function,
                "start_line": h.start_line,
                "end_line": h.end_line,
                "condition": h.condition,
            }
            for h in self.status.hits
        ]

    def finding(
        self,
        kind: str,
        reason: str = "",
        before: tuple[str, ...] = (),
        after: tuple[str, ...] = (),
        **facts: Any,
    ) -> Finding:
        return Finding.of(self.tag, self.concept, kind, reason, before, after, **facts)

    def presence(self) -> Finding | None:
        """Found on one side only."""
        from kvdiff.analyzers.parse.branches import normalize

        exp_hits, act, status, analysis = self.exp_hits, self.act, self.status, self.analysis
        if exp_hits and not act:
            if analysis.errors and (
                _overlaps_error(analysis, exp_hits) or status.state == "absent"
            ):
                return self.finding(
                    "parse-error",
                    "parse-error",
                    span=_span(exp_hits[0]),
                    condition=exp_hits[0]["condition"],
                    errors=_error_spans(analysis),
                    function=analysis.function,
                )
            return self.finding(
                "concept-missing",
                "golden-missing",
                expected=self.exp_state,
                span=_span(exp_hits[0]),
                condition=normalize(exp_hits[0]["condition"]),
                state=status.state,
                note=status.note,
            )
        if act and not exp_hits:
            return self.finding(
                "unexpected",
                "golden-unexpected",
                expected=self.exp_state or "absent",
                condition=status.hits[0].condition_normalized,
                span=_span(act[0]),
                function=act[0]["function"],
            )
        return None

    def state(self) -> Finding | None:
        """The rules contradict the source, or the state differs from the golden one."""
        status, exp_state, act = self.status, self.exp_state, self.act
        # These two states mean the rules and the source disagree, so a golden file that
        # recorded them (an unreviewed --update) must not make them pass: fix the rules instead.
        if status.state == "absent":
            return self.finding("concept-missing", "rules-missing", note=status.note)
        if status.state == "unexpected":
            return self.finding(
                "unexpected",
                "rules-unexpected",
                condition=status.hits[0].condition_normalized,
                span=_span(act[0]),
                function=act[0]["function"],
            )
        if exp_state != status.state and "moved" in (exp_state, status.state):
            where = act[0]["function"] if act else "?"
            was = self.exp_hits[0]["function"]
            return self.finding(
                MOVED,
                "state-moved",
                (was,),
                (where,),
                expected=exp_state,
                state=status.state,
                was=was,
                now=where,
            )
        if exp_state != status.state:
            return self.finding("state-changed", "state-changed", (exp_state,), (status.state,))
        return None

    def placement(self) -> Finding:
        """Same state: compare the hits one by one (function, condition, lines)."""
        from kvdiff.analyzers.parse.branches import normalize

        exp_hits, act = self.exp_hits, self.act
        errors = _error_spans(self.analysis)
        if len(exp_hits) != len(act):
            return self.finding(
                "hits-changed",
                "hits-changed",
                expected_spans=tuple(_span(h) for h in exp_hits),
                spans=tuple(_span(h) for h in act),
                errors=errors,
            )
        drift: list[tuple[str, str]] = []
        for e, a in zip(exp_hits, act, strict=True):
            if e.get("function") != a["function"]:
                was, now = str(e.get("function")), a["function"]
                return self.finding(MOVED, "function-moved", (was,), (now,), was=was, now=now)
            want, got = normalize(e.get("condition", "")), normalize(a["condition"])
            if want != got:
                return self.finding(
                    CONDITION_CHANGED,
                    "condition-changed",
                    (want,),
                    (got,),
                    span=_span(a),
                    errors=errors,
                )
            if (e.get("start_line"), e.get("end_line")) != (a["start_line"], a["end_line"]):
                drift.append((_span(e), _span(a)))
            elif e.get("condition") != a["condition"]:
                drift.append(("", _span(a)))  # the same lines, the condition's spacing changed
        if drift:
            spans = tuple(_span(h) for h in exp_hits), tuple(_span(h) for h in act)
            return self.finding(LINE_DRIFT, "line-drift", *spans, drift=tuple(drift))
        return self.finding(OK)


def compare_concept(tag: str, concept: str, expected: dict, analysis: Analysis) -> Finding:
    """How ``analysis``'s view of ``concept`` differs from the golden ``expected`` entry."""
    case = _Case(tag, concept, expected, analysis)
    return case.presence() or case.state() or case.placement()


def compare(tag: str, golden: dict, analysis: Analysis | None, missing: str = "") -> TagCheck:
    """All findings for one tag. ``analysis`` is None when the function is missing (``missing``
    then holds why)."""
    expected: dict = golden["concepts"]
    if analysis is None:
        findings = tuple(
            Finding.of(tag, c, "function-missing", "function-missing", why=missing)
            for c in expected
        )
        return TagCheck(tag, None, (), findings)
    known = [s.concept for s in analysis.concepts]
    findings = []
    for concept in known:
        if concept not in expected:
            findings.append(Finding.of(tag, concept, "not-in-golden", "not-in-golden"))
        else:
            findings.append(compare_concept(tag, concept, expected[concept], analysis))
    for concept in expected:
        if concept not in known:
            findings.append(Finding.of(tag, concept, "not-in-rules", "not-in-rules"))
    return TagCheck(
        tag,
        (analysis.start_line, analysis.end_line),
        tuple((e.start_line, e.end_line) for e in analysis.errors),
        tuple(findings),
        version=analysis.version,
        version_from=analysis.version_from,
    )
