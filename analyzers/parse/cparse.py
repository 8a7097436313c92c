"""Parse C source bytes with tree-sitter-c.

Node positions from tree-sitter are byte offsets into the UTF-8 (or arbitrary) source, so
text is always sliced from the bytes and then decoded, never from a decoded str.
"""

from __future__ import annotations

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
