"""C syntax highlighting from tree-sitter tokens, as escaped HTML per source line.

Highlighting classifies the leaves of the real syntax tree (so ``if`` inside a comment is never a
keyword), splits them at line breaks, and turns each line into :class:`Markup` by escaping every
piece of source text with :func:`markupsafe.escape` before any tag is put around it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.present.textsafety import html_piece
from markupsafe import Markup
from tree_sitter import Node

# Nodes shown as one token even though tree-sitter gives them children.
_ATOMIC = {
    "comment": "c",
    "string_literal": "s",
    "char_literal": "s",
    "system_lib_string": "s",
    "concatenated_string": "s",
    "preproc_arg": "p",
}
_LEAF = {
    "number_literal": "n",
    "primitive_type": "t",
    "type_identifier": "t",
    "true": "k",
    "false": "k",
    "null": "k",
    "statement_identifier": "l",
    "field_identifier": "m",
}


@dataclass(frozen=True)
class Span:
    """A classified piece of one line: [start, end) character offsets and a CSS class suffix."""

    start: int
    end: int
    cls: str


@dataclass(frozen=True)
class Line:
    """One real source line (1-based number), its text (no newline) and its token spans."""

    number: int
    text: str
    spans: tuple[Span, ...]


def _classify(node: Node) -> str | None:
    if node.type in _LEAF:
        return _LEAF[node.type]
    if not node.is_named:
        if node.type.startswith("#"):
            return "p"
        if node.type.isidentifier():
            return "k"
        return None
    if node.type == "identifier":
        parent = node.parent
        if (
            parent is not None
            and parent.type == "call_expression"
            and parent.child_by_field_name("function") == node
        ):
            return "f"
        if parent is not None and parent.type == "function_declarator":
            return "f"
        if parent is not None and parent.type in ("preproc_def", "preproc_function_def"):
            return "p"
    return None


def _tokens(root: Node, start: int, end: int) -> list[tuple[int, int, str]]:
    """(start_byte, end_byte, class) of classified tokens overlapping [start, end)."""
    out: list[tuple[int, int, str]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= end:
            continue
        atomic = _ATOMIC.get(node.type)
        if atomic:
            out.append((node.start_byte, node.end_byte, atomic))
            continue
        if node.child_count == 0:
            cls = _classify(node)
            if cls and node.end_byte > node.start_byte:
                out.append((node.start_byte, node.end_byte, cls))
            continue
        stack.extend(reversed(node.children))
    out.sort()
    return out


def _char_offset(line: bytes, col: int) -> int:
    return len(line[:col].decode("utf-8", errors="replace"))


def highlight_lines(
    data: bytes, start_byte: int = 0, end_byte: int | None = None
) -> tuple[Line, ...]:
    """The whole lines that hold bytes [start_byte, end_byte) of ``data``, highlighted."""
    end_byte = len(data) if end_byte is None else end_byte
    first_start = data.rfind(b"\n", 0, start_byte) + 1
    last_nl = data.find(b"\n", max(end_byte - 1, first_start))
    last_end = len(data) if last_nl < 0 else last_nl
    first_number = data.count(b"\n", 0, first_start) + 1
    raw_lines = data[first_start:last_end].split(b"\n")
    line_starts = [first_start]
    for raw in raw_lines[:-1]:
        line_starts.append(line_starts[-1] + len(raw) + 1)

    spans: list[list[Span]] = [[] for _ in raw_lines]
    tree = parse_c(data).tree
    for tok_start, tok_end, cls in _tokens(tree.root_node, first_start, last_end):
        # A token may span lines (block comments): give each line its part.
        first = max(bisect_right(line_starts, tok_start) - 1, 0)
        for idx in range(first, len(line_starts)):
            ls = line_starts[idx]
            if ls >= tok_end:
                break
            le = ls + len(raw_lines[idx])
            s = max(tok_start, ls) - ls
            e = min(tok_end, le) - ls
            if e > s:
                raw = raw_lines[idx]
                spans[idx].append(Span(_char_offset(raw, s), _char_offset(raw, e), cls))
    return tuple(
        Line(
            number=first_number + idx,
            text=raw.decode("utf-8", errors="replace"),
            spans=tuple(spans[idx]),
        )
        for idx, raw in enumerate(raw_lines)
    )


def render_line(
    text: str, spans: tuple[Span, ...] = (), changed: tuple[tuple[int, int], ...] = ()
) -> Markup:
    """HTML for one line: syntax classes ``t-<cls>``, and ``chg`` on changed character ranges.

    Every piece of ``text`` goes through :func:`escape`; only our own tags are added around it.
    """
    cuts = {0, len(text)}
    for sp in spans:
        cuts.update((sp.start, sp.end))
    for s, e in changed:
        cuts.update((s, e))
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    pieces: list[tuple[str, str]] = []
    for s, e in zip(points, points[1:], strict=False):
        if e <= s:
            continue
        classes = []
        for sp in spans:
            if sp.start <= s and e <= sp.end:
                classes = [f"t-{sp.cls}"]
                break
        if any(cs <= s and e <= ce for cs, ce in changed):
            classes.append("chg")
        cls = " ".join(classes)
        if pieces and pieces[-1][0] == cls:
            pieces[-1] = (cls, pieces[-1][1] + text[s:e])
        else:
            pieces.append((cls, text[s:e]))
    out = Markup("")
    for cls, piece in pieces:
        # html_piece escapes, and turns bidi controls and U+FFFD into visible marked spans.
        if cls:
            out += Markup('<span class="{}">{}</span>').format(cls, html_piece(piece))
        else:
            out += html_piece(piece)
    return out
