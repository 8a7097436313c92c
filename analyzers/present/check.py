"""``kvdiff check`` output: a :class:`CheckResult` as text, JSON and JUnit XML."""

from __future__ import annotations

from kvdiff.analyzers.compare.changes import LINE_DRIFT
from kvdiff.analyzers.compare.check import OK, CheckResult, Finding, TagCheck
from kvdiff.analyzers.present.check_words import finding_message
from kvdiff.analyzers.present.schema import json_text


def finding_json(f: Finding) -> dict:
    return {
        "tag": f.tag,
        "concept": f.concept,
        "kind": f.kind,
        "failed": f.failed,
        "message": finding_message(f),
    }


def check_doc(result: CheckResult) -> dict:
    return {
        "target": result.target,
        "failed": result.failed,
        "tags": [
            {
                "tag": t.tag,
                "version": t.version or None,
                "version_from": t.version_from or None,
                "checked_against": t.checked_against,
                "function_lines": list(t.function_lines) if t.function_lines else None,
                "errors": [list(e) for e in t.errors],
                "findings": [finding_json(f) for f in t.findings],
            }
            for t in result.tags
        ],
    }


def check_json(result: CheckResult) -> str:
    """The JSON document ``kvdiff check --json`` prints (sorted keys, two-space indent)."""
    return json_text(check_doc(result)).rstrip("\n")


def _tag_header(t: TagCheck, target: str) -> str:
    """``TAG: FUNCTION lines A-B``, and which version the rules were read at and against what,
    whenever that is not simply the tag against its golden file."""
    if t.function_lines:
        where = f"lines {t.function_lines[0]}-{t.function_lines[1]}"
    else:
        reasons = {finding_message(f) for f in t.findings if f.kind == "function-missing"}
        where = "missing: " + "; ".join(sorted(reasons))
    if t.version_from == "tag" and t.checked_against == "golden":
        return f"{t.tag}: {target} {where}"
    version = f"version {t.version} from {t.version_from}" if t.version else "version unknown"
    against = "the golden file" if t.checked_against == "golden" else "the rules' history"
    return f"{t.tag}: {target} {where} ({version}; checked against {against})"


def check_text(result: CheckResult) -> str:
    lines = []
    for t in result.tags:
        lines.append(_tag_header(t, result.target))
        for start, end in t.errors:
            lines.append(f"  parse error at lines {start}-{end} (skipped)")
        for f in t.findings:
            mark = "FAIL" if f.failed else ("drift" if f.kind == LINE_DRIFT else "ok")
            message = finding_message(f)
            if f.kind == OK:
                detail = f" {message}" if message else ""
            elif f.kind == "function-missing":
                detail = f" {f.kind}"  # the reason is on the tag's line
            else:
                detail = f" {f.kind}: {message}"
            lines.append(f"  {mark:<5} {f.concept:<18}{detail}".rstrip())
    drift = sum(1 for f in result.findings if f.kind == LINE_DRIFT)
    lines.append(
        f"kvdiff check {result.target}: {len(result.tags)} tag(s), {len(result.findings)} checks, "
        f"{len(result.failures)} failure(s), {drift} line drift(s)"
    )
    return "\n".join(lines) + "\n"


def check_junit(result: CheckResult) -> str:
    """JUnit XML: one testcase per (tag, concept), classname = tag, name = concept."""
    import xml.etree.ElementTree as ET  # only --junit needs it

    suite = ET.Element(
        "testsuite",
        {
            "name": f"kvdiff check {result.target}",
            "tests": str(len(result.findings)),
            "failures": str(len(result.failures)),
            "errors": "0",
            "skipped": "0",
        },
    )
    for f in result.findings:
        case = ET.SubElement(suite, "testcase", {"classname": f.tag, "name": f.concept})
        message = finding_message(f)
        if f.failed:
            failure = ET.SubElement(case, "failure", {"type": f.kind, "message": message})
            failure.text = f"{f.tag} {f.concept}: {f.kind}: {message}"
        elif f.kind == LINE_DRIFT:
            ET.SubElement(case, "system-out").text = message
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"
