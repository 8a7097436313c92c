"""Parse C source bytes with tree-sitter-c.

Node positions from tree-sitter are byte offsets into the UTF-8 (or arbitrary) source, so
text is always sliced from the bytes and then decoded, never from a decoded str.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import tree_sitter_c
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree


@cache
def c_language() -> Language:
    return Language(tree_sitter_c.language())


@cache
def _parser() -> Parser:
    return Parser(c_language())


@cache
def compile_query(source: str) -> Query:
    """Compile (once) a tree-sitter query against the C grammar."""
    return Query(c_language(), source)


def captures(query_source: str, node: Node) -> dict[str, list[Node]]:
    """Run a query under ``node`` and return its captures (py-tree-sitter >= 0.25 API)."""
    return QueryCursor(compile_query(query_source)).captures(node)


@dataclass(frozen=True)
class ParsedFile:
    """A C file's bytes and its syntax tree."""

    data: bytes
    tree: Tree = field(compare=False, repr=False)

    def text(self, node: Node) -> str:
        return node_text(self.data, node)


def node_text(data: bytes, node: Node) -> str:
    # Kernel sources are mostly ASCII; a stray Latin-1 byte must not crash the tool.
    return data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def parse_c(data: bytes) -> ParsedFile:
    return ParsedFile(data=data, tree=_parser().parse(data))


def error_nodes(node: Node) -> list[Node]:
    """ERROR and MISSING nodes in ``node``'s subtree, outermost first, in source order."""
    found: list[Node] = []
    if not node.has_error:
        return found
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.is_error or cur.is_missing:
            found.append(cur)
            continue  # report the outermost ERROR only
        if cur.has_error:
            stack.extend(reversed(cur.children))
    found.sort(key=lambda n: n.start_byte)
    return found


def reparse(data: bytes, old: ParsedFile, edits: Sequence[tuple[int, int, int]]) -> ParsedFile:
    """``data`` parsed reusing ``old``'s tree: ``edits`` are ``(start, old_end, new_length)``
    byte ranges of ``old.data`` that ``data`` replaces, in order. Tree-sitter's incremental
    parse gives the tree a fresh parse gives, re-reading only around the edits."""
    tree = old.tree.copy()
    # From the last edit back, so that each edit's old positions are still the old file's.
    shift = sum(n - (e - s) for s, e, n in edits)
    for start, old_end, new_length in reversed(edits):
        shift -= new_length - (old_end - start)
        at = _point(old.data, start)
        new_text = data[start + shift : start + shift + new_length]
        lines = new_text.count(b"\n")
        column = len(new_text) - new_text.rfind(b"\n") - 1 if lines else at[1] + len(new_text)
        tree.edit(
            start_byte=start,
            old_end_byte=old_end,
            new_end_byte=start + new_length,
            start_point=at,
            old_end_point=_point(old.data, old_end),
            new_end_point=(at[0] + lines, column),
        )
    return ParsedFile(data=data, tree=_parser().parse(data, tree))


def _point(data: bytes, byte: int) -> tuple[int, int]:
    return data.count(b"\n", 0, byte), byte - (data.rfind(b"\n", 0, byte) + 1)
