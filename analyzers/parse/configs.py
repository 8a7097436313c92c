"""A function whose ``#if`` arms split its statements, parsed once per configuration and merged.

:func:`variants` decides whether a function needs it: only when tree-sitter reported ERROR or
MISSING nodes in it and some ``#if`` group in it is not a clean preprocessor node (the parse of
well-formed groups, whose arms hold whole statements, is kept as it is). :func:`merge_roots`
unites the branch trees of the parses: a branch that several parses share (the same kind and
condition at the same place) is one branch, and each branch's ``config`` says which symbol
values it needs when some parse lacks it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from kvdiff.analyzers.parse import ppconfig
from kvdiff.analyzers.parse.branchtypes import Branch, Effects
from kvdiff.analyzers.parse.cparse import error_nodes, parse_c
from kvdiff.analyzers.parse.extract import ErrorSpan, FunctionDef, error_span
from tree_sitter import Node

_PREPROC_GROUPS = ("preproc_if", "preproc_ifdef")


@dataclass(frozen=True)
class Variant:
    """One configuration's parse of the function: the symbol values, the blanked bytes (same
    length and line breaks as the file, up to the function's end) and the function's node."""

    values: dict[str, bool] = field(hash=False)
    data: bytes
    node: Node = field(compare=False, repr=False, hash=False)
    body: Node | None = field(compare=False, repr=False, hash=False)

    def errors(self) -> list[ErrorSpan]:
        return [error_span(self.data, n) for n in error_nodes(self.node)]


def split_groups(data: bytes, fn: FunctionDef) -> list[ppconfig.Group]:
    """The ``#if`` groups inside ``fn`` that tree-sitter could not parse as clean
    preprocessor nodes (outer ones before the groups nested in them)."""
    if not fn.node.has_error and "#if" not in fn.recovered:
        return []
    grouped = ppconfig.build_groups(ppconfig.scan_directives(data, fn.start_byte, fn.end_byte))
    if not grouped:
        return []  # none, or unbalanced inside the function: nothing to resolve
    clean = _clean_spans(fn.node)
    return [g for g in ppconfig.walk_groups(grouped) if (g.first_line, g.endif.line) not in clean]


def _clean_spans(node: Node) -> set[tuple[int, int]]:
    """(first row, #endif row) of every error-free ``#if``/``#ifdef`` node under ``node``."""
    spans = set()
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type in _PREPROC_GROUPS and not cur.has_error:
            spans.add((cur.start_point.row, cur.end_point.row))
        stack.extend(cur.children)
    return spans


def group_symbols(groups: list[ppconfig.Group]) -> list[str]:
    names = (s for g in groups for arm in g.arms for s in ppconfig.symbols(arm.expr))
    return list(dict.fromkeys(names))


def variants(data: bytes, fn: FunctionDef) -> tuple[list[str], list[Variant]]:
    """The symbols and the per-configuration parses of ``fn``; ``([], [])`` when one parse
    serves (no ``#if`` group splits its statements)."""
    groups = split_groups(data, fn)
    names = group_symbols(groups)
    if not groups:
        return [], []
    # a definition read from the shadow copy (extract/recover.py) is parsed with its header
    head = bytearray((fn.source or data)[: fn.end_byte])
    ppconfig.blank(head, 0, fn.start_byte)  # parse the function alone, at its real offsets
    out = []
    for values in ppconfig.configurations(names):
        resolved = bytes(ppconfig.resolved_bytes(bytes(head), groups, values))
        node = _function_at(parse_c(resolved).tree.root_node, fn.start_byte)
        if node is not None:
            out.append(Variant(values, resolved, node, node.child_by_field_name("body")))
    # The parse that keeps the most code comes first: its spans and nodes win in the merge.
    out.sort(key=lambda v: -sum(1 for b in v.data[fn.start_byte :] if b not in b" \n"))
    return (names, out) if out else ([], [])


def _function_at(root: Node, start: int) -> Node | None:
    for child in root.named_children:
        if child.type == "function_definition" and child.start_byte == start:
            return child
    return None


def merged_errors(parses: list[Variant]) -> tuple[ErrorSpan, ...]:
    """The ERROR/MISSING spans any parse still has (e.g. a macro), once each, in file order."""
    seen: dict[tuple[str, int, int], ErrorSpan] = {}
    for v in parses:
        for e in v.errors():
            seen.setdefault((e.kind, e.start_byte, e.end_byte), e)
    return tuple(sorted(seen.values(), key=lambda e: (e.start_byte, e.end_byte)))


# -- merging the branch trees ----------------------------------------------------------------


def _anchor(b: Branch) -> tuple[str, str, int]:
    """What makes two parses' branches the same branch: kind, condition, and where the
    condition (or else the body) starts. An arm's end may move with the parse (an ``} else {``
    in one arm only), its condition does not."""
    node = b.condition_node or b.body_node
    return (b.kind, b.condition_normalized, node.start_byte if node is not None else b.start_byte)


@dataclass
class _Merged:
    branch: Branch
    seen: list[int]
    children: list[_Merged]
    chains: list[tuple[int, int]]  # (parse index, chain id) of each parse's copy
    effects: Effects


def _fresh(b: Branch, index: int) -> _Merged:
    return _Merged(
        b, [index], [_fresh(c, index) for c in b.children], [(index, b.chain)], b.effects
    )


def _merge_into(into: _Merged, other: Branch, index: int) -> None:
    into.seen.append(index)
    into.chains.append((index, other.chain))
    into.effects = _union_effects(into.effects, other.effects)
    for child in other.children:
        key = _anchor(child)
        match = next((m for m in into.children if _anchor(m.branch) == key), None)
        if match is not None:
            _merge_into(match, child, index)
        else:
            into.children.append(_fresh(child, index))
    into.children.sort(key=lambda m: (m.branch.start_byte, m.branch.end_byte))


def _union(a: tuple, b: tuple) -> tuple:
    """``a`` plus the items of ``b`` it lacks (counted, so a repeated call stays repeated),
    in line order."""
    extra = Counter(b) - Counter(a)
    added = []
    for item in b:
        if extra[item] > 0:
            added.append(item)
            extra[item] -= 1
    return tuple(sorted(a + tuple(added), key=lambda x: x.line))


def _union_effects(a: Effects, b: Effects) -> Effects:
    return Effects(
        calls=_union(a.calls, b.calls),
        pte_writes=_union(a.pte_writes, b.pte_writes),
        entries=_union(a.entries, b.entries),
        ret_assignments=_union(a.ret_assignments, b.ret_assignments),
        exits=_union(a.exits, b.exits),
    )


def requirement(seen: set[int], configs: list[dict[str, bool]]) -> tuple[str, ...]:
    """The symbol values a branch found in parses ``seen`` (of ``configs``) needs, as a
    conjunction of items: ``X``/``!X`` when that is exact, else one item that negates the
    conjunction the other parses share, else the parses' values joined with ``||``."""
    if len(seen) == len(configs):
        return ()
    exact = _conjunction(seen, configs)
    if exact is not None:
        return _literals(exact)
    others = set(range(len(configs))) - seen
    excluded = _conjunction(others, configs)
    if excluded is not None:
        return (f"!({' && '.join(_literals(excluded))})",)
    terms = [" && ".join(_literals(list(configs[i].items()))) for i in sorted(seen)]
    return (" || ".join(f"({t})" for t in terms),)


def _conjunction(seen: set[int], configs: list[dict[str, bool]]) -> list[tuple[str, bool]] | None:
    """The fewest symbol values that hold in exactly the parses ``seen``, or None."""
    first = configs[min(seen)]
    fixed = [(n, v) for n, v in first.items() if all(configs[i][n] == v for i in seen)]

    def matches(items: list[tuple[str, bool]]) -> set[int]:
        return {i for i, c in enumerate(configs) if all(c[n] == v for n, v in items)}

    if matches(fixed) != seen:
        return None
    for item in list(fixed):
        rest = [f for f in fixed if f != item]
        if matches(rest) == seen:
            fixed = rest
    return fixed


def _literals(items: list[tuple[str, bool]]) -> tuple[str, ...]:
    return tuple(r for n, v in items for r in ppconfig.render(("sym", n), not v))


class _Chains:
    """Chain ids over all parses: the copies of one merged arm join their chains."""

    def __init__(self) -> None:
        self.parent: dict[tuple[int, int], tuple[int, int]] = {}
        self.final: dict[tuple[int, int], int] = {}
        self.arms: dict[int, int] = {}

    def find(self, key: tuple[int, int]) -> tuple[int, int]:
        while self.parent.setdefault(key, key) != key:
            key = self.parent[key]
        return key

    def join(self, keys: list[tuple[int, int]]) -> None:
        keys = [k for k in keys if k[1] >= 0]
        for k in keys[1:]:
            self.parent[self.find(k)] = self.find(keys[0])

    def number(self, keys: list[tuple[int, int]]) -> tuple[int, int]:
        """(chain, arm) of the next arm, numbered in pre-order; (-1, -1) outside chains."""
        keys = [k for k in keys if k[1] >= 0]
        if not keys:
            return -1, -1
        chain = self.final.setdefault(self.find(keys[0]), len(self.final))
        arm = self.arms.get(chain, 0)
        self.arms[chain] = arm + 1
        return chain, arm


def _join_all(m: _Merged, chains: _Chains) -> None:
    chains.join(m.chains)
    for c in m.children:
        _join_all(c, chains)


def _freeze(m: _Merged, configs: list[dict[str, bool]], chains: _Chains) -> Branch:
    need = requirement(set(m.seen), configs)
    chain, arm = chains.number(m.chains)
    return replace(
        m.branch,
        effects=m.effects,
        children=tuple(_freeze(c, configs, chains) for c in m.children),
        config=tuple(dict.fromkeys(need + m.branch.config)),
        chain=chain,
        arm=arm,
    )


def merge_roots(roots: list[Branch], configs: list[dict[str, bool]]) -> Branch:
    """One tree from the root branches of the parses (``roots[i]`` parsed under
    ``configs[i]``); the first parse's spans and syntax nodes win where parses share a branch."""
    merged = _fresh(roots[0], 0)
    for index, root in enumerate(roots[1:], start=1):
        _merge_into(merged, root, index)
    chains = _Chains()
    _join_all(merged, chains)
    return _freeze(merged, configs, chains)
