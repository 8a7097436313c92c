"""What the site is built from: per-tag inputs and the one request that names them all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kvdiff.analyzers.concepts import hit_lines
from kvdiff.analyzers.source.repo import SourceFile

if TYPE_CHECKING:  # the analyze/model/annotation stages; only their data is used here
    from kvdiff.analyzers.analyze.analysis import Analysis
    from kvdiff.analyzers.compare.timeline import History
    from kvdiff.analyzers.model import Outcome
    from kvdiff.analyzers.present.annotations import Annotations
    from kvdiff.analyzers.present.site.code import LineStore
    from tree_sitter import Tree


@dataclass(frozen=True)
class FunctionSpan:
    """Where the function sits in one tag's file (real 1-based lines)."""

    start_line: int
    end_line: int
    signature: str
    errors: int  # parse errors inside it
    definitions: int = 1  # how many times the file defines the function (this is the first)


@dataclass(frozen=True)
class PageHit:
    """One concept hit, as the pages show it: the fields of a :class:`.ConceptHit` they read."""

    function: str  # where it was found (the target or a sibling function)
    start_line: int
    end_line: int
    condition: str
    condition_normalized: str
    branch_path: tuple[str, ...]
    moved: bool  # found in a sibling function
    calls: tuple[str, ...]


@dataclass(frozen=True)
class PageStatus:
    """One concept's status at a tag, as the pages show it (see :class:`.ConceptStatus`)."""

    concept: str
    state: str
    hits: tuple[PageHit, ...]
    note: str


@dataclass(frozen=True)
class PageAnalysis:
    """What the pages read of an :class:`~.analysis.Analysis`: the concepts' statuses. A fresh
    report and one served from the result cache both give the pages this (no syntax tree, no
    rule objects: a warm report imports neither the parser's nor the analyser's modules)."""

    concepts: tuple[PageStatus, ...]

    @classmethod
    def of(cls, analysis: Analysis) -> PageAnalysis:
        return cls(
            tuple(
                PageStatus(
                    s.concept,
                    s.state,
                    tuple(
                        PageHit(
                            h.function,
                            h.start_line,
                            h.end_line,
                            h.condition,
                            h.condition_normalized,
                            h.branch_path,
                            h.moved,
                            h.calls,
                        )
                        for h in s.hits
                    ),
                    s.note,
                )
                for s in analysis.concepts
            )
        )

    def line_concepts(self) -> dict[int, tuple[str, ...]]:
        """Real line -> ids of the concepts whose target-function hits cover it (rule order),
        as :meth:`.Analysis.line_concepts` gives it."""
        return hit_lines(self.concepts)


def analysis_span(analysis: Analysis) -> FunctionSpan:
    """Where the analysed function is, as the pages show it."""
    a = analysis
    return FunctionSpan(
        a.start_line, a.end_line, a.signature, len(a.errors), len(a.definitions) or 1
    )


@dataclass(frozen=True)
class TagInput:
    """Everything known about one tag: its source file, where the function is in it, and the
    analysis and model outcomes when a rule set / the model covers the function (``None`` /
    ``()`` otherwise)."""

    source: SourceFile
    span: FunctionSpan
    analysis: PageAnalysis | None = None
    outcomes: tuple[Outcome, ...] = ()
    # The file's syntax tree from the analysis (highlighting reuses it instead of parsing again).
    tree: Tree | None = field(default=None, compare=False, repr=False)
    # The file's highlighted lines and cross-references computed so far (from the result
    # cache, and filled further by the pages that show more of the file).
    lines: LineStore | None = field(default=None, compare=False, repr=False)

    def function_span(self) -> FunctionSpan:
        return self.span


@dataclass(frozen=True)
class SiteInputs:
    """Everything one site is made of. ``pairs`` name tags of ``inputs``; ``rules_note`` /
    ``model_note`` explain why concept / model panels are missing (empty when present).

    With ``history``, the site gains a timeline page of every distinct version; each version's
    first tag links to its tag page, and ``extra_inputs`` supply the pages of first tags that are
    not among ``inputs`` (they get a page but no place in the navigation or the matrices)."""

    function: str
    path: str
    inputs: Sequence[TagInput]
    pairs: Sequence[tuple[str, str]]
    strings: Mapping[str, str]
    lang: str
    annotations: Annotations | None = None
    rules_note: str = ""
    model_note: str = ""
    history: History | None = None
    extra_inputs: Sequence[TagInput] = ()
