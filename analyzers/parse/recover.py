"""Function definitions tree-sitter cannot see in the file as written, found in a shadow copy.

Three kernel shapes defeat the C grammar at file level:

* ``SYSCALL_DEFINE6(move_pages, pid_t, pid, …) { … }`` (and ``COMPAT_SYSCALL_DEFINEn``): a macro
  call followed by a block. The definition is named after the syscall (``move_pages``), with the
  kernel's symbol (``sys_move_pages``, ``compat_sys_move_pages``) as an alias.
* a header with an attribute macro the grammar does not know, ``pte_t * fastcall
  get_locked_pte(…)``: an ERROR node followed by a block.
* ``#if`` arms that split a function's statements so that the rest of the file is one ERROR.

The shadow has the same length and line breaks as the file: such a header is rewritten in place
(``long move_pages()``, ``int get_locked_pte(…)``), and the ``#if`` groups that are not clean
preprocessor nodes keep only the arm an all-symbols-defined configuration takes. Definitions
are read from the shadow's tree only where the real tree has none; their text, signature and
lines come from the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kvdiff.analyzers.parse import ppconfig
from kvdiff.analyzers.parse.cparse import parse_c
from tree_sitter import Node, Tree

_SYSCALL = re.compile(r"\A(?:[A-Z0-9]+_)?SYSCALL(?:32)?_DEFINE\d+\Z")
_SYSCALL_HEADER = re.compile(rb"\s*((?:[A-Z0-9]+_)?SYSCALL(?:32)?_DEFINE\d+)\s*\(\s*([A-Za-z_]\w*)")
_NAME_BEFORE_PAREN = re.compile(rb"([A-Za-z_]\w*)\s*\Z")
_HEADER_START = re.compile(rb"[;}{]|\*/|^[ \t]*#[^\n]*$", re.M)
_CONTAINERS = ("translation_unit", "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif")


@dataclass(frozen=True)
class Header:
    """A rewritten definition header: bytes ``[start, end)`` of the file, the name it defines,
    the kernel symbols it is also known by, and why it needed a rewrite."""

    start: int
    end: int
    name: str
    aliases: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Shadow:
    headers: dict[int, Header]  # by the start byte of the definition's block
    data: bytes  # headers rewritten (directives intact): what a definition is parsed from
    tree: Tree  # the parse of ``data`` with split #if groups resolved as well
    resolved: bool  # whether any #if group was resolved


def top_level(root: Node) -> list[Node]:
    """Nodes at file level: children of the root and of file-level ``#if`` arms and ERRORs."""
    out: list[Node] = []
    stack = [root]
    while stack:
        cur = stack.pop()
        for child in cur.children:
            out.append(child)
            if child.type in _CONTAINERS or child.is_error:
                stack.append(child)
    return sorted(out, key=lambda n: n.start_byte)


def is_nested(node: Node) -> bool:
    """Inside a block or another definition: a loop macro's block (``for_each_online_node(nid)
    {``) that the grammar took for a definition, never a function of its own."""
    parent = node.parent
    while parent is not None:
        if parent.type in ("compound_statement", "function_definition"):
            return True
        parent = parent.parent
    return False


def syscall(header: bytes) -> tuple[str, tuple[str, ...]] | None:
    """(syscall name, kernel symbols) of a ``SYSCALL_DEFINEn(name, …)`` header, else None."""
    m = _SYSCALL_HEADER.match(header)
    if m is None:
        return None
    macro, name = m.group(1).decode(), m.group(2).decode()
    return name, (("compat_sys_" if macro.startswith("COMPAT_") else "sys_") + name,)


def _header(data: bytes, prev: Node, block: Node) -> Header | None:
    """The header ``prev`` gives ``block``, when it is one of the shapes above."""
    if data[prev.end_byte : block.start_byte].strip():
        return None
    text = data[prev.start_byte : prev.end_byte].rstrip()
    if not text.endswith(b")") or not (prev.is_error or prev.type == "expression_statement"):
        return None
    depth, i = 0, len(text) - 1
    while i >= 0:  # the '(' that opens the last parenthesised list
        depth += {ord(")"): 1, ord("("): -1}.get(text[i], 0)
        if depth == 0:
            break
        i -= 1
    m = _NAME_BEFORE_PAREN.search(text[: max(i, 0)])
    if i < 0 or m is None:
        return None
    name = m.group(1).decode()
    starts = [s.end() for s in _HEADER_START.finditer(text, 0, m.start())]
    start = prev.start_byte + (starts[-1] if starts else 0)
    start += len(data[start:]) - len(data[start:].lstrip())
    if _SYSCALL.match(name):
        found = syscall(data[start : prev.end_byte])
        return None if found is None else Header(start, prev.end_byte, *found, name)
    if prev.type != "ERROR" or not start < prev.start_byte + m.start():
        return None
    return Header(start, prev.end_byte, name, (), "header macro")


def _rewrite(out: bytearray, data: bytes, h: Header) -> bool:
    name_at = data.find(h.name.encode(), h.start, h.end)
    if h.reason == "header macro":
        # keep the name and its parameters; the return type and attributes become "int"
        line_end = data.find(b"\n", h.start, name_at)
        room = (line_end if line_end >= 0 else name_at) - h.start
        if room < 4:
            return False
        ppconfig.blank(out, h.start, name_at)
        out[h.start : h.start + 3] = b"int"
        return True
    new = f"long {h.name}()".encode()
    line_end = data.find(b"\n", h.start, h.end)
    if len(new) > (line_end if line_end >= 0 else h.end) - h.start:
        return False
    ppconfig.blank(out, h.start, h.end)
    out[h.start : h.start + len(new)] = new
    return True


_CACHE: dict[bytes, Shadow | None] = {}
_CACHE_SIZE = 8


def shadow(data: bytes, root: Node) -> Shadow | None:
    """The shadow of a file (``root``: its parse) whose parse has errors, or None when it
    would change nothing. The last few are kept: every lookup in a file asks again."""
    if data not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]
        _CACHE[data] = _shadow(data, root) if root.has_error else None
    return _CACHE[data]


def _shadow(data: bytes, root: Node) -> Shadow | None:
    out = bytearray(data)
    headers: dict[int, Header] = {}
    nodes = top_level(root)
    by_end: dict[int, list[Node]] = {}
    for n in nodes:
        if n.is_named or n.is_error:
            by_end.setdefault(n.end_byte, []).append(n)
    for block in nodes:
        if block.type != "compound_statement":
            continue
        end = len(data[: block.start_byte].rstrip())
        # outermost first: an ERROR holds the pieces of the header it could not parse
        for prev in sorted(by_end.get(end, ()), key=lambda n: n.start_byte):
            h = _header(data, prev, block)
            if h is not None:
                if _rewrite(out, data, h):
                    headers[block.start_byte] = h
                break
    rewritten = bytes(out)
    groups = _split_groups(data, root)
    if groups:
        out = ppconfig.resolved_bytes(rewritten, groups, {})
    if not headers and not groups:
        return None
    return Shadow(headers, rewritten, parse_c(bytes(out)).tree, bool(groups))


def _split_groups(data: bytes, root: Node) -> list[ppconfig.Group]:
    grouped = ppconfig.build_groups(ppconfig.scan_directives(data, 0, len(data)))
    if not grouped:
        return []
    return [g for g in ppconfig.walk_groups(grouped) if not _clean_node(data, root, g)]


def _clean_node(data: bytes, root: Node, group: ppconfig.Group) -> bool:
    """Whether an error-free ``#if``/``#ifdef`` node of the tree spans the group's rows.

    Such a node starts at the group's first ``#`` (leading blanks are not part of a node), so
    it is that byte's innermost node or one of its ancestors: a walk up from there, instead of
    a query over the whole tree."""
    first = group.arms[0].directive
    hash_at = data.index(b"#", first.start_byte, first.end_byte)
    node: Node | None = root.descendant_for_byte_range(hash_at, hash_at + 1)
    while node is not None and node.start_byte == hash_at:
        rows = (node.start_point.row, node.end_point.row)
        spans = rows == (group.first_line, group.endif.line)
        if spans and node.type in ("preproc_if", "preproc_ifdef") and not node.has_error:
            return True
        node = node.parent
    return False


_GROUPS: dict[bytes, list[ppconfig.Group]] = {}
_COMMENT_OR_SPACE = re.compile(rb"(?:\s+|/\*.*?\*/|//[^\n]*)*", re.S)


def header_start(data: bytes, start: int, body_start: int) -> int:
    """Where a definition starts when an ``#if`` group straddles its header (``#if …`` one
    header ``#else`` another ``#endif`` then the body): at the first arm's code, as ctags
    has it; else ``start``."""
    if b"#" not in data[start:body_start]:
        return start
    if data not in _GROUPS:
        if len(_GROUPS) >= _CACHE_SIZE:
            del _GROUPS[next(iter(_GROUPS))]
        found = ppconfig.build_groups(ppconfig.scan_directives(data, 0, len(data)))
        _GROUPS[data] = ppconfig.walk_groups(found or [])
    for g in _GROUPS[data]:
        first = g.arms[0].directive
        if first.start_byte < start < g.endif.start_byte < body_start:
            code = _COMMENT_OR_SPACE.match(data, first.end_byte).end()
            return min(start, code)
    return start
