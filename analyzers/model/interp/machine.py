"""The abstract machine one derived-model run works on: the PTE slot, the objects, the record.

It knows the tag's facts (constants, swap layout), the helper table and the kernel configuration,
and records what the run did: every condition evaluated (:class:`Step`), the effects of known
helpers, the statement-level calls the table does not know, and the assumptions used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tree_sitter import Node

from .table import HelperTable
from .values import Obj, Undetermined

_WS = re.compile(r"\s+")


def text_of(node: Node) -> str:
    """A node's source text, whitespace collapsed (tree-sitter keeps the bytes: slice, decode)."""
    return _WS.sub(" ", (node.text or b"").decode("utf-8", errors="replace")).strip()


def line_of(node: Node) -> int:
    return node.start_point.row + 1


def c_int(text: str) -> int:
    """A C integer literal (decimal, 0x hex, 0 octal, 0b binary; u/l suffixes)."""
    t = text.rstrip("uUlL")
    if t[:2] in ("0x", "0X", "0b", "0B"):
        return int(t, 0)
    if len(t) > 1 and t.startswith("0"):
        return int(t, 8)
    return int(t)


@dataclass(frozen=True)
class Step:
    """One condition the run evaluated: ``kind`` is if, else, while, for, switch or preproc."""

    kind: str
    condition: str
    line: int
    taken: bool


class Machine:
    """State and record of one run (see the module docstring)."""

    def __init__(
        self,
        *,
        table: HelperTable,
        facts: object,
        config: Mapping[str, bool],
        path: str,
        objects: Mapping[str, Obj],
        address: int,
        pte: int,
    ) -> None:
        self.table = table
        self.facts = facts
        self.constants: Mapping[str, int] = getattr(facts, "constants", {})
        self.layout = getattr(facts, "layout", None)
        self.kconfig = dict(config)
        self.path = path
        self.objects = dict(objects)
        self.address = address
        self.pte = pte
        self.walk_calls = 0
        self.walk_finished = False
        self.steps: list[Step] = []
        self.effects: list[str] = []
        self.unmodelled: list[str] = []
        self.assumptions: list[str] = []
        self.budget = 200_000  # statements and loop iterations: a runaway loop is undetermined

    # -- lookups ------------------------------------------------------------------------------
    def constant(self, name: str) -> int | None:
        if name in self.constants:
            return int(self.constants[name])
        c = self.table.constants.get(name)
        return None if c is None else c.value

    def config(self, name: str, line: int) -> bool:
        """A Kconfig option: the model's configuration, else the table's stated assumption."""
        if name in self.kconfig:
            return self.kconfig[name]
        assumed = self.table.config.get(name)
        if assumed is None:
            raise Undetermined(
                f"{name} (line {line}) is neither a model option nor an assumption in "
                "helpers.toml [config]",
                line,
            )
        self.assume(f"{name}={'y' if assumed.value else 'n'}: {assumed.assume}")
        return assumed.value

    def mask(self, names: object, helper: str, line: int) -> int:
        """OR of the named _PAGE_* masks at the tag; a mask the tag lacks is undetermined."""
        value = 0
        for name in names or ():
            v = self.constant(str(name))
            if v is None:
                raise Undetermined(
                    f"{helper} (line {line}): {name} is not defined at this tag", line
                )
            value |= v
        return value

    def state(self, path: str, line: int) -> object:
        """``mm.<field>`` / ``page.<field>`` / ``vma.<field>`` / ``call.address``."""
        obj, _, name = path.partition(".")
        if obj == "call" and name == "address":
            return self.address
        target = self.objects.get(obj)
        if target is None or name not in target.fields:
            raise Undetermined(f"the scenario has no state {path} (line {line})", line)
        return target.fields[name]

    # -- the record ---------------------------------------------------------------------------
    def where(self, line: int) -> str:
        return f"{self.path}:{line}"

    def effect(self, text: str, line: int) -> None:
        self.effects.append(f"{text} ({self.where(line)})")

    def unmodelled_call(self, name: str, line: int) -> None:
        self.unmodelled.append(f"unmodelled: {name}() ({self.where(line)})")

    def assume(self, text: str) -> None:
        entry = f"assumed: {text}"
        if entry not in self.assumptions:
            self.assumptions.append(entry)

    def step(self, kind: str, condition: str, line: int, taken: bool) -> bool:
        self.steps.append(Step(kind, condition, line, taken))
        return taken

    def tick(self, line: int) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise Undetermined(f"the run did not end (a loop near line {line} never exits)", line)
