"""What a report's pages need of one tag's file, kept in the result cache between runs.

A warm report (sources cached, site not) used to parse, analyse, highlight and cross-reference
each tag's file again. Those depend only on the file's bytes (its blob id), where it came from
(tag, path, origin, the tree's version), the function, the rule set (the function and ``--file``
pick it; its text is in the package), the parser (tree-sitter and its C grammar) and kvdiff
itself (:func:`.sitecache.package_digest`): the key holds all of them. The entry holds the
function's span, the concepts' statuses (:class:`.PageAnalysis`), and the highlighted lines and
cross-references of every chunk of the file the pages showed (a later run that shows more
highlights the rest and adds it). An entry that does not decode to those types is a miss.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from typing import TYPE_CHECKING, Any

from kvdiff.analyzers.analyze.resultcache import ResultCache, make_key

if TYPE_CHECKING:
    from kvdiff.analyzers.present.site.code import LineStore
    from kvdiff.analyzers.present.site.inputs import FunctionSpan, PageAnalysis, PageHit, PageStatus
    from kvdiff.analyzers.source.types import SourceFile

# Bump when the shape of a stored entry changes.
TAG_SCHEMA = 2


@cache
def parser_digest() -> str:
    """tree-sitter's version and a digest of the C grammar's queries and compiled library,
    read as files from the grammar's package: its ``HIGHLIGHTS_QUERY`` and ``TAGS_QUERY``
    attributes are those files' text, but reading them through ``importlib.resources`` (a
    namespace package, its readers) costs a warm report more than hashing the library."""
    import tree_sitter
    import tree_sitter_c

    h = hashlib.sha256(getattr(tree_sitter, "__version__", "unknown").encode())
    root = os.path.dirname(tree_sitter_c.__file__)
    for name, query in (("highlights.scm", "HIGHLIGHTS_QUERY"), ("tags.scm", "TAGS_QUERY")):
        try:
            with open(os.path.join(root, "queries", name), "rb") as fh:
                h.update(b"\0" + fh.read())
        except OSError:  # packaged some other way: the attribute says
            h.update(b"\0" + getattr(tree_sitter_c, query).encode())
    for lib in sorted(n for n in os.listdir(root) if n.startswith("_binding")):
        with open(os.path.join(root, lib), "rb") as fh:
            h.update(b"\0" + fh.read())
    return h.hexdigest()


def tag_key(source: SourceFile, function: str, file_option: str | None, rules: str) -> str:
    """The key of one tag's entry; ``rules``: the rule set's name ("" without one)."""
    from kvdiff.analyzers.jobs.sitecache import package_digest

    return make_key(
        "report-tag",
        f"tag-schema={TAG_SCHEMA}",
        f"kvdiff={package_digest()}",
        f"parser={parser_digest()}",
        f"function={function}",
        f"file-option={file_option!r}",
        f"rules={rules}",
        f"tag={source.tag}",
        f"path={source.path}",
        f"origin={source.origin}",
        f"blob={source.blob_id}",
        f"version={source.version}\0{source.version_from}",
    )


def entry_plain(
    span: FunctionSpan, analysis: PageAnalysis | None, lines: LineStore
) -> dict[str, Any]:
    """One tag's entry as JSON data."""
    concepts = None
    if analysis is not None:
        concepts = [
            [s.concept, s.state, [_hit_plain(h) for h in s.hits], s.note] for s in analysis.concepts
        ]
    return {
        "span": [span.start_line, span.end_line, span.signature, span.errors, span.definitions],
        "concepts": concepts,
        "chunks": {
            str(first): [[ln.text, [list(sp) for sp in ln.spans]] for ln in chunk]
            for first, chunk in sorted(lines.chunks.items())
        },
        "refs": {
            str(n): [[r.start, r.end, r.kind, r.name, r.target] for r in refs]
            for n, refs in sorted(lines.refs.items())
        },
    }


def _strs(items: Any) -> tuple[str, ...]:
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise TypeError("not a list of strings")
    return tuple(items)


def _int(x: Any) -> int:
    if type(x) is not int:
        raise TypeError("not an integer")
    return x


def _str(x: Any) -> str:
    if not isinstance(x, str):
        raise TypeError("not a string")
    return x


def _hit(d: Any) -> PageHit:
    from kvdiff.analyzers.present.site.inputs import PageHit

    function, start, end, cond, norm, path, moved, calls = d
    if type(moved) is not bool:
        raise TypeError("not a flag")
    return PageHit(
        _str(function), _int(start), _int(end), _str(cond), _str(norm), _strs(path), moved,
        _strs(calls),
    )  # fmt: skip


def _status(d: Any) -> PageStatus:
    from kvdiff.analyzers.present.site.inputs import PageStatus

    concept, state, hits, note = d
    return PageStatus(_str(concept), _str(state), tuple(_hit(h) for h in hits), _str(note))


def _hit_plain(h: PageHit) -> list:
    return [
        h.function, h.start_line, h.end_line, h.condition, h.condition_normalized,
        list(h.branch_path), h.moved, list(h.calls),
    ]  # fmt: skip


def entry_from_plain(d: Any) -> tuple[FunctionSpan, PageAnalysis | None, LineStore]:
    """The inverse of :func:`entry_plain`; anything else raises (TypeError, ValueError...)."""
    from kvdiff.analyzers.present.highlight import Line, Span
    from kvdiff.analyzers.present.site.code import LineStore
    from kvdiff.analyzers.present.site.inputs import FunctionSpan, PageAnalysis
    from kvdiff.analyzers.present.site.xref import Ref

    start, end, signature, errors, definitions = d["span"]
    span = FunctionSpan(_int(start), _int(end), _str(signature), _int(errors), _int(definitions))
    concepts = d["concepts"]
    analysis = None if concepts is None else PageAnalysis(tuple(_status(s) for s in concepts))
    store = LineStore()
    # Thousands of spans and refs per warm report: checked in plain loops, not a call each.
    make_span, make_ref = Span._make, Ref._make
    for first, chunk in d["chunks"].items():
        start = int(first)
        lines = []
        for i, (text, spans) in enumerate(chunk):
            found = tuple(map(make_span, spans))  # a list of another length raises
            if type(text) is not str:
                raise TypeError("not a highlighted line")
            for s, e, cls in found:
                if type(s) is not int or type(e) is not int or type(cls) is not str:
                    raise TypeError("not a highlighted line")
            lines.append(Line(start + i, text, found))
        store.chunks[start] = tuple(lines)
    for n, refs in d["refs"].items():
        found_refs = tuple(map(make_ref, refs))
        for s, e, kind, name, target in found_refs:
            if not (type(s) is type(e) is type(target) is int and type(kind) is type(name) is str):
                raise TypeError("not a cross-reference")
        store.refs[int(n)] = found_refs
    return span, analysis, store


def load_entry(
    cache: ResultCache, key: str
) -> tuple[FunctionSpan, PageAnalysis | None, LineStore] | None:
    """One tag's entry, or None when there is none or it does not decode."""
    payload = cache.get(key)
    if payload is None:
        return None
    try:
        return entry_from_plain(payload)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
