"""A function compared at two tags: its spans, one line diff per concept branch, the whole
function's line diff (built by ``jobs.diff``, worded by ``present.diff_view``)."""

from __future__ import annotations

from dataclasses import dataclass

from kvdiff.analyzers.compare.linediff import SideBySide
from kvdiff.analyzers.source.repo import SourceFile


@dataclass(frozen=True)
class Side:
    """One tag's file and the function's (or a branch's) real line span in it."""

    source: SourceFile
    start_line: int
    end_line: int


@dataclass(frozen=True)
class Section:
    """One concept's branch at both tags (None where the tag has no such branch)."""

    concept: str
    title: str
    a: Side | None
    b: Side | None
    function_a: str
    function_b: str
    diff: SideBySide


@dataclass(frozen=True)
class FunctionDiff:
    function: str
    path: str
    a: Side
    b: Side
    sections: tuple[Section, ...]
    whole: SideBySide
    rule_set: bool  # a rule set describes the function (else there are no sections)
