"""C syntax highlighting from tree-sitter-c's own ``HIGHLIGHTS_QUERY``, as escaped HTML per line.

Highlighting runs the grammar's highlighting query over the real syntax tree (so ``if`` inside a
comment is never a keyword; ``TTU_IGNORE_MLOCK`` is a constant), splits the captured nodes at
line breaks, and turns each line into :class:`Markup` by escaping every piece of source text with
:func:`markupsafe.escape` before any tag is put around it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from functools import cache, lru_cache
from itertools import accumulate
from typing import NamedTuple

import tree_sitter_c
from kvdiff.analyzers.present.textsafety import escape_text, html_piece, needs_marks
from markupsafe import Markup
from tree_sitter import Node, Query, QueryCursor, Tree


class Span(NamedTuple):
    """A classified piece of one line: [start, end) character offsets and a CSS class suffix."""

    start: int
    end: int
    cls: str


class Line(NamedTuple):
    """One real source line (1-based number), its text (no newline) and its token spans."""

    number: int
    text: str
    spans: tuple[Span, ...]


# The grammar's own highlighting query (tree-sitter-c's queries/highlights.scm) names what each
# node is; these are the CSS class suffixes its capture names become. Operators, delimiters and
# plain variables stay unstyled.
_CLASSES = {
    "comment": "c",
    "string": "s",
    "number": "n",
    "type": "t",
    "keyword": "k",
    "label": "l",
    "property": "m",
    "function": "f",
    "function.special": "p",  # the name a function-like macro defines
    "constant": "o",  # NULL and ALL_CAPS names: TTU_IGNORE_MLOCK, VM_LOCKED
}


# The parser (parse.cparse) is imported where a file is highlighted: a warm report's lines come
# highlighted from the result cache.


@cache
def _query() -> Query:
    from kvdiff.analyzers.parse.cparse import compile_query

    return compile_query(tree_sitter_c.HIGHLIGHTS_QUERY)


def _node_class(name: str, node: Node) -> str | None:
    cls = _CLASSES.get(name)
    if cls == "k" and (node.type.startswith("#") or node.type == "preproc_directive"):
        return "p"  # preprocessor lines keep their own colour
    return cls


def _tokens(root: Node, start: int, end: int) -> list[tuple[int, int, str]]:
    """(start_byte, end_byte, class) of the highlighted nodes overlapping [start, end),
    sorted, innermost nodes inside outer ones left to :func:`_flatten`.

    When several patterns capture one node, the later pattern wins (as in Neovim): the query
    starts with the general ``(identifier) @variable`` and refines it below (constants,
    called functions)."""
    cursor = QueryCursor(_query())
    cursor.set_byte_range(start, end)
    best: dict[int, tuple[int, Node, str]] = {}
    for pattern, caps in cursor.matches(root):
        for name, nodes in caps.items():
            for node in nodes:
                seen = best.get(node.id)
                if seen is None or pattern >= seen[0]:
                    best[node.id] = (pattern, node, name)
    out = []
    for _, node, name in best.values():
        cls = _node_class(name, node)
        if cls and node.end_byte > node.start_byte:
            out.append((node.start_byte, node.end_byte, cls))
    out.sort()
    return out


def _flatten(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans in order: where one capture lies inside another (a type inside
    ``unsigned long``), the inner one wins its characters."""
    if all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False)):
        return spans
    cuts = sorted({p for sp in spans for p in (sp.start, sp.end)})
    out: list[Span] = []
    for s, e in zip(cuts, cuts[1:], strict=False):
        inside = [sp for sp in spans if sp.start <= s and e <= sp.end]
        if not inside:
            continue
        cls = min(inside, key=lambda sp: sp.end - sp.start).cls
        if out and out[-1].end == s and out[-1].cls == cls:
            out[-1] = Span(out[-1].start, e, cls)
        else:
            out.append(Span(s, e, cls))
    return out


def _char_offset(line: bytes, col: int) -> int:
    return len(line[:col].decode("utf-8", errors="replace"))


def highlight_lines(
    data: bytes, start_byte: int = 0, end_byte: int | None = None, tree: Tree | None = None
) -> tuple[Line, ...]:
    """The whole lines that hold bytes [start_byte, end_byte) of ``data``, highlighted.

    ``tree`` is ``data``'s syntax tree when the caller has one (the analysis parsed the file
    already); only the nodes overlapping those lines are queried."""
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
    if tree is None:
        from kvdiff.analyzers.parse.cparse import parse_c

        tree = parse_c(data).tree
    root = tree.root_node
    ascii_lines = [raw.isascii() for raw in raw_lines]
    for tok_start, tok_end, cls in _tokens(root, first_start, last_end):
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
                if ascii_lines[idx]:  # byte offsets are character offsets
                    spans[idx].append(Span(s, e, cls))
                else:
                    raw = raw_lines[idx]
                    spans[idx].append(Span(_char_offset(raw, s), _char_offset(raw, e), cls))
    return tuple(
        Line(
            number=first_number + idx,
            text=raw.decode("utf-8", errors="replace"),
            spans=tuple(_flatten(spans[idx])),
        )
        for idx, raw in enumerate(raw_lines)
    )


class FileLines:
    """A file's highlighted lines by 1-based number, highlighted on first use, a chunk of
    :data:`CHUNK` lines per query: pages show the function and a few traced lines, not the
    whole file. Each line comes out as :func:`highlight_lines` over the whole file gives it.

    ``chunks`` (first line of a chunk -> its lines) holds chunks highlighted before (kept in
    the result cache): those are taken as they are, and each chunk highlighted here is added
    to it, after which ``on_fill(first, last)`` is told."""

    CHUNK = 64

    def __init__(
        self,
        data: bytes,
        tree: Tree | None = None,
        chunks: dict[int, tuple[Line, ...]] | None = None,
        on_fill: Callable[[int, int], None] | None = None,
    ) -> None:
        self.data = data
        self._tree = tree
        # Where each line starts: 0, then one past each newline.
        self._starts = list(accumulate((len(p) + 1 for p in data.split(b"\n")[:-1]), initial=0))
        if len(self._starts) > 1 and self._starts[-1] == len(data):
            self._starts.pop()  # a final newline ends the last line; no empty line after it
        self.count = len(self._starts)
        self._lines: dict[int, Line] = {}
        self._chunks = chunks
        self._on_fill = on_fill

    @property
    def tree(self) -> Tree:
        """The file's syntax tree (parsed on first use when none was given)."""
        if self._tree is None:
            from kvdiff.analyzers.parse.cparse import parse_c

            self._tree = parse_c(self.data).tree
        return self._tree

    def _fill(self, n: int) -> None:
        first = (n - 1) // self.CHUNK * self.CHUNK + 1
        last = min(first + self.CHUNK - 1, self.count)
        kept = self._chunks.get(first) if self._chunks is not None else None
        if kept is not None and [ln.number for ln in kept] == list(range(first, last + 1)):
            self._lines.update((ln.number, ln) for ln in kept)
            return
        # [start of line first, start of the line after last): highlight_lines takes whole lines.
        end = self._starts[last] if last < self.count else len(self.data)
        lines = highlight_lines(self.data, self._starts[first - 1], end, self.tree)
        self._lines.update((ln.number, ln) for ln in lines)
        if self._chunks is not None:
            self._chunks[first] = lines
        if self._on_fill is not None:
            self._on_fill(first, last)

    def chunk_of(self, n: int) -> int:
        """The first line of the chunk that holds line ``n``."""
        return (n - 1) // self.CHUNK * self.CHUNK + 1

    def get(self, n: int) -> Line | None:
        if not 1 <= n <= self.count:
            return None
        if n not in self._lines:
            self._fill(n)
        return self._lines[n]

    def __getitem__(self, n: int) -> Line:
        ln = self.get(n)
        if ln is None:
            raise KeyError(n)
        return ln

    def __contains__(self, n: object) -> bool:
        return isinstance(n, int) and 1 <= n <= self.count


def _html(piece: str) -> str:
    # markupsafe.escape's five characters; bidi controls and U+FFFD take html_piece's marked path.
    if needs_marks(piece):
        return str(html_piece(piece))
    return escape_text(piece)


@lru_cache(maxsize=1 << 16)
def render_line(
    text: str, spans: tuple[Span, ...] = (), changed: tuple[tuple[int, int], ...] = ()
) -> Markup:
    """HTML for one line: syntax classes ``t-<cls>``, ``dm`` (diff mark) on changed ranges.

    Every piece of ``text`` is escaped; only our own tags are added around it. The same line is
    shown on several pages, so the result is remembered."""
    cuts = {0, len(text)}
    for sp in spans:
        cuts.update((sp.start, sp.end))
    for s, e in changed:
        cuts.update((s, e))
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    pieces: list[list[str]] = []
    for s, e in zip(points, points[1:], strict=False):
        if e <= s:
            continue
        cls = ""
        for sp in spans:
            if sp.start <= s and e <= sp.end:
                cls = f"t-{sp.cls}"
                break
        if any(cs <= s and e <= ce for cs, ce in changed):
            cls = f"{cls} dm" if cls else "dm"  # a diff mark: background only
        if pieces and pieces[-1][0] == cls:
            pieces[-1][1] += text[s:e]
        else:
            pieces.append([cls, text[s:e]])
    out = [
        f'<span class="{cls}">{_html(piece)}</span>' if cls else _html(piece)
        for cls, piece in pieces
    ]
    return Markup("".join(out))
