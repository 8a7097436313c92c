"""Cross-links in the code: ``goto out`` to its label, a call to its definition in the same file.

The definitions come from the grammar's own tags query (``tree_sitter_c.TAGS_QUERY``, the one
GitHub's code navigation uses), kept to real definitions (a prototype declares, it does not
define). Labels are matched within the function that holds the ``goto``, as C scopes them. A call
to a function the file does not define can link to Elixir at the same tag (out of the tab order:
there are many). The links go into a line's highlighted HTML after highlighting, at the
characters the parse tree names, and only where the text they wrap is exactly that identifier
(a line whose HTML does not line up, e.g. one with marked invisible characters, stays unlinked).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Mapping
from functools import cached_property, lru_cache
from typing import NamedTuple

import tree_sitter_c
from kvdiff.analyzers.versions import parse_version
from markupsafe import Markup, escape
from tree_sitter import Node, Tree

_LABELS = "(labeled_statement label: (statement_identifier) @label)"
_GOTOS = "(goto_statement label: (statement_identifier) @goto)"
_CALLS = "(call_expression function: (identifier) @call)"
# Declarators between a function_definition and the function_declarator that names it.
_WRAPPERS = {"pointer_declarator", "parenthesized_declarator", "attributed_declarator"}
ELIXIR = "https://elixir.bootlin.com/linux"
# Elixir's Linux history starts at the first git tag; older releases are not on it.
ELIXIR_FIRST = "v2.6.11"


class Ref(NamedTuple):
    """One identifier to link: characters [start, end) of its line, what it names and where.
    ``kind`` is "label" (a goto's target), "definition" (a call of a function this file
    defines) or "external" (a call of a function defined elsewhere; ``target`` is 0). A
    tuple, like the highlighter's spans: a file has thousands, and the result cache gives
    them back on every warm report."""

    start: int
    end: int
    kind: str
    name: str
    target: int


def _enclosing_function(node: Node) -> Node | None:
    cur = node.parent
    while cur is not None and cur.type != "function_definition":
        cur = cur.parent
    return cur


def _is_definition(declarator: Node) -> bool:
    cur = declarator.parent
    while cur is not None and cur.type in _WRAPPERS:
        cur = cur.parent
    return cur is not None and cur.type == "function_definition"


class FileRefs:
    """The cross-references of one file, found once, handed out per line (the parser is
    imported here, on first use: a warm report's references come from the result cache)."""

    def __init__(self, data: bytes, tree: Tree | None = None) -> None:
        from kvdiff.analyzers.parse.cparse import parse_c

        self.data = data
        self.tree = tree if tree is not None else parse_c(data).tree
        self.line_starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]

    def _line_col(self, node: Node) -> tuple[int, int, int]:
        """(1-based line, start char, end char) of a one-line node."""
        row, col = node.start_point
        raw = self.data[self.line_starts[row] : self.line_starts[row] + node.end_point[1]]
        start = len(raw[:col].decode("utf-8", errors="replace"))
        return row + 1, start, start + len(raw[col:].decode("utf-8", errors="replace"))

    @cached_property
    def definitions(self) -> dict[str, int]:
        """Function name -> line of its first definition in the file (tags query)."""
        from kvdiff.analyzers.parse.cparse import captures

        found: dict[str, int] = {}
        tagged = captures(tree_sitter_c.TAGS_QUERY, self.tree.root_node)
        for node in tagged.get("definition.function", []):
            name = node.child_by_field_name("declarator")
            if name is not None and name.type == "identifier" and _is_definition(node):
                text = name.text.decode("utf-8", errors="replace") if name.text else ""
                line = name.start_point.row + 1
                found[text] = min(found.get(text, line), line)
        return found

    @cached_property
    def by_line(self) -> dict[int, tuple[Ref, ...]]:
        from kvdiff.analyzers.parse.cparse import captures

        root = self.tree.root_node
        labels: dict[tuple[int, bytes], int] = {}
        for node in captures(_LABELS, root).get("label", []):
            fn = _enclosing_function(node)
            if fn is not None:
                labels.setdefault((fn.start_byte, node.text or b""), node.start_point.row + 1)
        out: dict[int, list[Ref]] = {}
        for node in captures(_GOTOS, root).get("goto", []):
            fn = _enclosing_function(node)
            target = labels.get((fn.start_byte, node.text or b"")) if fn is not None else None
            if target is not None:
                self._add(out, node, "label", target)
        defs = self.definitions
        for node in captures(_CALLS, root).get("call", []):
            name = (node.text or b"").decode("utf-8", errors="replace")
            self._add(out, node, "definition" if name in defs else "external", defs.get(name, 0))
        return {n: tuple(sorted(refs, key=lambda r: r.start)) for n, refs in out.items()}

    def _add(self, out: dict[int, list[Ref]], node: Node, kind: str, target: int) -> None:
        if node.start_point.row != node.end_point.row:
            return
        line, start, end = self._line_col(node)
        name = (node.text or b"").decode("utf-8", errors="replace")
        out.setdefault(line, []).append(Ref(start, end, kind, name, target))

    def on(self, line: int) -> tuple[Ref, ...]:
        return self.by_line.get(line, ())


# Where a ref points on a given page: (href, in the tab order) or None for no link.
Resolver = Callable[[Ref], "tuple[str, bool] | None"]


def on_elixir(tag: str) -> bool:
    """Whether Elixir has ``tag`` (a release tag from v2.6.11 on; not a local branch name)."""
    parsed, first = parse_version(tag), parse_version(ELIXIR_FIRST)
    return parsed is not None and first is not None and parsed >= first


def resolver(
    tag: str, path: str, here: Mapping[int, str], elsewhere: Mapping[int, str] | None = None
) -> Resolver:
    """Links for one version's code on one page. ``here`` maps the lines this page shows to
    their anchors (``#L12``, ``#A12``); ``elsewhere`` those another page shows (``tag-….html#L12``).
    Anything else goes to Elixir at ``tag`` when Elixir has it."""
    elixir = on_elixir(tag)

    def resolve(ref: Ref) -> tuple[str, bool] | None:
        if ref.kind in ("label", "definition"):
            href = here.get(ref.target) or (elsewhere or {}).get(ref.target)
            if href:
                return href, True
            if elixir:
                return f"{ELIXIR}/{tag}/source/{path}#L{ref.target}", True
            return None
        return (f"{ELIXIR}/{tag}/C/ident/{ref.name}", False) if elixir else None

    return resolve


_PIECE = re.compile(r"(<[^>]*>)|(&#?\w+;)|([^<&]+)")


def link_line(html: Markup, text: str, refs: tuple[Ref, ...], resolve: Resolver) -> Markup:
    """``html`` (one highlighted line of ``text``) with each resolvable ref wrapped in a link."""
    if not refs:
        return html
    return linked(html, text, refs, tuple(resolve(ref) for ref in refs))


@lru_cache(maxsize=1 << 14)
def linked(
    html: Markup, text: str, refs: tuple[Ref, ...], links: tuple[tuple[str, bool] | None, ...]
) -> Markup:
    """:func:`link_line` once each ref's link is known (the same line on several pages often
    gets the same links: built once)."""
    cuts: dict[int, str] = {}
    ends: dict[int, str] = {}
    for ref, link in zip(refs, links, strict=True):
        if link is None or text[ref.start : ref.end] != ref.name:
            continue
        href, tab = link
        cls = "xr" if ref.kind != "external" else "xr ext"
        extra = "" if tab else ' tabindex="-1"'
        # What Markup('<a class="{}" href="{}"{}>').format(cls, href, Markup(extra)) gives,
        # without string.Formatter (a third of this function's time): only href needs escaping.
        cuts[ref.start] = f'<a class="{cls}" href="{escape(href)}"{extra}>'
        ends[ref.end] = "</a>"
    if not cuts:
        return html
    events = sorted(cuts.keys() | ends.keys())
    out: list[str] = []
    pos, open_at = 0, None
    for m in _PIECE.finditer(str(html)):
        tag, entity, plain = m.groups()
        if tag is not None:
            if pos in ends and open_at is not None:
                out.append(ends[pos])
                open_at = None
            if open_at is not None:
                return html  # a link would cross a tag: leave the line as it is
            out.append(tag)
            continue
        piece = entity or plain
        size = 1 if entity else len(plain)
        # Before each character: close a link ending there, open one starting there.
        done = 0
        for at in events[bisect_left(events, pos) : bisect_left(events, pos + size)]:
            out.append(piece[done : at - pos] if not entity else "")
            done = at - pos
            if at in ends and open_at is not None:
                out.append(ends[at])
                open_at = None
            if at in cuts:
                out.append(cuts[at])
                open_at = at
        out.append(piece[done:] if not entity else piece)
        pos += size
    if pos in ends and open_at is not None:
        out.append(ends[pos])
        open_at = None
    if pos != len(text) or open_at is not None:
        return html  # the HTML does not spell the line one character per character
    return Markup("".join(out))
