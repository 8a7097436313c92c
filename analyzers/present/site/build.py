"""Assemble every page of the site from one :class:`.inputs.SiteInputs`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kvdiff.analyzers.present.site.code import SourceView
from kvdiff.analyzers.present.site.index import (
    concept_rows,
    concepts_known,
    model_rows,
    scenarios_run,
)
from kvdiff.analyzers.present.site.inputs import SiteInputs, TagInput
from kvdiff.analyzers.present.site.pair import PairContext, pair_page
from kvdiff.analyzers.present.site.question import question_page
from kvdiff.analyzers.present.site.safety import site_warnings
from kvdiff.analyzers.present.site.strings import HISTORY_FILENAME, fmt, pair_filename, tag_filename
from kvdiff.analyzers.present.site.tag import Notes, tag_page
from kvdiff.analyzers.present.site.views import IndexPage, Link, Nav, Site

if TYPE_CHECKING:
    from kvdiff.analyzers.present.site.history import HistoryPage


def _picker(si: SiteInputs, tags: tuple[str, ...]) -> tuple[tuple[str, tuple], ...]:
    pages = set(si.pairs)
    return tuple(
        (
            a,
            tuple(
                Link(pair_filename(a, b), f"{a} → {b}") if (a, b) in pages else None for b in tags
            ),
        )
        for a in tags
    )


def _nav(si: SiteInputs, question: bool, history: bool) -> Nav:
    strings = si.strings
    tags = tuple(dict.fromkeys(i.source.tag for i in si.inputs))
    order = {t: i for i, t in enumerate(tags)}
    # The header lists neighbours only; the picker reaches every pair.
    header = [(a, b) for a, b in si.pairs if order.get(b, -1) - order.get(a, -9) == 1]
    header += [p for p in si.pairs if p not in header and p not in _every_pair(tags)]
    return Nav(
        index=Link("index.html", strings["nav_index"]),
        question=Link("question.html", strings["nav_question"]) if question else None,
        tags=tuple(
            Link(tag_filename(t), t) for t in dict.fromkeys(i.source.tag for i in si.inputs)
        ),
        pairs=tuple(Link(pair_filename(a, b), f"{a} → {b}") for a, b in header),
        history=Link(HISTORY_FILENAME, strings["nav_history"]) if history else None,
        picker=_picker(si, tags) if len(si.pairs) > 1 else (),
        picker_tags=tags,
    )


def _every_pair(tags: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(a, b) for i, a in enumerate(tags) for b in tags[i + 1 :]}


def _view(inp: TagInput) -> SourceView:
    return SourceView(inp.source, inp.function_span(), inp.tree, inp.lines)


def _history(si: SiteInputs) -> HistoryPage | None:
    """The history page of a report with ``--history`` (its module is imported only then)."""
    if not si.history:
        return None
    from kvdiff.analyzers.present.site.history import history_page

    return history_page(si.history, si.function, si.path, si.strings)


def build_site(si: SiteInputs) -> Site:
    """All pages of the site (pure: no I/O)."""
    strings, function = si.strings, si.function
    views = {inp.source.tag: _view(inp) for inp in si.inputs}
    notes = Notes(
        si.rules_note, si.model_note, any(i.outcomes for i in (*si.inputs, *si.extra_inputs))
    )
    outcome_of = {(i.source.tag, o.scenario): o for i in si.inputs for o in i.outcomes}
    question = question_page(si.inputs, si.annotations, si.lang, strings, outcome_of)
    history = _history(si)
    nav = _nav(si, question is not None, history is not None)
    tag_pages, shown = [], {}
    for inp in si.inputs:
        page, shown[inp.source.tag] = tag_page(inp, views[inp.source.tag], function, strings, notes)
        tag_pages.append(page)
    # Versions the history links to that are not among the report's tags: pages, no nav entry.
    for inp in si.extra_inputs:
        if inp.source.tag not in views:
            view = _view(inp)
            tag_pages.append(tag_page(inp, view, function, strings, notes._replace(extra=True))[0])

    concepts, scenarios = concepts_known(si.inputs), scenarios_run(si.inputs)
    by_tag = {inp.source.tag: inp for inp in si.inputs}
    ctx = PairContext(function, si.annotations, si.lang, strings)
    pairs = tuple(
        pair_page(
            ctx,
            (by_tag[a], views[a], shown[a]),
            (by_tag[b], views[b], shown[b]),
            concepts,
            scenarios,
            (si.rules_note, si.model_note),
        )
        for a, b in si.pairs
    )
    index = IndexPage(
        filename="index.html",
        title=fmt(strings, "index_title", function=function, path=si.path),
        function=function,
        path=si.path,
        timeline=tuple(page.entry for page in tag_pages[: len(si.inputs)]),
        concept_rows=concept_rows(si.inputs, concepts, function, strings, si.lang),
        concept_note=si.rules_note,
        model_rows=model_rows(si.inputs, scenarios, outcome_of, strings),
        model_note=si.model_note,
        question=question,
    )
    return Site(
        warnings=site_warnings(function, si.path, [*si.inputs, *si.extra_inputs]),
        lang=si.lang,
        strings=strings,
        nav=nav,
        index=index,
        question=question,
        tags=tuple(tag_pages),
        pairs=pairs,
        history=history,
    )
