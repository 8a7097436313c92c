"""`kvdiff diff` output: unified or side-by-side text (optionally coloured) and JSON.

Colour is ANSI SGR only: red for the old side, green for the new, bold reverse for the tokens
that changed inside a changed line, cyan for headers. The caller decides whether to colour
(``--color``, ``NO_COLOR``, a terminal); nothing here looks at the environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kvdiff.analyzers.compare.funcdiff import FunctionDiff, Section, Side
from kvdiff.analyzers.compare.linediff import Cell, Row, SideBySide
from kvdiff.analyzers.present.schema import SCHEMA_VERSION
from kvdiff.analyzers.present.textsafety import terminal_safe

# Trailing blanks, even when colour escapes follow them.
_TRAILING = re.compile(r"( +)((?:\x1b\[[0-9;]*m)*)$")
CONTEXT = 3  # unchanged lines kept around each change
TAB = 8

_RED, _GREEN, _CYAN, _MARK, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[1;7m", "\x1b[0m"


def _plain(cell: Cell) -> str:
    """The cell's text for a terminal: invisible and bidi characters as markers, tabs expanded."""
    return terminal_safe(cell.text).expandtabs(TAB)


def _mark(cell: Cell, colour: str, color: bool) -> str:
    """The cell's text, changed tokens highlighted, tabs expanded."""
    text = cell.text
    if not color:
        return _plain(cell)
    out, pos = [], 0
    # Each piece of source is made safe on its own (an ESC from the source never reaches the
    # terminal), so the changed-token offsets still index the original text.
    for s, e in cell.changed:
        out += [terminal_safe(text[pos:s]), _MARK, terminal_safe(text[s:e]), _RESET, colour]
        pos = e
    out.append(terminal_safe(text[pos:]))
    # Expand tabs on the plain text first so columns match the uncoloured output.
    return colour + _expand_coloured("".join(out)) + _RESET


def _expand_coloured(text: str) -> str:
    col, out, i = 0, [], 0
    while i < len(text):
        if text[i] == "\x1b":
            j = text.index("m", i) + 1
            out.append(text[i:j])
            i = j
            continue
        ch = text[i]
        if ch == "\t":
            pad = TAB - col % TAB
            out.append(" " * pad)
            col += pad
        else:
            out.append(ch)
            col += 1
        i += 1
    return "".join(out)


def _hunks(rows: tuple[Row, ...], context: int) -> Iterator[tuple[Row, ...] | int]:
    """Rows to print, with runs of more than 2×context unchanged rows replaced by their count."""
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and rows[j].kind == "equal":
            j += 1
        run = j - i
        first, last = i == 0, j == len(rows)
        keep_head = 0 if first else context
        keep_tail = 0 if last else context
        if run > keep_head + keep_tail + 1:
            if keep_head:
                yield rows[i : i + keep_head]
            yield run - keep_head - keep_tail
            if keep_tail:
                yield rows[j - keep_tail : j]
        elif run:
            yield rows[i:j]
        k = j
        while k < len(rows) and rows[k].kind != "equal":
            k += 1
        if k > j:
            yield rows[j:k]
        i = k


def _width(diff: SideBySide) -> int:
    numbers = [r.left.line for r in diff.rows if r.left] + [
        r.right.line for r in diff.rows if r.right
    ]
    return len(str(max(numbers, default=1)))


def _unified(rows: tuple[Row, ...], w: int, color: bool) -> list[str]:
    if rows and rows[0].kind == "equal":
        return [
            f"  {r.left.line:>{w}} {r.right.line:>{w}}  {_plain(r.left)}".rstrip()
            for r in rows
            if r.left is not None and r.right is not None
        ]
    blank = " " * w
    out = []
    # A change run: every old line, then every new line, as git does.
    for r in rows:
        if r.left is not None:
            out.append(_line("-", f"{r.left.line:>{w}} {blank}", r.left, _RED, color))
    for r in rows:
        if r.right is not None:
            out.append(_line("+", f"{blank} {r.right.line:>{w}}", r.right, _GREEN, color))
    return out


def _line(sign: str, numbers: str, cell: Cell, colour: str, color: bool) -> str:
    if not color:
        return f"{sign} {numbers}  {_plain(cell)}".rstrip()
    return f"{colour}{sign}{_RESET} {numbers}  {_mark(cell, colour, True)}"


def _paint(code: str, color: bool) -> str:
    return code if color else ""


def _fit(text: str, width: int) -> str:
    return text[:width].ljust(width)


def _split_cell(cell: Cell | None, w: int, half: int, colour: str, color: bool) -> str:
    if cell is None:
        return " " * (w + 1 + half)
    plain = _plain(cell)
    if not color or not cell.changed and not colour:
        return f"{cell.line:>{w}} {_fit(plain, half)}"
    shown = _fit(plain, half)
    if not colour:
        return f"{cell.line:>{w}} {shown}"
    marked = _mark(cell, colour, True) if len(plain) <= half else colour + shown + _RESET
    return f"{cell.line:>{w}} {marked}{' ' * (half - min(len(plain), half))}"


def _rstrip(line: str) -> str:
    while True:
        shorter = _TRAILING.sub(r"\2", line)
        if shorter == line:
            return line
        line = shorter


def _side_by_side(rows: tuple[Row, ...], w: int, half: int, color: bool) -> list[str]:
    out = []
    for r in rows:
        sign = {"equal": " ", "change": "|", "delete": "<", "insert": ">"}[r.kind]
        lc = "" if r.kind == "equal" else _RED
        rc = "" if r.kind == "equal" else _GREEN
        left = _split_cell(r.left, w, half, lc, color)
        right = _split_cell(r.right, w, half, rc, color)
        out.append(_rstrip(f"{left} {sign} {right}"))
    return out


def _body(diff: SideBySide, layout: str, width: int, color: bool, context: int) -> list[str]:
    w = _width(diff)
    half = max((width - 2 * (w + 1) - 3) // 2, 20)
    out = []
    for hunk in _hunks(diff.rows, context):
        if isinstance(hunk, int):
            out.append(_head(f"  … {hunk} unchanged lines", color))
            continue
        if layout == "unified":
            out += _unified(hunk, w, color)
        else:
            out += _side_by_side(hunk, w, half, color)
    return out


def _head(text: str, color: bool) -> str:
    return f"{_CYAN}{text}{_RESET}" if color else text


def _where(side: Side | None, function: str, target: str) -> str:
    if side is None:
        return "absent"
    inside = f" in {function}()" if function and function != target else ""
    return f"{side.start_line}-{side.end_line}{inside}"


def _summary(diff: SideBySide) -> str:
    if diff.identical:
        return "unchanged"
    return f"{diff.changed} changed, {diff.removed} removed, {diff.added} added"


def render_text(
    d: FunctionDiff,
    layout: str = "unified",
    width: int = 160,
    color: bool = False,
    context: int = CONTEXT,
) -> str:
    """The whole output of ``kvdiff diff`` as text."""
    out = [
        _head(_file_head("---", d.a, d.path), color),
        _head(_file_head("+++", d.b, d.path), color),
    ]
    if not d.rule_set:
        out.append(f"(no rule set for {d.function}(): no concept sections)")
    for s in d.sections:
        out.append("")
        out.append(_head(_section_head(s, d.function), color))
        if not s.diff.identical:
            out += _body(s.diff, layout, width, color, context)
    out.append("")
    out.append(_head(f"== whole function {d.function}(): {_summary(d.whole)}", color))
    if d.whole.identical:
        out.append("(identical)")
    else:
        out += _body(d.whole, layout, width, color, context)
    return "\n".join(out) + "\n"


def _file_head(sign: str, side: Side, path: str) -> str:
    src = side.source
    span = f"{side.start_line}-{side.end_line}"
    return f"{sign} {src.tag} {path} {span} blob {src.blob_id[:12]} from {src.origin}"


def _section_head(s: Section, target: str) -> str:
    where = f"{_where(s.a, s.function_a, target)} → {_where(s.b, s.function_b, target)}"
    return f"== {s.concept} ({s.title}): {where}: {_summary(s.diff)}"


def _cell_json(cell: Cell | None) -> dict | None:
    if cell is None:
        return None
    return {"line": cell.line, "text": cell.text, "changed": [list(r) for r in cell.changed]}


def _sbs_json(diff: SideBySide) -> dict:
    return {
        "added": diff.added,
        "removed": diff.removed,
        "changed": diff.changed,
        "rows": [
            {"kind": r.kind, "left": _cell_json(r.left), "right": _cell_json(r.right)}
            for r in diff.rows
        ],
    }


def _side_json(side: Side | None) -> dict | None:
    if side is None:
        return None
    src = side.source
    return {
        "tag": src.tag,
        "blob_id": src.blob_id,
        "origin": src.origin,
        "start_line": side.start_line,
        "end_line": side.end_line,
    }


def render_json(d: FunctionDiff) -> dict:
    """The JSON document of ``kvdiff diff --json`` (fields in the README)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "function": d.function,
        "path": d.path,
        "a": _side_json(d.a),
        "b": _side_json(d.b),
        "rule_set": d.rule_set,
        "sections": [
            {
                "concept": s.concept,
                "title": s.title,
                "a": _side_json(s.a) | {"function": s.function_a} if s.a else None,
                "b": _side_json(s.b) | {"function": s.function_b} if s.b else None,
                **_sbs_json(s.diff),
            }
            for s in d.sections
        ],
        "whole": _sbs_json(d.whole),
    }
