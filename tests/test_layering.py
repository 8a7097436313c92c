"""The import rule and the presentation rule, checked on every module's syntax tree.

Stages, lowest first: the shared vocabulary (``errors``, ``versions``, ``concepts``), then
``source`` < ``parse`` < ``analyze`` < ``compare`` < ``model`` < ``present`` < ``jobs`` < ``cli``
(the ``kvdiff`` package itself). A module may import its own stage and lower ones, never a higher
one; every import counts, including imports inside functions and under ``TYPE_CHECKING``.

Presentation heuristic (text for people lives in ``present/``, and ``cli/`` prints it): a module
of any other stage must not
  * import an output library: click, jinja2, markupsafe, xml (JUnit), pprint;
  * call ``print()`` or touch ``sys.stdout`` / ``sys.stderr``;
  * define a function named ``format_*`` / ``render_*`` / ``junit``, or a ``text(self)`` method;
  * call ``json.dumps``, except the modules that write kvdiff's own state files (listed below).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ("shared", "source", "parse", "analyze", "compare", "model", "present", "jobs", "cli")
SHARED = {"errors", "versions", "concepts", "__init__"}
OUTPUT_LIBRARIES = {"click", "jinja2", "markupsafe", "xml", "pprint"}
# Modules outside present/ allowed to call json.dumps: they persist state, not output.
STATE_WRITERS = {
    "analyzers/source/repo.py": "kvdiff-origins.json in the source cache",
    "analyzers/analyze/resultcache.py": "result-cache entries",
    "analyzers/jobs/sitecache.py": "the header line of site-cache entries",
    "analyzers/compare/golden.py": "golden files written by check --update",
}
# Modules outside present/ allowed to reach sys.stderr, and why.
STDERR_WRITERS = {
    "analyzers/source/progress.py": "the fetch progress line is redrawn from libgit2's transfer "
    "callbacks while the fetch runs, so it cannot be returned as data first",
}


@dataclass(frozen=True)
class Module:
    path: Path  # relative to ROOT
    name: str  # dotted, as installed: kvdiff.analyzers.parse.cparse, kvdiff.show, ...
    stage: str
    tree: ast.Module


def _stage_of(name: str) -> str | None:
    """The stage of an installed module name; None for what is not kvdiff."""
    parts = name.split(".")
    if parts[0] != "kvdiff":
        return None
    if len(parts) == 1 or parts[1] not in ("analyzers", "templates"):
        return "cli"
    if parts[1] == "templates":
        return "present"
    if len(parts) == 2 or parts[2] in SHARED:
        return "shared"
    return parts[2] if parts[2] in ORDER else "shared"


def _modules() -> list[Module]:
    out = []
    roots = {"cli": "kvdiff", "analyzers": "kvdiff.analyzers", "templates": "kvdiff.templates"}
    for folder, package in roots.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            stage = _stage_of(name)
            assert stage is not None
            out.append(Module(path.relative_to(ROOT), name, stage, ast.parse(path.read_text())))
    return out


MODULES = _modules()


def _imports(m: Module) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``m``, relative ones resolved."""
    package = m.name if m.path.name == "__init__.py" else m.name.rpartition(".")[0]
    found = []
    for node in ast.walk(m.tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            # "from kvdiff.analyzers import model" imports the stage module itself
            found += [
                (node.lineno, f"{base}.{a.name}") for a in node.names if base == "kvdiff.analyzers"
            ]
    return found


def layering_violations(modules: list[Module]) -> list[str]:
    out = []
    for m in modules:
        for line, name in _imports(m):
            stage = _stage_of(name)
            if stage is None or name == "kvdiff.analyzers":
                continue
            if ORDER.index(stage) > ORDER.index(m.stage):
                out.append(f"{m.path}:{line}: {m.stage} module imports {name} ({stage})")
    return out


def _presenter_def(node: ast.AST) -> bool:
    """``format_*`` / ``render_*`` functions, ``junit()``, and argument-less ``text()`` methods."""
    if not isinstance(node, ast.FunctionDef):
        return False
    if node.name.startswith(("format_", "render_")) or node.name == "junit":
        return True
    return node.name == "text" and [a.arg for a in node.args.args] == ["self"]


def _node_violation(node: ast.AST, where: str) -> str | None:
    if isinstance(node, ast.Import | ast.ImportFrom):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
        for name in names:
            if (name or "").split(".")[0] in OUTPUT_LIBRARIES:
                return f"imports {name}, an output library"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
        return "calls print()"
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        pair = (node.value.id, node.attr)
        if pair in (("sys", "stdout"), ("sys", "stderr")) and where not in STDERR_WRITERS:
            return f"writes to sys.{node.attr}"
        if pair == ("json", "dumps") and where not in STATE_WRITERS:
            return "json.dumps outside present/ (output is present's)"
    if _presenter_def(node):
        return f"defines {node.name}(), a presenter"  # type: ignore[attr-defined]
    return None


def presentation_violations(modules: list[Module]) -> list[str]:
    out = []
    for m in modules:
        if m.stage in ("present", "cli"):
            continue
        for node in ast.walk(m.tree):
            problem = _node_violation(node, str(m.path))
            if problem:
                out.append(f"{m.path}:{getattr(node, 'lineno', 0)}: {problem}")
    return out


def test_every_module_has_a_stage() -> None:
    stages = {m.stage for m in MODULES}
    assert stages == set(ORDER), stages
    assert len(MODULES) > 40


def test_no_stage_imports_a_higher_one() -> None:
    assert layering_violations(MODULES) == []


def test_only_presenters_format_text_for_people() -> None:
    assert presentation_violations(MODULES) == []


def _fake(path: str, source: str) -> Module:
    rel = Path(path)
    name = "kvdiff." + ".".join(rel.with_suffix("").parts)
    return Module(rel, name, _stage_of(name) or "", ast.parse(source))


@pytest.mark.parametrize(
    ("path", "source", "found"),
    [
        ("analyzers/parse/x.py", "from kvdiff.analyzers.analyze.ruleset import RuleSet", 1),
        ("analyzers/compare/x.py", "def f():\n    from kvdiff.analyzers.present import render", 1),
        ("analyzers/versions.py", "from kvdiff.analyzers.source.repo import Sources", 1),
        (
            "analyzers/model/x.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from kvdiff.analyzers.jobs.report import build_report",
            1,
        ),
        ("analyzers/present/x.py", "from kvdiff.analyzers.compare.facts import pair_changes", 0),
        ("analyzers/jobs/x.py", "from kvdiff import main", 1),
    ],
)
def test_the_import_rule_catches_upward_imports(path: str, source: str, found: int) -> None:
    assert len(layering_violations([_fake(path, source)])) == found


@pytest.mark.parametrize(
    ("path", "source", "found"),
    [
        ("analyzers/analyze/x.py", "import click", 1),
        ("analyzers/compare/x.py", "import xml.etree.ElementTree as ET", 1),
        ("analyzers/parse/x.py", "def f(t):\n    print(t)", 1),
        ("analyzers/model/x.py", "import sys\nsys.stdout.write('x')", 1),
        ("analyzers/jobs/x.py", "import json\ns = json.dumps({})", 1),
        ("analyzers/compare/x.py", "def format_table(rows):\n    return ''", 1),
        ("analyzers/compare/x.py", "class R:\n    def text(self):\n        return ''", 1),
        ("analyzers/parse/x.py", "class P:\n    def text(self, node):\n        return ''", 0),
        ("analyzers/present/x.py", "import json, click\nprint(json.dumps({}))", 0),
        ("analyzers/analyze/resultcache.py", "import json\ns = json.dumps({})", 0),
    ],
)
def test_the_presentation_rule_catches_text_outside_present(
    path: str, source: str, found: int
) -> None:
    assert len(presentation_violations([_fake(path, source)])) == found
