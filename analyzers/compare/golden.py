"""Golden concept maps and the comparison `kvdiff check` runs against them.

A golden file ``<expected>/<target>/<tag>.json`` records, for one tag, each concept's state and
hits (function, line span, verbatim condition). It is written by ``kvdiff check --update`` and then
reviewed by hand against the source. :func:`compare` tells apart the ways an analysis can drift
from it; line drift alone is reported but is not a failure.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kvdiff.analyzers.analyze.analysis import Analysis, FunctionMissing, analyze_source
from kvdiff.analyzers.analyze.ruleset import RuleSet
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.parse.branches import normalize
from kvdiff.analyzers.source.repo import SourceFile
from kvdiff.analyzers.versions import sort_tags

# Finding kinds. FAILING ones make `kvdiff check` exit 1.
OK = "ok"
LINE_DRIFT = "line-drift"
FAILING = (
    "function-missing",
    "parse-error",
    "concept-missing",
    "unexpected",
    "moved",
    "condition-changed",
    "hits-changed",
    "state-changed",
    "not-in-golden",
    "not-in-rules",
)

GOLDEN_VERSION = 1


def default_expected_dir() -> Path:
    """``fixtures/expected`` of the source checkout kvdiff runs from."""
    return Path(__file__).resolve().parents[2] / "fixtures" / "expected"


def golden_path(expected_dir: Path, target: str, tag: str) -> Path:
    return expected_dir / target / f"{tag}.json"


def golden_tags(expected_dir: Path, target: str) -> list[str]:
    """Tags that have a golden file for ``target``, in version order."""
    folder = expected_dir / target
    return sort_tags(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def golden_from_analysis(rules: RuleSet, analysis: Analysis) -> dict:
    concepts = {}
    for status in analysis.concepts:
        concepts[status.concept] = {
            "state": status.state,
            "note": status.note,
            "hits": [
                {
                    "function": h.function,
                    "start_line": h.start_line,
                    "end_line": h.end_line,
                    "condition": h.condition,
                }
                for h in status.hits
            ],
        }
    return {
        "golden_version": GOLDEN_VERSION,
        "target": rules.target,
        "tag": analysis.tag,
        "path": analysis.path,
        "function": analysis.function,
        "function_lines": [analysis.start_line, analysis.end_line],
        "blob_id": analysis.blob_id,
        "errors": [[e.start_line, e.end_line] for e in analysis.errors],
        "concepts": concepts,
    }


def dump_json(data: object) -> str:
    """Deterministic JSON: sorted keys, two-space indent, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_golden(expected_dir: Path, rules: RuleSet, analysis: Analysis) -> Path:
    path = golden_path(expected_dir, rules.target, analysis.tag)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_json(golden_from_analysis(rules, analysis)), encoding="utf-8")
    return path


def load_golden(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KvdiffError(
            f"no golden file {path}; run `kvdiff check --update --tags {path.stem}` and review it"
        ) from None
    except (OSError, ValueError) as exc:
        raise KvdiffError(
            f"golden file {path} is unreadable ({exc}); fix it or regenerate it with --update"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("concepts"), dict):
        raise KvdiffError(
            f"golden file {path} has no 'concepts' table; regenerate it with kvdiff check --update"
        )
    return data


@dataclass(frozen=True)
class Finding:
    tag: str
    concept: str
    kind: str  # OK, LINE_DRIFT or one of FAILING
    message: str

    @property
    def failed(self) -> bool:
        return self.kind in FAILING

    def to_json(self) -> dict:
        return {
            "tag": self.tag,
            "concept": self.concept,
            "kind": self.kind,
            "failed": self.failed,
            "message": self.message,
        }


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

    def to_json(self) -> dict:
        return {
            "target": self.target,
            "failed": self.failed,
            "tags": [
                {
                    "tag": t.tag,
                    "function_lines": list(t.function_lines) if t.function_lines else None,
                    "errors": [list(e) for e in t.errors],
                    "findings": [f.to_json() for f in t.findings],
                }
                for t in self.tags
            ],
        }

    def text(self) -> str:
        lines = []
        for t in self.tags:
            if t.function_lines:
                where = f"lines {t.function_lines[0]}-{t.function_lines[1]}"
            else:
                reasons = {f.message for f in t.findings if f.kind == "function-missing"}
                where = "missing: " + "; ".join(sorted(reasons))
            lines.append(f"{t.tag}: {self.target} {where}")
            for start, end in t.errors:
                lines.append(f"  parse error at lines {start}-{end} (skipped)")
            for f in t.findings:
                mark = "FAIL" if f.failed else ("drift" if f.kind == LINE_DRIFT else "ok")
                if f.kind == OK:
                    detail = ""
                elif f.kind == "function-missing":
                    detail = f" {f.kind}"  # the reason is on the tag's line
                else:
                    detail = f" {f.kind}: {f.message}"
                lines.append(f"  {mark:<5} {f.concept:<18}{detail}".rstrip())
        drift = sum(1 for f in self.findings if f.kind == LINE_DRIFT)
        lines.append(
            f"kvdiff check {self.target}: {len(self.tags)} tag(s), {len(self.findings)} checks, "
            f"{len(self.failures)} failure(s), {drift} line drift(s)"
        )
        return "\n".join(lines) + "\n"

    def junit(self) -> str:
        """JUnit XML: one testcase per (tag, concept), classname = tag, name = concept."""
        suite = ET.Element(
            "testsuite",
            {
                "name": f"kvdiff check {self.target}",
                "tests": str(len(self.findings)),
                "failures": str(len(self.failures)),
                "errors": "0",
                "skipped": "0",
            },
        )
        for f in self.findings:
            case = ET.SubElement(suite, "testcase", {"classname": f.tag, "name": f.concept})
            if f.failed:
                failure = ET.SubElement(case, "failure", {"type": f.kind, "message": f.message})
                failure.text = f"{f.tag} {f.concept}: {f.kind}: {f.message}"
            elif f.kind == LINE_DRIFT:
                ET.SubElement(case, "system-out").text = f.message
        root = ET.Element("testsuites")
        root.append(suite)
        ET.indent(root)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


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
            "moved",
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
            return finding("moved", f"was in {e.get('function')}, now in {a['function']}")
        if normalize(e.get("condition", "")) != normalize(a["condition"]):
            return finding(
                "condition-changed",
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


Reader = Callable[[str, str], SourceFile]


def run_check(
    read: Reader,
    rules: RuleSet,
    tags: Iterable[str],
    expected_dir: Path,
    on_analysis: Callable[[Analysis], None] | None = None,
) -> CheckResult:
    """Re-analyse ``rules.path`` at each tag (read through ``read(tag, path)``) and compare;
    ``on_analysis`` sees each analysis (the CLI warns about functions defined twice)."""
    results = []
    for tag in tags:
        golden = load_golden(golden_path(expected_dir, rules.target, tag))
        source = read(tag, golden.get("path") or rules.path)
        try:
            analysis: Analysis | None = analyze_source(source, rules)
            missing = ""
            if on_analysis is not None:
                on_analysis(analysis)
        except FunctionMissing as exc:
            analysis, missing = None, exc.message
        results.append(compare(tag, golden, analysis, missing))
    return CheckResult(rules.target, tuple(results))


def update(read: Reader, rules: RuleSet, tags: Iterable[str], expected_dir: Path) -> list[Path]:
    """Write (overwrite) the golden file of each tag from a fresh analysis."""
    written = []
    for tag in tags:
        analysis = analyze_source(read(tag, rules.path), rules)
        written.append(write_golden(expected_dir, rules, analysis))
    return written
