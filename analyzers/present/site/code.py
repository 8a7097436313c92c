"""One tag's file, highlighted once: code lines for pages, and the side-by-side diff blocks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from kvdiff.analyzers.compare.linediff import side_by_side
from kvdiff.analyzers.present.highlight import FileLines, Line, render_line
from kvdiff.analyzers.present.site.inputs import FunctionSpan
from kvdiff.analyzers.present.site.strings import fmt
from kvdiff.analyzers.present.site.views import CodeLine, DiffBlockView, DiffRowView
from kvdiff.analyzers.present.site.xref import FileRefs, Ref, Resolver, linked
from kvdiff.analyzers.source.repo import SourceFile
from markupsafe import Markup

if TYPE_CHECKING:
    from tree_sitter import Tree

# Unchanged runs longer than this fold into <details> on pair pages.
FOLD_EQUAL_ROWS = 8


@dataclass
class LineStore:
    """One file's highlighted lines (by chunk: first line -> lines, see :class:`.FileLines`)
    and the cross-references on the lines of those chunks (line -> refs; a line without any
    has no entry), as computed so far; ``added`` says whether this run computed any."""

    chunks: dict[int, tuple[Line, ...]] = field(default_factory=dict)
    refs: dict[int, tuple[Ref, ...]] = field(default_factory=dict)
    added: bool = False


class SourceView:
    """One tag's file, highlighted where it is shown (from ``tree``, the analysis's own parse,
    when there is one), and where the function is in it. With ``store``, the lines and
    cross-references it holds are taken from it, and what is computed here is added to it."""

    def __init__(
        self,
        source: SourceFile,
        span: FunctionSpan,
        tree: Tree | None = None,
        store: LineStore | None = None,
    ) -> None:
        self.source = source
        self.span = span
        self._store = store
        chunks = store.chunks if store is not None else None
        self.lines = FileLines(source.data, tree, chunks, self._filled if store else None)
        self._html: dict[tuple, Markup] = {}
        self._plain: dict[tuple[int, int], tuple[CodeLine, ...]] = {}
        # Trace views already built from this file, by (scenario, shown lines, excerpt or not).
        self.traces: dict[tuple[str, int, bool], object] = {}

    @cached_property
    def refs(self) -> FileRefs:
        """The file's gotos and calls with their targets (found once, on first use)."""
        return FileRefs(self.source.data, self.lines.tree)

    def _filled(self, first: int, last: int) -> None:
        """Lines ``first..last`` were highlighted here: keep their cross-references too."""
        assert self._store is not None
        self._store.added = True
        for n in range(first, last + 1):
            found = self.refs.on(n)
            if found:
                self._store.refs[n] = found

    def _refs_on(self, n: int) -> tuple[Ref, ...]:
        if self._store is not None and self.lines.chunk_of(n) in self._store.chunks:
            return self._store.refs.get(n, ())
        return self.refs.on(n)

    def html(self, n: int, changed: tuple = (), resolve: Resolver | None = None) -> Markup:
        """Line ``n`` highlighted, its ``changed`` ranges marked, its cross-links resolved
        (built once per distinct marks and links: the pages show a line several times)."""
        refs = self._refs_on(n) if resolve is not None else ()
        links = tuple(map(resolve, refs)) if refs else ()
        key = (n, changed, links)
        done = self._html.get(key)
        if done is None:
            ln = self.lines[n]
            done = render_line(ln.text, ln.spans, changed)
            if refs:
                done = linked(done, ln.text, refs, links)
            self._html[key] = done
        return done

    def code(
        self,
        start: int,
        end: int,
        concepts: Mapping[int, tuple[str, ...]] | None = None,
        traced: Mapping[int, tuple[str, ...]] | None = None,
        strings: Mapping[str, str] | None = None,
        resolve: Resolver | None = None,
    ) -> tuple[CodeLine, ...]:
        """Lines ``start..end`` with their concepts and traces in the gutter and hover text, and
        (with ``resolve``) their gotos and calls linked. Plain lines (none of those) are built
        once per range: a concept's branch at a tag is shown on every pair page with the tag."""
        plain = concepts is None and traced is None and strings is None and resolve is None
        if plain and (start, end) in self._plain:
            return self._plain[start, end]
        out = []
        get, html = self.lines.get, self.html  # a tag page lists hundreds of lines
        for n in range(start, end + 1):
            if get(n) is None:
                continue
            cs = concepts.get(n, ()) if concepts else ()
            ts = traced.get(n, ()) if traced else ()
            title = ""
            if (cs or ts) and strings is not None:
                title_parts = []
                if cs:
                    title_parts.append(fmt(strings, "hover_concepts", items=", ".join(cs)))
                if ts:
                    title_parts.append(fmt(strings, "hover_traced", items=", ".join(ts)))
                title = "; ".join(title_parts)
            out.append(CodeLine(n, html(n, (), resolve), cs, ts, title))
        if plain:
            self._plain[start, end] = tuple(out)
        return tuple(out)

    def function_texts(self) -> list[str]:
        return [self.lines[n].text for n in range(self.span.start_line, self.span.end_line + 1)]


def diff_blocks(
    fa: SourceView,
    fb: SourceView,
    resolve: tuple[Resolver | None, Resolver | None] = (None, None),
) -> tuple[tuple[DiffBlockView, ...], int, int, int]:
    """The function at two tags side by side: blocks, and lines added / removed / changed;
    ``resolve`` links each side's gotos and calls."""
    sbs = side_by_side(
        fa.function_texts(), fa.span.start_line, fb.function_texts(), fb.span.start_line
    )
    # Thousands of rows per site: one loop, the two sides' html looked up once, no side marks
    # but on changed rows, one empty Markup for every filler.
    html_a, html_b = fa.html, fb.html
    resolve_a, resolve_b = resolve
    blocks = []
    for block in sbs.blocks():
        rows = []
        for row in block.rows:
            left, right, marked = row.left, row.right, row.kind == "change"
            lh = html_a(left.line, left.changed if marked else (), resolve_a) if left else _NONE
            rh = html_b(right.line, right.changed if marked else (), resolve_b) if right else _NONE
            ln, rn = (left.line if left else None), (right.line if right else None)
            rows.append(DiffRowView(row.kind, ln, lh, rn, rh))
        collapse = block.kind == "equal" and len(rows) > FOLD_EQUAL_ROWS
        blocks.append(DiffBlockView(kind=block.kind, rows=tuple(rows), collapse=collapse))
    return tuple(blocks), sbs.added, sbs.removed, sbs.changed


_NONE = Markup("")  # a filler's side
