"""Golden concept maps: the files ``kvdiff check`` compares against, and running the check.

A golden file ``<expected>/<target>/<tag>.json`` records, for one tag, each concept's state and
hits (function, line span, verbatim condition). It is written by ``kvdiff check --update`` and then
reviewed by hand against the source; :mod:`.check` compares a fresh analysis with it.

Golden files are the project's own review record, kept in the repository under
``fixtures/expected``; they are not installed with the package. The default golden directory is
therefore ``fixtures/expected`` under the current directory (a kvdiff checkout, as CI runs it);
anywhere else, pass ``--expected DIR``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from kvdiff.analyzers.compare.check import CheckResult, Finding, TagCheck
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.versions import sort_tags

if TYPE_CHECKING:  # the analysis stack is imported when a tag is analysed (not on a cache hit)
    from kvdiff.analyzers.analyze.analysis import Analysis
    from kvdiff.analyzers.analyze.ruleset import RuleSet
    from kvdiff.analyzers.source.types import SourceFile

GOLDEN_VERSION = 1
# Relative on purpose: resolved against the current directory (see the module docstring).
DEFAULT_EXPECTED_DIR = Path("fixtures") / "expected"


def default_expected_dir() -> Path:
    """``fixtures/expected`` of the current directory (golden files are not packaged)."""
    return DEFAULT_EXPECTED_DIR


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


Reader = Callable[[str, str], "SourceFile"]


def run_check(
    read: Reader,
    rules: RuleSet,
    tags: Iterable[str],
    expected_dir: Path,
    on_analysis: Callable[[Analysis], None] | None = None,
) -> CheckResult:
    """Re-analyse ``rules.path`` at each tag (read through ``read(tag, path)``) and compare with
    the tag's golden file, or, for a tag without one, with the rules' history
    (:func:`~.rulecheck.check_rules`); ``on_analysis`` sees each analysis (the CLI warns about
    functions defined twice)."""
    results = []
    for tag in tags:
        golden, source = tag_inputs(read, rules, tag, expected_dir)
        results.append(check_tag(rules, tag, golden, source, on_analysis))
    return CheckResult(rules.target, tuple(results))


def tag_inputs(
    read: Reader, rules: RuleSet, tag: str, expected_dir: Path
) -> tuple[dict | None, SourceFile]:
    """What the check of ``tag`` reads: its golden file (None without one) and the source file
    (the golden file's ``path``, else the rules'). Of ``rules``, only ``target`` and ``path``
    are read (a :class:`~.jobs.checkcache.RulesRef` will do)."""
    path = golden_path(expected_dir, rules.target, tag)
    golden = load_golden(path) if path.is_file() else None
    return golden, read(tag, (golden or {}).get("path") or rules.path)


def check_tag(
    rules: RuleSet,
    tag: str,
    golden: dict | None,
    source: SourceFile,
    on_analysis: Callable[[Analysis], None] | None = None,
) -> TagCheck:
    """The findings at ``tag``: a fresh analysis of ``source`` against ``golden`` (or, when
    None, against the rules' history)."""
    from kvdiff.analyzers.analyze.analysis import FunctionMissing, analyze_source
    from kvdiff.analyzers.compare.check import compare
    from kvdiff.analyzers.compare.rulecheck import check_rules

    try:
        analysis: Analysis | None = analyze_source(source, rules)
        missing = ""
        if on_analysis is not None:
            on_analysis(analysis)
    except FunctionMissing as exc:
        analysis, missing = None, exc.message
    if golden is not None:
        return compare(tag, golden, analysis, missing)
    if analysis is not None:
        return check_rules(tag, analysis)
    return _missing_function(tag, rules, missing)


def _missing_function(tag: str, rules: RuleSet, why: str) -> TagCheck:
    findings = tuple(
        Finding.of(tag, c, "function-missing", "function-missing", why=why)
        for c in rules.concept_ids
    )
    return TagCheck(tag, None, (), findings, checked_against="rules")


def update(read: Reader, rules: RuleSet, tags: Iterable[str], expected_dir: Path) -> list[Path]:
    """Write (overwrite) the golden file of each tag from a fresh analysis."""
    from kvdiff.analyzers.analyze.analysis import analyze_source

    written = []
    for tag in tags:
        analysis = analyze_source(read(tag, rules.path), rules)
        written.append(write_golden(expected_dir, rules, analysis))
    return written
