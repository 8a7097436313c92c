"""Reusing an anchor blob's summary for a new blob whose changes cannot reach the function.

A history reads hundreds of distinct blobs of one file, and most of them change the file away
from the function: another function's body, a comment, a declaration. Parsing each of them
again only to find the same function costs as much as the first parse. :func:`reuse` proves
instead, from the anchor's syntax tree and the new blob's bytes, that the new blob's summary is
the anchor's with its lines shifted, or gives up (None) and the blob is parsed as usual.

The proof, for every changed place (:mod:`~kvdiff.analyzers.parse.linehunks`, checked byte
for byte):

* the change, widened to the file-level items it touches (children of the file or of a
  file-level ``#if`` arm), covers only whole error-free items of kinds that end themselves
  (a definition, a declaration, a typedef, a comment, a statement ending in ``;``);
* the items on either side are error-free and end themselves too (or are ``#if`` lines), so no
  token of the change can join them;
* the new text of that region parses on its own, without errors, into such items again, and
  defines nothing named like the function or the sibling functions the rules look in;
* neither the old nor the new lines hold a ``#``, a line continuation or a change to the
  block-comment state at their end, so every preprocessor directive and ``#if`` group of the
  file is the same, only moved (what :mod:`~kvdiff.analyzers.parse.recover` and
  :mod:`~kvdiff.analyzers.parse.ppconfig` read);
* none of those lines is a line of the function or of a sibling (a summary holds whole lines).

C's grammar (as tree-sitter-c parses it, without macro expansion or typedef names) gives
file-level items no context beyond these, so the new file parses as the anchor did with those
items replaced; every definition that matters keeps its text, errors and order.
``tests/test_reuse.py`` checks this against full summaries on real kernel files with edits of
every kind, including the ones it must refuse.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from kvdiff.analyzers.parse.linehunks import byte_edits, line_starts

if TYPE_CHECKING:
    from kvdiff.analyzers.analyze.summaries import BlobSummary
    from kvdiff.analyzers.parse.cparse import ParsedFile
    from kvdiff.analyzers.parse.extract import FunctionDef
    from tree_sitter import Node

_CONTAINERS = frozenset(
    ("translation_unit", "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif")
)
# File-level items that end themselves: no token after them can make them part of more.
_ITEMS = frozenset(
    ("function_definition", "declaration", "type_definition", "comment", "expression_statement")
)
# What may stand next to a replaced region: such items, whole directives and #if lines.
_NEIGHBOURS = _ITEMS | {
    *("preproc_include", "preproc_def", "preproc_function_def", "preproc_call"),
    *("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif"),
    *("#if", "#ifdef", "#ifndef", "#elif", "#else", "#endif", "\n"),
}


@dataclass
class Anchor:
    """A blob summarised in full, with what :func:`reuse` needs of its parse."""

    parsed: ParsedFile
    summary: BlobSummary
    names: frozenset[str]  # the function and the siblings the rules look in
    protected: tuple[tuple[int, int], ...]  # 1-based line ranges of their definitions
    first: FunctionDef | None = None  # the function's first definition (what is summarised)
    lines: list[bytes] = field(init=False)
    starts: list[int] = field(init=False)  # each line's first byte, then one past the end
    _kids: dict[int, tuple[list[Node], list[int], list[int]]] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self.lines = self.parsed.data.split(b"\n")
        self.starts = line_starts(self.lines)

    def children(self, node: Node) -> tuple[list[Node], list[int], list[int]]:
        """A container's children with their start and end bytes (computed once). Keyed by
        the node's id: a header's include guard spans the same bytes as the file."""
        key = node.id
        if key not in self._kids:
            kids = node.children
            self._kids[key] = (kids, [k.start_byte for k in kids], [k.end_byte for k in kids])
        return self._kids[key]


def make_anchor(
    parsed: ParsedFile,
    summary: BlobSummary,
    names: Iterable[str],
    defs: Iterable[FunctionDef],
    first: FunctionDef | None = None,
) -> Anchor:
    """``defs``: every definition of every name in ``names`` (all of them, not only the first:
    which one comes first is part of what must not change); ``first``: the function's."""
    protected = tuple(sorted((d.start_line, d.end_line) for d in defs))
    return Anchor(parsed, summary, frozenset(names), protected, first)


@dataclass(frozen=True)
class Edit:
    """Bytes ``[old_start, old_end)`` of the anchor are replaced by ``old_end - old_start +
    delta`` new bytes."""

    old_start: int  # bytes of the anchor
    old_end: int
    delta: int  # bytes added (negative: removed) inside the region

    @property
    def new_length(self) -> int:
        return self.old_end - self.old_start + self.delta


def reuse(anchor: Anchor, data: bytes, edits: list[Edit] | None = None) -> BlobSummary | None:
    """The summary of ``data`` when it provably equals the anchor's, lines shifted; else None.
    ``edits``: :func:`exact_edits` of ``data``, when already known."""
    old = anchor.parsed.data
    edits = exact_edits(anchor, data) if edits is None else edits
    regions = None if edits is None else _widened(anchor, edits)
    if regions is None:
        return None
    shift = 0
    before = anchor.summary.start_line if anchor.summary.found else 0
    offset = 0  # bytes added by the regions so far: new position = old position + offset
    for region in regions:
        new_start = region.old_start + offset
        new_text = data[new_start : region.old_end + offset + region.delta]
        old_text = old[region.old_start : region.old_end]
        first = old.count(b"\n", 0, region.old_start) + 1
        # the anchor's lines the region touches (none when it only inserts at a line start)
        last = first + old_text.count(b"\n", 0, max(len(old_text) - 1, 0))
        if not old_text:
            last = first - 1
        if any(a <= last and first <= b for a, b in anchor.protected):
            return None
        if not _lexically_inert(old, region.old_start, region.old_end, old_text, new_text):
            return None
        if not _clean_items(new_text, anchor.names):
            return None
        if last < before:
            shift += new_text.count(b"\n") - old_text.count(b"\n")
        offset += region.delta
    if not shift:
        return anchor.summary
    s = anchor.summary
    return replace(s, start_line=s.start_line + shift, end_line=s.end_line + shift)


def exact_edits(anchor: Anchor, data: bytes) -> list[Edit] | None:
    """The byte ranges of the anchor that ``data`` replaces (:func:`.linehunks.byte_edits`)."""
    found = byte_edits(anchor.parsed.data, data, anchor.lines, anchor.starts)
    return None if found is None else [Edit(s, e, n - (e - s)) for s, e, n in found]


def _widened(anchor: Anchor, edits: list[Edit]) -> list[Edit] | None:
    """The edits widened to whole file-level items and merged; None when one of them is not a
    run of self-ending error-free items between self-ending neighbours."""
    merged: list[Edit] = []
    for region in edits:
        widened = _widen(anchor, region.old_start, region.old_end)
        if widened is None:
            return None
        s, e = widened
        if merged and s <= merged[-1].old_end:
            last = merged.pop()
            s, e = min(s, last.old_start), max(e, last.old_end)
            region = Edit(s, e, last.delta + region.delta)
        merged.append(Edit(s, e, region.delta))
    return merged


def _widen(anchor: Anchor, s: int, e: int) -> tuple[int, int] | None:
    """``[s, e)`` grown to the file-level items it touches, or None when those (or their
    neighbours) are not all self-ending and error-free."""
    node = anchor.parsed.tree.root_node
    while True:
        kids, starts, ends = anchor.children(node)
        lo = bisect_right(ends, s)
        hi = bisect_left(starts, e if e > s else s)
        touched = kids[lo:hi]
        if len(touched) == 1 and touched[0].type in _CONTAINERS:
            inner = touched[0]
            if inner.start_byte < s and e < inner.end_byte:
                node = inner
                continue
            return None
        if any(k.type not in _ITEMS or k.has_error for k in touched):
            return None
        for k in (kids[lo - 1] if lo > 0 else None, kids[hi] if hi < len(kids) else None):
            if k is not None and not _self_ending(k, node):
                return None
        if touched:
            s, e = min(s, touched[0].start_byte), max(e, touched[-1].end_byte)
        return s, e


def _self_ending(kid: Node, container: Node) -> bool:
    if kid.has_error:
        return False
    if kid.type in _NEIGHBOURS:
        return True
    # the name or condition on an #ifdef/#if line ends with that line
    for name in ("name", "condition"):
        part = container.child_by_field_name(name)
        if part is not None and part.start_byte == kid.start_byte and part.end_byte == kid.end_byte:
            return True
    return False


def _lexically_inert(old: bytes, start: int, end: int, old_text: bytes, new_text: bytes) -> bool:
    """No directive, continuation or block-comment state change on the lines of the region,
    old or new, and no continuation into them from the line before."""
    if b"#" in old_text or b"#" in new_text:
        return False
    line_start = old.rfind(b"\n", 0, start) + 1
    line_end = old.find(b"\n", end)
    head = old[line_start:start]
    tail = old[end : len(old) if line_end < 0 else line_end]
    if b"#" in head or b"#" in tail:
        return False
    previous = old[max(0, line_start - 3) : max(0, line_start - 1)].rstrip(b"\r")
    if previous.endswith(b"\\"):
        return False
    old_lines = (head + old_text + tail).split(b"\n")
    new_lines = (head + new_text + tail).split(b"\n")
    for line in (*old_lines, *new_lines):
        if line.rstrip(b"\r").endswith(b"\\"):
            return False
        # comment marks and quotes on one line: scanners that track strings and those that do
        # not could disagree on it, so it is never proven inert
        if (b"/*" in line or b"*/" in line or b"//" in line) and (b'"' in line or b"'" in line):
            return False
    return all(_comment_after(old_lines, s) == _comment_after(new_lines, s) for s in (False, True))


def _comment_after(lines: list[bytes], in_comment: bool) -> bool:
    """Whether a block comment is open after ``lines`` (from ``in_comment``)."""
    for line in lines:
        i = 0
        while True:
            if in_comment:
                j = line.find(b"*/", i)
                if j < 0:
                    break
                in_comment, i = False, j + 2
            else:
                j, k = line.find(b"/*", i), line.find(b"//", i)
                if j < 0 or 0 <= k < j:
                    break
                in_comment, i = True, j + 2
    return in_comment


def _clean_items(text: bytes, names: frozenset[str]) -> bool:
    """Whether ``text`` parses on its own into self-ending error-free items defining none of
    ``names``."""
    if not text.strip():
        return True
    from kvdiff.analyzers.parse.cparse import parse_c
    from kvdiff.analyzers.parse.extract import all_functions

    parsed = parse_c(text)
    root = parsed.tree.root_node
    if root.has_error or any(k.type not in _ITEMS for k in root.children):
        return False
    return not any(f.name in names or names.intersection(f.aliases) for f in all_functions(parsed))
