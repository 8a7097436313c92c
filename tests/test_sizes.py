"""Size limits from the design card, over the installed package (``analyzers/``, ``cli/``).

* No module over MAX_MODULE_LINES lines.
* No function or method over MAX_FUNCTION_LINES lines, counted from its ``def`` (or first
  decorator) to its last line. The per-tag reference models (``analyzers/model/v*.py``) mirror a
  kernel function line for line on purpose and are exempt.

OVERSIZE lists modules being rewritten on another branch when this test landed, each with the
size it may not exceed: a ratchet, to be split and removed from the list, never raised.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
OVERSIZE: dict[str, int] = {}


def _package_sources() -> list[Path]:
    return sorted(p for folder in ("analyzers", "cli") for p in (ROOT / folder).rglob("*.py"))


def _is_per_tag_model(rel: str) -> bool:
    return rel.startswith("analyzers/model/v") and rel.endswith(".py")


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int, int]]:
    """(name, first line, length) of every function longer than ``limit`` lines."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = node.end_lineno - start + 1
            if length > limit:
                out.append((node.name, start, length))
    return out


def test_no_module_is_too_long() -> None:
    too_long = []
    for path in _package_sources():
        rel = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text().splitlines())
        if lines > OVERSIZE.get(rel, MAX_MODULE_LINES):
            too_long.append(f"{rel}: {lines} lines")
    assert too_long == []


def test_the_oversize_list_only_names_oversize_modules() -> None:
    for rel, limit in OVERSIZE.items():
        assert limit > MAX_MODULE_LINES
        path = ROOT / rel
        if path.is_file():
            assert len(path.read_text().splitlines()) > MAX_MODULE_LINES, (
                f"drop {rel} from OVERSIZE"
            )


def test_no_function_is_too_long() -> None:
    found = []
    for path in _package_sources():
        rel = path.relative_to(ROOT).as_posix()
        if _is_per_tag_model(rel):
            continue
        found += [
            f"{rel}:{line}: {name}() is {n} lines"
            for name, line, n in long_functions(path.read_text())
        ]
    assert found == []


@pytest.mark.parametrize(
    ("body_lines", "flagged"), [(MAX_FUNCTION_LINES - 1, 0), (MAX_FUNCTION_LINES, 1)]
)
def test_the_function_limit_counts_from_the_decorator(body_lines: int, flagged: int) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(body_lines - 1))
    source = f"import functools\n\n\n@functools.cache\ndef f():\n{body}\n    return 0\n"
    # decorator + def + body_lines lines
    assert len(long_functions(source, limit=MAX_FUNCTION_LINES + 1)) == flagged
    assert _is_per_tag_model("analyzers/model/v5_1.py")
    assert not _is_per_tag_model("analyzers/model/scenarios.py")
