"""The analyze stage: a source file in, the function's branch tree and concept map out.

:func:`analyze_source` is pure: it takes a :class:`~analyzers.source.SourceFile` (bytes plus where
they came from) and a :class:`~analyzers.ruleset.RuleSet`, and never reads git itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from kvdiff.analyzers.analyze.expectations import Epoch
from kvdiff.analyzers.analyze.matching import find_all_hits
from kvdiff.analyzers.analyze.ruleset import ConceptRule, RuleSet, load_rule_set
from kvdiff.analyzers.concepts import hit_lines
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.parse.branches import Branch, BranchTree, build_tree
from kvdiff.analyzers.parse.cparse import ParsedFile, captures, node_text, parse_c
from kvdiff.analyzers.parse.extract import ErrorSpan, find_functions, require_function
from kvdiff.analyzers.source.repo import SourceFile
from kvdiff.analyzers.versions import parse_version
from tree_sitter import Node

__all__ = [
    "Analysis",
    "ConceptHit",
    "ConceptStatus",
    "FunctionMissing",
    "RuleSet",
    "STATES",
    "analyze_parsed",
    "analyze_source",
    "load_rule_set",
]

STATES = ("present", "absent", "expected-absent", "moved", "unexpected")


class FunctionMissing(KvdiffError):
    """The function is not defined in the file (``kvdiff check`` reports it as drift)."""


@dataclass(frozen=True)
class ConceptHit:
    concept: str
    function: str  # where it was found (the target or a sibling function)
    start_line: int  # real 1-based file lines of the branch (condition through body)
    end_line: int
    condition: str  # verbatim, as in the file ("" for a plain else)
    condition_normalized: str
    branch_path: tuple[str, ...]
    moved: bool  # found in a sibling function, not the target
    # Sorted distinct names of the functions called anywhere in the branch (condition, body and
    # nested branches); calls through pointers or other expressions are left out.
    calls: tuple[str, ...] = ()
    # The other concepts whose arms enclose this branch (rule order), e.g. ("anon",) for
    # v2.6.35's migration arm inside the PageAnon arm.
    within: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "function": self.function,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "condition": self.condition,
            "condition_normalized": self.condition_normalized,
            "branch_path": list(self.branch_path),
            "moved": self.moved,
            "calls": list(self.calls),
        }


@dataclass(frozen=True)
class ConceptStatus:
    concept: str
    state: str  # one of STATES
    hits: tuple[ConceptHit, ...]  # file order
    note: str = ""
    expected: Epoch | None = None  # what the rules expect at the tree's version (None: unknown)

    def to_json(self) -> dict:
        return {
            "state": self.state,
            "hits": [h.to_json() for h in self.hits],
            "note": self.note,
        }


@dataclass(frozen=True)
class Analysis:
    tag: str
    path: str
    function: str
    blob_id: str
    origin: str
    start_line: int
    end_line: int
    signature: str
    errors: tuple[ErrorSpan, ...]
    tree: BranchTree
    concepts: tuple[ConceptStatus, ...]  # one per concept of the rule set, registry order
    # Every definition of the function in the file (``#ifdef``/``#else`` arms give several), as
    # (start_line, end_line), and which one (1-based) was analysed.
    definitions: tuple[tuple[int, int], ...] = ()
    definition: int = 1
    # The version the rules' ranges were read at: the tag itself, or the tree's Makefile version
    # for a tag not shaped like a version ("" and version_from "" when neither gives one).
    version: str = ""
    version_from: str = ""

    def concept(self, concept_id: str) -> ConceptStatus:
        for status in self.concepts:
            if status.concept == concept_id:
                return status
        raise KeyError(concept_id)

    def line_concepts(self) -> dict[int, tuple[str, ...]]:
        """Real line -> ids of the concepts whose target-function hits cover it (rule order)."""
        return hit_lines(self.concepts)

    def branch_concepts(self) -> dict[tuple[int, int, str], tuple[str, ...]]:
        """(start_line, end_line, condition_normalized) of a hit branch -> its concept ids."""
        out: dict[tuple[int, int, str], list[str]] = {}
        for status in self.concepts:
            for hit in status.hits:
                if not hit.moved:
                    key = (hit.start_line, hit.end_line, hit.condition_normalized)
                    out.setdefault(key, []).append(status.concept)
        return {k: tuple(v) for k, v in out.items()}

    def to_json(self) -> dict:
        return {
            "tag": self.tag,
            "path": self.path,
            "function": self.function,
            "blob_id": self.blob_id,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "signature": self.signature,
            "errors": [
                {"kind": e.kind, "start_line": e.start_line, "end_line": e.end_line}
                for e in self.errors
            ],
            "concepts": {s.concept: s.to_json() for s in self.concepts},
        }


_CALLEE = "(call_expression function: (identifier) @callee)"
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z")


def _header_nodes(b: Branch) -> Iterator[Node]:
    """The syntax a branch evaluates before its body: its condition, and a ``for``'s
    initializer and update. The branch tree records those calls in no branch's own effects
    (an ``if`` condition) or in the enclosing branch's (a loop test)."""
    if b.condition_node is not None:
        yield b.condition_node
    if b.kind == "for" and b.body_node is not None and b.body_node.parent is not None:
        for name in ("initializer", "update"):
            node = b.body_node.parent.child_by_field_name(name)
            if node is not None:
                yield node


def branch_calls(b: Branch, data: bytes) -> tuple[str, ...]:
    """Sorted distinct names of the functions called in ``b``'s condition, body and nested
    branches (``data``: the file the branch was parsed from)."""
    names = set()
    for branch in b.walk():
        names.update(c.name for c in branch.effects.calls if _IDENTIFIER.match(c.name))
        for node in _header_nodes(branch):
            names.update(node_text(data, n) for n in captures(_CALLEE, node).get("callee", []))
    return tuple(sorted(names))


def _within(b: Branch, concept: str, found: dict[str, tuple[Branch, ...]]) -> tuple[str, ...]:
    """The concepts (other than ``concept``) one of whose hits strictly encloses ``b``."""
    out = []
    for other, hits in found.items():
        if other == concept:
            continue
        for h in hits:
            inner = (h.start_byte, h.end_byte) != (b.start_byte, b.end_byte)
            if inner and h.start_byte <= b.start_byte and b.end_byte <= h.end_byte:
                out.append(other)
                break
    return tuple(out)


@dataclass(frozen=True)
class _Found:
    """The hits of one function's tree, and what :func:`_hit` needs to describe them."""

    function: str
    hits: dict[str, tuple[Branch, ...]]
    data: bytes
    moved: bool = False

    def described(self, concept: str) -> tuple[ConceptHit, ...]:
        return tuple(_hit(concept, self, b) for b in self.hits.get(concept, ()))


def _hit(concept: str, where: _Found, b: Branch) -> ConceptHit:
    return ConceptHit(
        concept=concept,
        function=where.function,
        start_line=b.start_line,
        end_line=b.end_line,
        condition=b.condition,
        condition_normalized=b.condition_normalized,
        branch_path=b.path,
        moved=where.moved,
        calls=branch_calls(b, where.data),
        within=_within(b, concept, where.hits),
    )


def _status(
    rule: ConceptRule, version: str, target: _Found, siblings: dict[str, _Found]
) -> ConceptStatus:
    """The concept's state at ``version``: found where the rules expect it, or not."""
    expected = rule.expected_at(version)
    cid = rule.concept
    found = target.described(cid)
    if found:
        if expected is not None and expected.state == "absent":
            note = f"found although the rules declare it absent at {version or 'this tag'}"
            return ConceptStatus(cid, "unexpected", found, note, expected)
        return ConceptStatus(cid, "present", found, rule.note, expected)
    if expected is not None and expected.state == "moved":
        sibling = siblings.get(expected.function)
        moved = sibling.described(cid) if sibling is not None else ()
        where = f"{expected.function}() {expected.cite(version)}"
        if moved:
            note = expected.note or f"lives in {where}"
            return ConceptStatus(cid, "moved", moved, note, expected)
        missing = "which is not in the file" if sibling is None else "not found there either"
        return ConceptStatus(cid, "absent", (), f"expected in {where}, {missing}", expected)
    if expected is not None and expected.state == "absent":
        note = expected.note or rule.absent_note
        return ConceptStatus(cid, "expected-absent", (), note, expected)
    return ConceptStatus(cid, "absent", (), "", expected)


def analyze_source(
    source: SourceFile,
    rules: RuleSet,
    function: str | None = None,
    definition: int | None = None,
) -> Analysis:
    """Parse ``source``, build the branch tree of ``function`` (default: the rule set's) and
    map each concept of ``rules`` onto it. A missing function raises KvdiffError; parse errors
    inside it are recorded in ``errors`` and skipped."""
    return analyze_parsed(source, parse_c(source.data), rules, function, definition)


def _definition_index(defs: list, definition: int | None, what: str) -> int:
    index = (definition or 1) - 1
    if not 0 <= index < len(defs):
        raise KvdiffError(
            f"--definition {definition}: {what} has {len(defs)} definition(s); "
            f"pass a number from 1 to {len(defs)}"
        )
    return index


def analyze_parsed(
    source: SourceFile,
    parsed: ParsedFile,
    rules: RuleSet,
    function: str | None = None,
    definition: int | None = None,
) -> Analysis:
    """:func:`analyze_source` for a caller that already parsed ``source.data`` (one parse).

    A function defined several times is analysed at its first definition in file order, or at
    ``definition`` (1-based); :attr:`Analysis.definitions` lists them all, so callers can say so.
    """
    name = function or rules.function
    defs = find_functions(parsed, name)
    if not defs:
        try:
            require_function(parsed, name, f"{source.path} at {source.tag}")
        except KvdiffError as exc:
            raise FunctionMissing(exc.message) from None
    index = _definition_index(defs, definition, f"{name} in {source.path} at {source.tag}")
    fn = defs[index]
    spans = tuple((d.start_line, d.end_line) for d in defs)
    tree = build_tree(parsed, fn, rules.return_var)
    version, version_from = tree_version(source)
    target = _Found(name, find_all_hits(rules, tree, parsed.data), parsed.data)
    siblings = _sibling_hits(rules, parsed, version, target)
    statuses = tuple(_status(rule, version, target, siblings) for rule in rules.concepts)
    return Analysis(
        tag=source.tag,
        path=source.path,
        function=name,
        blob_id=source.blob_id,
        origin=source.origin,
        start_line=fn.start_line,
        end_line=fn.end_line,
        signature=fn.signature,
        errors=tree.errors,  # what is left after any per-configuration parse (configs.py)
        tree=tree,
        concepts=statuses,
        definitions=spans,
        definition=index + 1,
        version=version,
        version_from=version_from,
    )


def tree_version(source: SourceFile) -> tuple[str, str]:
    """(version, where it came from) for the rules' ranges: the tag when it is shaped like a
    version, else the version the source stage read from the tree's Makefile, else ("", "")."""
    if parse_version(source.tag) is not None:
        return source.tag, "tag"
    if source.version and parse_version(source.version) is not None:
        return source.version, source.version_from or "Makefile"
    return "", ""


def _sibling_hits(
    rules: RuleSet, parsed: ParsedFile, version: str, target: _Found
) -> dict[str, _Found]:
    """Sibling functions a concept moved to, analysed with the same rules, only when needed."""
    out: dict[str, _Found] = {}
    for rule in rules.concepts:
        moved = rule.moved_at(version) if version else None
        if target.hits[rule.concept] or moved is None or moved.function in out:
            continue
        defs = find_functions(parsed, moved.function)
        if defs:
            sib_tree = build_tree(parsed, defs[0], rules.return_var)
            hits = find_all_hits(rules, sib_tree, parsed.data)
            out[moved.function] = _Found(moved.function, hits, parsed.data, moved=True)
    return out
