"""The abstract values the interpreter computes with, and the signals of C control flow.

Integers are Python ints (a PTE value is an int, a pointer-to-PTE is :data:`PTE_PTR`); the
kernel objects are :class:`Obj` (page, vma, mm, a walk state...) whose fields are read and written
by member access. A value the model cannot know is an :class:`Unknown`: it propagates through
arithmetic and only becomes an *undetermined outcome* when the code needs its truth value, writes
it into the PTE or returns it. That is how "the model never guesses" is enforced.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class NamedInt(int):
    """An int that came straight from a named constant (``SWAP_AGAIN``): returns print the name."""

    name: str

    def __new__(cls, value: int, name: str) -> NamedInt:
        obj = super().__new__(cls, value)
        obj.name = name
        return obj


@dataclass
class Obj:
    """A kernel object the model knows the relevant fields of (``kind`` = page, vma, mm, ...)."""

    kind: str
    fields: dict[str, object] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<{self.kind}>"


@dataclass(frozen=True)
class PtePointer:
    """The pointer to the one PTE slot the model covers (``pte``, ``pvmw.pte``)."""


PTE_PTR = PtePointer()


@dataclass(frozen=True)
class PageRef:
    """``page + delta``: pointer arithmetic on a struct page (``page - pfn + pte_pfn``)."""

    page: Obj
    delta: int


@dataclass(frozen=True)
class Entry:
    """A swp_entry_t: swap type and offset (for a migration entry the offset is the pfn)."""

    type: int
    offset: int


@dataclass(frozen=True)
class EntryVal:
    """The ``.val`` of a swp_entry_t, as page_private() of a swap-cache page holds it."""

    type: int
    offset: int


@dataclass(frozen=True)
class Opaque:
    """A value whose content does not matter to the model (a lock, a pgd pointer, a range)."""

    what: str


@dataclass(frozen=True)
class Unknown:
    """A value the model does not know: produced by ``cause`` at ``line``."""

    cause: str
    line: int


UNINIT = Opaque("uninitialised")
LOCAL = "local:"  # the kind prefix of a struct local's Obj: its member writes are bookkeeping


class Undetermined(Exception):
    """The outcome depends on something the model does not know."""

    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class Bug(Exception):
    """A BUG_ON() fired."""

    def __init__(self, text: str, line: int) -> None:
        super().__init__(text)
        self.text = text
        self.line = line


class ReturnSignal(Exception):
    def __init__(self, value: object) -> None:
        self.value = value


class BreakSignal(Exception):
    pass


class ContinueSignal(Exception):
    pass


class GotoSignal(Exception):
    def __init__(self, label: str, line: int) -> None:
        self.label = label
        self.line = line
