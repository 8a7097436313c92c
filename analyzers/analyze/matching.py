"""Matching rules against a branch tree: which branches are hits of which concept.

The predicates of a :class:`~.ruleset.Match` table look at a branch's condition and body through
tree-sitter queries and at its place in the branch tree (``inside``, ``not_inside``, ``else_of``,
``innermost``, ``owner_arm``). Concepts are matched in dependency order, so a rule can refer to
the hits of the concepts it names.
"""

from __future__ import annotations

from collections.abc import Iterable

from kvdiff.analyzers.analyze.ruleset import ConceptRule, Match, RuleSet, dependency_order
from kvdiff.analyzers.parse.branches import Branch, BranchTree
from kvdiff.analyzers.parse.cparse import captures, node_text
from tree_sitter import Node

_CALLS = "(call_expression function: (identifier) @fn)"
_IDENTIFIERS = "(identifier) @id"


class _Facts:
    """Per-branch facts from tree-sitter queries, computed once per branch."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._cache: dict[tuple[str, int], frozenset[str]] = {}

    def names(self, query: str, node: Node | None) -> frozenset[str]:
        if node is None:
            return frozenset()
        key = (query, node.id)
        if key not in self._cache:
            found = captures(query, node)
            self._cache[key] = frozenset(
                node_text(self.data, n) for nodes in found.values() for n in nodes
            )
        return self._cache[key]

    def cond_calls(self, b: Branch) -> frozenset[str]:
        return self.names(_CALLS, b.condition_node)

    def cond_identifiers(self, b: Branch) -> frozenset[str]:
        return self.names(_IDENTIFIERS, b.condition_node)

    def body_calls(self, b: Branch) -> frozenset[str]:
        return self.names(_CALLS, b.body_node)


def _any_effect(b: Branch, attr: str) -> bool:
    return any(getattr(x.effects, attr) for x in b.walk())


def _match_one(
    m: Match,
    b: Branch,
    facts: _Facts,
    ancestors: tuple[Branch, ...],
    chains: dict[int, tuple[Branch, ...]],
    found: dict[str, tuple[Branch, ...]],
) -> bool:
    if b.kind not in m.kinds:
        return False
    if m.condition_calls and not facts.cond_calls(b) & set(m.condition_calls):
        return False
    if m.condition_calls_all and not set(m.condition_calls_all) <= facts.cond_calls(b):
        return False
    if m.not_condition_calls and facts.cond_calls(b) & set(m.not_condition_calls):
        return False
    if m.condition_mentions and not facts.cond_identifiers(b) & set(m.condition_mentions):
        return False
    if m.not_condition_mentions and facts.cond_identifiers(b) & set(m.not_condition_mentions):
        return False
    if m.condition_query and (
        b.condition_node is None or not captures(m.condition_query, b.condition_node)
    ):
        return False
    if m.body_calls_any and not facts.body_calls(b) & set(m.body_calls_any):
        return False
    if m.not_body_calls and facts.body_calls(b) & set(m.not_body_calls):
        return False
    if m.body_query and (b.body_node is None or not captures(m.body_query, b.body_node)):
        return False
    if m.body_writes_pte and not _any_effect(b, "pte_writes"):
        return False
    if m.body_makes_entry and not _any_effect(b, "entries"):
        return False
    if m.exits_with and not {e.kind for e in b.effects.exits} & set(m.exits_with):
        return False
    if m.inside:
        hits = {_key(h) for h in found.get(m.inside, ())}
        if not any(_key(a) in hits for a in ancestors):
            return False
    for other in m.not_inside:
        hits = {_key(h) for h in found.get(other, ())}
        if any(_key(a) in hits for a in (*ancestors, b)):
            return False
    if m.else_of:
        if b.kind != "else":
            return False
        hits = {_key(h) for h in found.get(m.else_of, ())}
        if not any(_key(arm) in hits for arm in chains.get(b.chain, ())):
            return False
    return True


def _key(b: Branch) -> tuple[int, int, str]:
    return (b.start_byte, b.end_byte, b.kind)


def _choosers(matched: list[Branch], chains: dict[int, tuple[Branch, ...]]) -> set[tuple]:
    """Keys of the hits that are arms of a complete if/else chain whose every arm is a hit:
    ``if (pte_write(pteval)) entry = make_writable…; else entry = make_readable…;`` picks which
    entry to make, and the arm holding that chain is where the concept is."""
    keys = {_key(b) for b in matched}
    out: set[tuple] = set()
    for arms in chains.values():
        complete = len(arms) > 1 and arms[-1].kind == "else"
        if complete and all(_key(a) in keys for a in arms) and _held(arms, matched):
            out.update(_key(a) for a in arms)
    return out


def _held(arms: tuple[Branch, ...], matched: list[Branch]) -> bool:
    """Whether some other hit encloses the chain (an owner to report instead of its arms)."""
    own = {_key(a) for a in arms}
    first, last = arms[0], arms[-1]
    return any(
        _key(m) not in own and m.start_byte <= first.start_byte and last.end_byte <= m.end_byte
        for m in matched
    )


def _innermost(
    matched: list[Branch], chains: dict[int, tuple[Branch, ...]], owner_arm: bool
) -> list[Branch]:
    """Drop every hit one of whose descendants is also a hit (``owner_arm``: not counting the
    arms of a chooser chain, which are dropped instead)."""
    choosers = _choosers(matched, chains) if owner_arm else set()
    keys = {_key(b) for b in matched} - choosers
    return [
        b
        for b in matched
        if _key(b) not in choosers and not any(_key(d) in keys for d in list(b.walk())[1:])
    ]


def _with_ancestors(
    branch: Branch, ancestors: tuple[Branch, ...] = ()
) -> Iterable[tuple[Branch, tuple[Branch, ...]]]:
    yield branch, ancestors
    for child in branch.children:
        yield from _with_ancestors(child, ancestors + (branch,))


def find_hits(
    rule: ConceptRule,
    tree: BranchTree,
    data: bytes,
    found: dict[str, tuple[Branch, ...]],
    facts: _Facts | None = None,
) -> tuple[Branch, ...]:
    """Branches of ``tree`` that are hits of ``rule``, in file order. ``found`` holds the hits of
    the concepts this rule depends on (see :func:`dependency_order`)."""
    facts = facts or _Facts(data)
    chains: dict[int, list[Branch]] = {}
    for b in tree.walk():
        if b.chain >= 0:
            chains.setdefault(b.chain, []).append(b)
    frozen_chains = {k: tuple(v) for k, v in chains.items()}
    hits: dict[tuple[int, int, str], Branch] = {}
    for m in rule.matches:
        matched = [
            b
            for b, anc in _with_ancestors(tree.root)
            if _match_one(m, b, facts, anc, frozen_chains, found)
        ]
        if m.innermost:
            matched = _innermost(matched, frozen_chains, m.owner_arm)
        for b in matched:
            hits.setdefault(_key(b), b)
    return tuple(sorted(hits.values(), key=lambda b: (b.start_byte, b.end_byte)))


def find_all_hits(rules: RuleSet, tree: BranchTree, data: bytes) -> dict[str, tuple[Branch, ...]]:
    """Hits of every concept of ``rules`` in ``tree``."""
    found: dict[str, tuple[Branch, ...]] = {}
    facts = _Facts(data)
    for rule in dependency_order(rules):
        found[rule.concept] = find_hits(rule, tree, data, found, facts)
    return found
