"""The site's page view types: what each page shows, as plain frozen dataclasses.

The page builders (:mod:`.index`, :mod:`.tag`, :mod:`.pair`, :mod:`.question`, :mod:`.history`)
fill them; :mod:`kvdiff.analyzers.present.render` hands them to the templates. Source-derived
text meant to be shown as code is :class:`markupsafe.Markup` made only by
:func:`kvdiff.analyzers.present.highlight.render_line`, which escapes it first; every other
``str`` is escaped by the template engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kvdiff.analyzers.present.annotations import Card
from kvdiff.analyzers.present.pte_view import PteField
from markupsafe import Markup

# The history page's views are in .history with their builder: only a report with --history
# makes them, and every class defined here costs each report's start half a millisecond.
if TYPE_CHECKING:
    from kvdiff.analyzers.present.site.history import HistoryPage


@dataclass(frozen=True)
class Link:
    """A link: where it goes and its text."""

    href: str
    text: str


@dataclass(frozen=True)
class CodeLine:
    """One row of a code listing: the line's number and HTML, and its gutter marks."""

    number: int
    html: Markup
    concepts: tuple[str, ...] = ()
    traced: tuple[str, ...] = ()  # scenarios whose trace goes through this line
    title: str = ""  # hover text: concepts and traces
    mark: str = ""  # "" | "taken" | "not-taken" (model panel excerpts)
    gap: bool = False  # a "…" row standing for skipped lines


@dataclass(frozen=True)
class TimelineEntry:
    """One tag on the index page's timeline: where the function is in its file."""

    tag: str
    origin: str
    blob_id: str
    start_line: int
    end_line: int
    href: str
    signature: str
    errors: int


@dataclass(frozen=True)
class ConceptCell:
    """One cell of the concept matrix: a concept's state at a tag, with links."""

    tag: str
    state: str
    label: str
    links: tuple[Link, ...]
    note: str = ""


@dataclass(frozen=True)
class ConceptRow:
    """One row of the concept matrix: a concept across the tags."""

    concept: str
    title: str
    summary: str
    cells: tuple[ConceptCell, ...]


@dataclass(frozen=True)
class ModelCell:
    """One cell of the model matrix: a scenario's outcome at a tag."""

    tag: str
    applicable: bool
    kind: str
    text: str  # decoded PTE after, or the reason it does not apply
    ret: str
    href: str


@dataclass(frozen=True)
class ModelRow:
    """One row of the model matrix: a scenario across the tags."""

    scenario: str
    cells: tuple[ModelCell, ...]


@dataclass(frozen=True)
class StepView:
    """One step of a scenario's trace: the branch taken or not, and where."""

    concept: str
    condition: str
    file: str
    line: int
    taken: bool
    href: str  # "" when the line is not shown on our pages


@dataclass(frozen=True)
class TraceView:
    """One scenario at one tag: the model's outcome, its trace and an excerpt."""

    tag: str
    scenario: str
    anchor: str
    applicable: bool
    reason: str
    pte_before: str
    pte_after: str
    decoded_before: str
    decoded_after: str
    kind_after: str
    ret: str
    side_effects: tuple[str, ...]
    next_fault: str
    steps: tuple[StepView, ...]
    excerpt: tuple[CodeLine, ...] = ()
    href: str = ""  # the section on the tag page
    bits_before: tuple[PteField, ...] = ()  # the PTE values' labelled bit fields
    bits_after: tuple[PteField, ...] = ()


@dataclass(frozen=True)
class PanelSide:
    """One tag's side of a concept panel: the concept's state, code and card."""

    tag: str
    state: str
    state_label: str
    where: str  # function and nesting path, in words
    lines: tuple[CodeLine, ...]
    href: str
    card: Card | None  # the authored annotation card, when one applies


@dataclass(frozen=True)
class ConceptPanel:
    """A concept at two tags, side by side, with the computed facts."""

    concept: str
    title: str
    anchor: str
    a: PanelSide
    b: PanelSide
    facts: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class DiffRowView:
    """One row of the side-by-side diff: a line of each tag (or a filler)."""

    kind: str
    left_number: int | None
    left_html: Markup
    right_number: int | None
    right_html: Markup


@dataclass(frozen=True)
class DiffBlockView:
    """A run of diff rows of one kind (long unchanged runs fold)."""

    kind: str  # "equal" | "change"
    rows: tuple[DiffRowView, ...]
    collapse: bool  # long unchanged runs are folded into <details>


@dataclass(frozen=True)
class ModelPairRow:
    """One scenario at both tags of a pair page."""

    scenario: str
    anchor: str
    a: TraceView | None
    b: TraceView | None


@dataclass(frozen=True)
class Nav:
    """Links every page carries: home, question, tags and pairs."""

    index: Link
    question: Link | None
    tags: tuple[Link, ...]
    pairs: tuple[Link, ...]  # the header's: consecutive tags and --pairs
    history: Link | None = None
    # The pair picker: one row per older tag, one cell per newer tag (None: no page).
    picker: tuple[tuple[str, tuple[Link | None, ...]], ...] = ()
    picker_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TagPage:
    """The whole function at one tag: code, concepts in the gutter, traces."""

    filename: str
    title: str
    tag: str
    entry: TimelineEntry
    lines: tuple[CodeLine, ...]
    elsewhere: tuple[tuple[str, tuple[CodeLine, ...]], ...]  # (function, lines) of moved hits
    traces: tuple[TraceView, ...]
    concept_note: str
    model_note: str
    history_note: str = ""  # set on pages made only because the history links to them
    safety_note: str = ""  # bidirectional control characters in the shown code (Trojan Source)


@dataclass(frozen=True)
class PairPage:
    """Two tags side by side: concept panels, the model at both, the line diff."""

    filename: str
    title: str
    a: str
    b: str
    a_href: str
    b_href: str
    blocks: tuple[DiffBlockView, ...]
    added: int
    removed: int
    changed: int
    panels: tuple[ConceptPanel, ...]
    concept_note: str
    model_rows: tuple[ModelPairRow, ...]
    model_note: str


@dataclass(frozen=True)
class QuestionFact:
    """One fact of the question page's answer, with its link."""

    tag: str
    text: str
    href: str


@dataclass(frozen=True)
class QuestionPage:
    """The question the annotations ask, and what the tags answer."""

    filename: str
    title: str
    paragraphs: tuple[str, ...]
    answer: str
    migration_facts: tuple[QuestionFact, ...]
    model_facts: tuple[QuestionFact, ...]


@dataclass(frozen=True)
class IndexPage:
    """The index page: the timeline and the concept and model matrices."""

    filename: str
    title: str
    function: str
    path: str
    timeline: tuple[TimelineEntry, ...]
    concept_rows: tuple[ConceptRow, ...]
    concept_note: str
    model_rows: tuple[ModelRow, ...]
    model_note: str
    question: QuestionPage | None


@dataclass(frozen=True)
class Site:
    """Every page of one language's site, and what the report warns about."""

    lang: str
    strings: Mapping[str, str] = field(compare=False)
    nav: Nav
    index: IndexPage
    question: QuestionPage | None
    tags: tuple[TagPage, ...]
    pairs: tuple[PairPage, ...]
    history: HistoryPage | None = None
    warnings: tuple[str, ...] = ()  # for stderr: functions defined twice, bidi controls
    # The same site in other languages (``--lang en,ko``): written as NAME.<lang>.html beside
    # this one, every page of each with a language switch.
    translations: tuple[Site, ...] = ()
