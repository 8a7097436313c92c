"""The history page: one row per distinct version of the function over every tag, its view
types (plain frozen dataclasses, as in :mod:`.views`) and their builder, imported only by a
report with ``--history``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kvdiff.analyzers.present.site.strings import HISTORY_FILENAME, fmt, tag_filename

if TYPE_CHECKING:
    from kvdiff.analyzers.compare.changes import Change
    from kvdiff.analyzers.compare.timeline import FunctionVersion, History


@dataclass(frozen=True)
class HistoryChangeView:
    """One change from a version of the function to the next."""

    concept: str
    title: str
    change: str  # "appeared" | "vanished" | "moved" | "returned" | "condition-changed"
    label: str
    before: tuple[str, ...]  # normalised conditions in the previous version
    after: tuple[str, ...]
    elsewhere: str  # "now in f()" when the branch lives outside the target; "" otherwise


@dataclass(frozen=True)
class HistoryRow:
    """One distinct version of the function: a run of consecutive tags with the same content."""

    index: int
    state: str  # "present" | "no-function" | "no-file"
    state_label: str
    first_tag: str
    last_tag: str
    tag_count: int
    count_label: str
    tags: tuple[str, ...]
    start_line: int
    end_line: int
    lines: int
    lines_added: int
    lines_removed: int
    same_as: int | None
    has_errors: bool
    changes: tuple[HistoryChangeView, ...]
    href: str  # the first tag's page at the function's first line; "" when absent


@dataclass(frozen=True)
class HistoryPage:
    """The timeline of every distinct version over all the tags."""

    filename: str
    title: str
    function: str
    path: str
    summary: str
    rules_note: str
    rows: tuple[HistoryRow, ...]


def _change_view(c: Change, function: str, strings: Mapping[str, str]) -> HistoryChangeView:
    elsewhere = ""
    if c.functions not in ((), (function,)):
        names = ", ".join(f"{name}()" for name in c.functions)
        elsewhere = fmt(strings, "history_in_functions", functions=names)
    return HistoryChangeView(
        concept=c.concept,
        title=strings.get(f"concept_{c.concept}", c.concept),
        change=c.kind,
        label=strings.get(f"history_change_{c.kind.replace('-', '_')}", c.kind),
        before=c.before,
        after=c.after,
        elsewhere=elsewhere,
    )


def _row(v: FunctionVersion, function: str, strings: Mapping[str, str]) -> HistoryRow:
    present = v.state == "present"
    return HistoryRow(
        index=v.index,
        state=v.state,
        state_label=strings.get(f"history_state_{v.state.replace('-', '_')}", v.state),
        first_tag=v.first_tag,
        last_tag=v.last_tag,
        tag_count=v.tag_count,
        count_label=strings["history_tag_one"]
        if v.tag_count == 1
        else fmt(strings, "history_tag_count", count=v.tag_count),
        tags=v.tags,
        start_line=v.start_line,
        end_line=v.end_line,
        lines=v.lines,
        lines_added=v.lines_added,
        lines_removed=v.lines_removed,
        same_as=v.same_as,
        has_errors=v.has_errors,
        changes=tuple(_change_view(c, function, strings) for c in v.concept_changes),
        href=f"{tag_filename(v.first_tag)}#L{v.start_line}" if present else "",
    )


def history_page(
    history: History, function: str, path: str, strings: Mapping[str, str]
) -> HistoryPage:
    summary = fmt(
        strings,
        "history_summary",
        tags=len(history.tags),
        versions=len(history.versions),
        distinct=history.distinct_contents,
    )
    return HistoryPage(
        filename=HISTORY_FILENAME,
        title=fmt(strings, "history_title", function=function, path=path),
        function=function,
        path=path,
        summary=summary,
        rules_note="" if history.rule_set else fmt(strings, "history_no_rules", function=function),
        rows=tuple(_row(v, function, strings) for v in history.versions),
    )
