"""The repetitive parts of the pages, built in Python: code rows, diff rows, trace steps and
PTE pictures.

A site shows thousands of code rows; the template macros that laid them out cost a call and an
escape per value per row. These give the templates whole ``<tbody>`` (or ``<ol>``, ``<figure>``)
contents as :class:`Markup`, byte for byte what the macros wrote (``templates/macros.html.j2``
and ``pair.html.j2``; ``tests/test_outputs_identity.py`` holds them to it). Every value from a
view is escaped exactly as jinja2's autoescape escapes it (:func:`markupsafe.escape`); a line's
``html`` is Markup already (built once per line and marks, :meth:`.SourceView.html`). What
recurs across pages is built once: a concept's rows at a tag (on every pair page with the tag),
a trace's summary, a PTE value's picture.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from kvdiff.analyzers.present.pte_view import PteField
from kvdiff.analyzers.present.site.views import CodeLine, DiffRowView, StepView, TraceView
from kvdiff.analyzers.present.textsafety import escape_text
from markupsafe import Markup, escape

_GAP = (
    '<tr class="gap"><th scope="row" class="ln">…</th><td class="gut"></td><td class="src"></td>'
    "</tr>\n"
)


def _e(value: object) -> str:
    """``str(markupsafe.escape(value))``, quicker for the plain numbers and strings of views."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return escape_text(value)  # type: ignore[arg-type]
    return str(escape(value))


class RowBuilder:
    """Rows for one language's pages (the labels come from its UI strings), remembered."""

    def __init__(self, strings: Mapping[str, str]) -> None:
        self._strings = strings
        self._traced = _e(strings["legend_traced"])
        self._step_line = strings["trace_line"]
        self._step_taken = (_e(strings["trace_not_taken"]), _e(strings["trace_taken"]))
        self._insert = _e(strings["diff_kind_insert"])
        self._delete = _e(strings["diff_kind_delete"])
        self._table_head = (
            '<table class="code">\n<caption class="vh">{}</caption>\n'
            f'<thead><tr><th scope="col" class="ln">{_e(strings["line_number"])}</th>'
            f'<th scope="col" class="gut">{_e(strings["gutter_concept"])}</th>'
            f'<th scope="col">{_e(strings["code"])}</th></tr></thead>\n<tbody>\n'
        )
        self._summaries: dict[TraceView, Markup] = {}
        self._code: dict[bool, dict[CodeLine, str]] = {True: {}, False: {}}
        # Whole tables by the identity of their lines (kept alive here, so ids stay unique).
        self._tables: dict[tuple[int, bool], tuple[Sequence[CodeLine], Markup]] = {}
        self._pictures: dict[tuple[tuple[PteField, ...], str, str], Markup] = {}

    def summary(self, macro: Callable[[TraceView], Markup], tr: TraceView) -> Markup:
        """``trace_summary(tr)`` (the macro, passed in), rendered once per distinct summary: a
        scenario at a tag is summed up on its tag page and on every pair page with that tag.
        The macro reads the UI strings and ``tr``, but not its steps, excerpt or link, which
        differ from page to page and are left out of the key."""
        key = replace(tr, steps=(), excerpt=(), href="")
        done = self._summaries.get(key)
        if done is None:
            done = self._summaries[key] = macro(tr)
        return done

    def code_table(self, lines: Sequence[CodeLine], anchors: bool, caption: str) -> Markup:
        """A whole code table: its caption and head, and :meth:`code_rows` (what the template
        macro that laid it out wrote; a macro call costs more than the table's head)."""
        head = self._table_head.format(_e(caption))
        # Joined as plain text: Markup's + would escape the head.
        return Markup("".join((head, self.code_rows(lines, anchors), "</tbody>\n</table>\n")))

    def code_rows(self, lines: Sequence[CodeLine], anchors: bool) -> Markup:
        """The ``<tbody>`` rows of a code table (``anchors``: rows and numbers carry ``#L``).
        A row is built once: a concept's lines at a tag are shown on every pair page with it."""
        table = self._tables.get((id(lines), anchors))
        if table is not None and table[0] is lines:
            return table[1]  # the same lines (a concept's branch on another pair page)
        memo = self._code[anchors]
        out = []
        for line in lines:
            row = memo.get(line)
            if row is None:
                row = memo[line] = self._code_row(line, anchors)
            out.append(row)
        done = Markup("".join(out))
        self._tables[id(lines), anchors] = (lines, done)
        return done

    def picture(self, fields: tuple[PteField, ...], label: str, value: str) -> Markup:
        """A PTE value's picture: its bit fields as a strip and as a table (``value`` the value
        in hex, ``label`` its caption). Built once per distinct arguments: many scenarios
        start from the same PTE."""
        key = (fields, label, value)
        done = self._pictures.get(key)
        if done is None:
            done = self._pictures[key] = Markup(self._picture(fields, label, value))
        return done

    def _picture(self, fields: tuple[PteField, ...], label: str, value: str) -> str:
        t = self._strings
        strip, rows = [], []
        for f in fields:
            name, on, hi = _e(f.field), " on" if f.set else "", _e(f.hi)
            strip.append(
                f'<span class="bf bf-{name}{on}" style="flex-grow: {_e(f.width)}">'
                f"<small>{hi}</small></span>"
            )
            bits = f"{hi}–{_e(f.lo)}" if f.hi != f.lo else hi
            small = f" <small>({_e(f.bits)})</small>" if 1 < f.width <= 6 else ""
            rows.append(
                f'<tr class="bf-{name}{on}"><td class="bitno">{bits}</td><th scope="row">'
                f'<span class="sw bf bf-{name}"></span> {_e(t["pte_f_" + f.field])}</th>'
                f"<td><code>{_e(f.shown)}</code>{small}</td></tr>\n"
            )
        return (
            '<figure class="pte">\n'
            f"<figcaption>{_e(label)} <code>{_e(value)}</code></figcaption>\n"
            f'<div class="bitstrip" aria-hidden="true">{"".join(strip)}</div>\n'
            '<table class="ptebits">\n'
            f'<thead><tr><th scope="col">{_e(t["pte_bits"])}</th><th scope="col">'
            f'{_e(t["pte_field"])}</th><th scope="col">{_e(t["pte_value"])}</th></tr></thead>\n'
            f"<tbody>\n{''.join(rows)}</tbody>\n</table>\n</figure>\n"
        )

    def _code_row(self, line: CodeLine, anchors: bool) -> str:
        if line.gap:
            return _GAP
        number = _e(line.number)
        cls = (
            ("has-concept" if line.concepts else "")
            + (" traced" if line.traced else "")
            + (" mark-" + line.mark if line.mark else "")
        )
        ident = f' id="L{number}"' if anchors else ""
        title = f' title="{_e(line.title)}"' if line.title else ""
        shown = f'<a href="#L{number}" tabindex="-1">{number}</a>' if anchors else number
        concepts = map(_e, line.concepts)
        gutter = "".join(f'<span class="cg cg-{c}" data-c="{c}"></span>' for c in concepts)
        if line.traced:
            gutter += (
                f'<span class="tr" title="{_e(line.title)}"><span class="vh">{self._traced}'
                "</span></span>"
            )
        return (
            f'<tr{ident} class="{_e(cls)}"{title}>\n'
            f'<th scope="row" class="ln">{shown}</th>\n'
            f'<td class="gut">{gutter}</td>\n'
            f'<td class="src"><code>{line.html}</code></td>\n'
            "</tr>\n"
        )

    def steps(self, steps: Sequence[StepView]) -> Markup:
        """The items of a trace's list of steps (``macros.html.j2`` ``trace_steps``)."""
        out = []
        for s in steps:
            if s.href:
                text = _e(self._step_line.format(line=s.line))
                where = f'<a href="{_e(s.href)}" tabindex="-1">{text}</a>'
            else:
                where = f"{_e(s.file)}:{_e(s.line)}"
            concept = _e(s.concept)
            out.append(
                f'<li class="{"taken" if s.taken else "not-taken"}">{where}'
                f'<span class="cg cg-{concept}">{concept}</span> <code>{_e(s.condition)}</code>'
                f" — {self._step_taken[bool(s.taken)]}</li>\n"
            )
        return Markup("".join(out))

    def diff_rows(self, rows: Sequence[DiffRowView], a_href: str, b_href: str) -> Markup:
        """The rows of one block of a pair page's diff (``a_href`` / ``b_href``: the two tag
        pages, which the line numbers link to)."""
        a, b = _e(a_href), _e(b_href)
        return Markup("".join([self._diff_row(row, a, b) for row in rows]))

    def _diff_row(self, r: DiffRowView, a_href: str, b_href: str) -> str:
        if r.left_number is not None:
            n = _e(r.left_number)
            left = (
                f'<td class="ln old-ln" id="A{n}"><a href="{a_href}#L{n}" tabindex="-1">{n}</a>'
                f'</td><td class="src old"><code>{r.left_html}</code></td>\n'
            )
        else:
            left = (
                f'<td class="ln old-ln filler"><span class="vh">{self._insert}</span></td>'
                '<td class="src old filler"></td>\n'
            )
        if r.right_number is not None:
            n = _e(r.right_number)
            right = (
                f'<td class="ln new-ln" id="B{n}"><a href="{b_href}#L{n}" tabindex="-1">{n}</a>'
                f'</td><td class="src new"><code>{r.right_html}</code></td>\n'
            )
        else:
            right = (
                f'<td class="ln new-ln filler"><span class="vh">{self._delete}</span></td>'
                '<td class="src new filler"></td>\n'
            )
        return f'<tr class="row-{_e(r.kind)}">\n{left}{right}</tr>\n'
