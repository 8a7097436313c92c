"""The branch tree's data: :class:`Branch` arms nested in a :class:`BranchTree`, and the
:class:`Effects` of the statements that belong directly to each arm (built in ``branches.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from kvdiff.analyzers.parse.extract import ErrorSpan
from tree_sitter import Node

_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Collapse runs of whitespace (including newlines and tabs) into single spaces."""
    return _WS.sub(" ", text).strip()


@dataclass(frozen=True)
class Call:
    name: str  # the called function (or the callee expression's text)
    args: tuple[str, ...]  # argument texts, whitespace collapsed
    line: int


@dataclass(frozen=True)
class Assignment:
    target: str
    value: str  # right-hand side, whitespace collapsed
    line: int


@dataclass(frozen=True)
class Exit:
    kind: str  # "goto" | "return" | "break" | "continue"
    target: str  # goto label or return value ("" when none)
    line: int


@dataclass(frozen=True)
class Effects:
    """What the statements that belong directly to a branch do."""

    calls: tuple[Call, ...] = ()
    pte_writes: tuple[Call, ...] = ()
    entries: tuple[Call, ...] = ()
    ret_assignments: tuple[Assignment, ...] = ()
    exits: tuple[Exit, ...] = ()

    def to_json(self) -> dict:
        return {
            "calls": [_call_json(c) for c in self.calls],
            "pte_writes": [_call_json(c) for c in self.pte_writes],
            "entries": [_call_json(c) for c in self.entries],
            "ret_assignments": [
                {"target": a.target, "value": a.value, "line": a.line} for a in self.ret_assignments
            ],
            "exits": [{"kind": e.kind, "target": e.target, "line": e.line} for e in self.exits],
        }


def _call_json(c: Call) -> dict:
    return {"name": c.name, "args": list(c.args), "line": c.line}


@dataclass(frozen=True)
class Branch:
    """One arm of the control flow.

    ``kind`` is ``function`` (the root), ``if``, ``else if``, ``else``, ``switch``, ``case``,
    ``default``, ``while``, ``for``, ``do`` or ``preproc`` (``condition`` then holds the directive,
    e.g. ``#ifdef CONFIG_MIGRATION``). ``chain`` identifies the if/else-if/else chain (or switch)
    an arm belongs to, ``arm`` its position in it; both are -1 for other kinds.

    ``config`` is what the branch needs from the kernel configuration to exist at all, one
    requirement per item (``CONFIG_MIGRATION``, ``!CONFIG_MIGRATION``, or a whole ``#if``
    expression): from the enclosing ``#if``/``#ifdef`` arms, and for a function parsed once per
    configuration (see ``ppconfig.py``), from the configurations whose parse has the branch.
    Empty: every configuration.
    """

    kind: str
    condition: str
    condition_normalized: str
    start_line: int
    end_line: int
    path: tuple[str, ...]
    effects: Effects
    children: tuple[Branch, ...]
    chain: int = -1
    arm: int = -1
    start_byte: int = 0
    end_byte: int = 0
    config: tuple[str, ...] = ()
    # The syntax nodes rules run their tree-sitter queries over; not part of equality.
    condition_node: Node | None = field(default=None, compare=False, repr=False, hash=False)
    body_node: Node | None = field(default=None, compare=False, repr=False, hash=False)

    @property
    def label(self) -> str:
        return label(self.kind, self.condition_normalized)

    def walk(self) -> Iterator[Branch]:
        """This branch and all its descendants, in file order (pre-order)."""
        yield self
        for child in self.children:
            yield from child.walk()

    def to_json(self) -> dict:
        data = {
            "kind": self.kind,
            "condition": self.condition,
            "condition_normalized": self.condition_normalized,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "path": list(self.path),
        }
        if self.config:
            data["config"] = list(self.config)
        data["effects"] = self.effects.to_json()
        data["children"] = [c.to_json() for c in self.children]
        return data


@dataclass(frozen=True)
class BranchTree:
    """The branch tree of one function.

    ``errors`` are the ERROR/MISSING spans left in the parse the tree was built from. ``resolved``
    names the configuration symbols the function was parsed once per value of, when an ``#if``
    arm split its code in a way tree-sitter cannot parse (empty for a single parse);
    ``parses`` is how many parses were merged.
    """

    function: str
    root: Branch
    errors: tuple[ErrorSpan, ...]
    resolved: tuple[str, ...] = ()
    parses: int = 1

    def walk(self) -> Iterator[Branch]:
        return self.root.walk()

    def to_json(self) -> dict:
        return {
            "function": self.function,
            "errors": [
                {"kind": e.kind, "start_line": e.start_line, "end_line": e.end_line}
                for e in self.errors
            ],
            **({"resolved": list(self.resolved), "parses": self.parses} if self.resolved else {}),
            "root": self.root.to_json(),
        }


def label(kind: str, condition_normalized: str) -> str:
    if kind in ("function", "else", "default", "do"):
        return kind
    if kind == "preproc":
        return condition_normalized
    return f"{kind} {condition_normalized}"
