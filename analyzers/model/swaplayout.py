"""The x86_64 swap-PTE layout of one tag, evaluated from that tag's own macros.

Encoding follows the kernel's two steps: the arch-independent ``swp_entry(type, offset)`` of
include/linux/swapops.h (its body evaluated by :mod:`.inline`), then the arch macros
``__swp_entry``/``__swp_entry_to_pte`` of the x86_64 page-table header; decoding runs
``__pte_to_swp_entry``, ``__swp_type``, ``__swp_offset`` and ``swp_type()``/``swp_offset()``.
Whatever a tag's macros say (the 2.6 ``type << 1 | offset << 8``, the ``_PAGE_BIT_FILE`` /
``_PAGE_BIT_PROTNONE`` choice of 2.6.3x, the L1TF-inverted offset ``~offset`` of 4.18+ and its
backports) comes out of evaluating them, with no per-version code here.

``pte_to_swp_entry()`` clears the swap PTE flag bits first; which ones is read from its body (the
``pte_swp_clear_*()`` calls, also through ``pte_swp_clear_flags()``), each mask by its name
(``pte_swp_clear_soft_dirty`` clears ``_PAGE_SWP_SOFT_DIRTY``) under the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from kvdiff.analyzers.errors import KvdiffError

from .cexpr import ULONG, CExprError, Struct, Tok, Val
from .cpp import Preprocessor
from .encoding import Decoded
from .inline import InlineFunctions

MASK64 = (1 << 64) - 1
_X = "__kvdiff_x"


@dataclass(frozen=True)
class SwapType:
    """A reserved swap type: its macro, number, kind ("migration", ...) and direction."""

    name: str
    number: int
    kind: str
    write: bool | None
    exclusive: bool
    cite: str


def _entry(v: int) -> Struct:
    return Struct("swp_entry_t", Val.of(v, ULONG))


class SwapLayout:
    """``swp_entry_to_pte``, ``pte_to_swp_entry``, ``pte_pfn`` and ``decode`` at one tag."""

    def __init__(
        self,
        pp: Preprocessor,
        swapops: InlineFunctions,
        masks: Mapping[str, int],
        types: Mapping[int, SwapType],
        constants: Mapping[str, int],
    ) -> None:
        self.pp, self.swapops = pp, swapops
        self.masks, self.types, self.constants = dict(masks), dict(types), dict(constants)
        self.clear_mask = self._clear_mask()
        self.inverted = "~" in (t.text for t in pp.macros["__swp_entry"].body)
        self.present_mask = self.mask("_PAGE_PRESENT") | self.mask("_PAGE_PROTNONE")
        self.swp_entry_to_pte = lru_cache(maxsize=4096)(self._swp_entry_to_pte)
        self.pte_to_swp_entry = lru_cache(maxsize=4096)(self._pte_to_swp_entry)

    def mask(self, name: str) -> int:
        return self.masks.get(name, 0)

    def _clear_mask(self) -> int:
        """The bits pte_to_swp_entry() clears before decoding (see the module docstring)."""
        try:
            calls = self.swapops.calls("pte_to_swp_entry")
        except CExprError:
            return 0
        if "pte_swp_clear_flags" in calls:
            calls += self.swapops.calls("pte_swp_clear_flags")
        out = 0
        for name in calls:
            if name.startswith("pte_swp_clear_") and name != "pte_swp_clear_flags":
                out |= self.mask("_PAGE_SWP_" + name[len("pte_swp_clear_") :].upper())
        return out

    # -- the entry <-> PTE round trip --------------------------------------------------------
    def _call(self, macro: str, *args: Val | Struct) -> Val:
        names = {f"{_X}{k}": a for k, a in enumerate(args)}
        toks = [[Tok("id", n)] for n in names]
        return self.pp.call(macro, toks, names)

    def swp_entry(self, swap_type: int, offset: int) -> Struct:
        v = self.swapops.call("swp_entry", [Val(swap_type, ULONG), Val.of(offset, ULONG)])
        return v if isinstance(v, Struct) else _entry(v.v)

    def _swp_entry_to_pte(self, swap_type: int, offset: int) -> int:
        """swp_entry() then swp_entry_to_pte(): the arch __swp_entry() of the tag."""
        entry = self.swp_entry(swap_type, offset)
        t = self.swapops.call("swp_type", [entry])
        o = self.swapops.call("swp_offset", [entry])
        arch = self._call("__swp_entry", t, o)
        return self._call("__swp_entry_to_pte", _entry(arch.v)).v & MASK64

    def _pte_to_swp_entry(self, pte: int) -> tuple[int, int]:
        """(type, offset) of a non-present, non-file PTE, as pte_to_swp_entry() reads it."""
        pte &= ~self.clear_mask
        arch = _entry(self._call("__pte_to_swp_entry", Val.of(pte, ULONG)).v)
        t, o = self._call("__swp_type", arch), self._call("__swp_offset", arch)
        entry = self.swp_entry(t.v & MASK64, o.v & MASK64)
        swap_type = self.swapops.call("swp_type", [entry])
        offset = self.swapops.call("swp_offset", [entry])
        return int(swap_type.value.v if isinstance(swap_type, Struct) else swap_type.v), int(
            offset.value.v if isinstance(offset, Struct) else offset.v
        )

    def pte_pfn(self, pte: int) -> int:
        """pte_pfn(): the tag's macro when a read header defines one, else PTE_PFN_MASK, with
        the L1TF inversion of a PROT_NONE PTE where the tag inverts swap offsets too."""
        if "pte_pfn" in self.pp.macros and self.pp.macros["pte_pfn"].params is not None:
            return self._call("pte_pfn", Struct("pte_t", Val.of(pte, ULONG))).v
        if self.inverted and pte and not pte & self.mask("_PAGE_PRESENT"):
            pte ^= MASK64  # protnone_mask(): asm/pgtable-invert.h, with the inverted offset
        return (pte & self.constants["PTE_PFN_MASK"]) >> self.constants["PAGE_SHIFT"]

    # -- what a value means ------------------------------------------------------------------
    def decode(self, pte: int) -> Decoded:
        if pte == 0:
            return Decoded("none", None, None, None, None, "none")
        if pte & self.present_mask:
            return self._present(pte)
        if pte & self.mask("_PAGE_FILE"):
            pgoff = self._pgoff(pte)
            return Decoded("file", None, None, pgoff, None, f"file(pgoff {pgoff:#x})")
        soft = bool(pte & self.mask("_PAGE_SWP_SOFT_DIRTY"))
        uffd = bool(pte & self.mask("_PAGE_SWP_UFFD_WP"))
        extra = _flags_text(soft, uffd)
        if pte & self.mask("_PAGE_SWP_EXCLUSIVE"):
            extra += " +exclusive"
        swap_type, offset = self.pte_to_swp_entry(pte)
        special = self.types.get(swap_type)
        if special is None:
            text = f"swap(type {swap_type}, offset {offset:#x}){extra}"
            return Decoded("swap", None, swap_type, offset, None, text, soft, uffd)
        return self._special(special, offset, extra, soft, uffd)

    def _special(self, t: SwapType, offset: int, extra: str, soft: bool, uffd: bool) -> Decoded:
        pfn_mask = self.constants.get("SWP_PFN_MASK", MASK64)
        pfn = offset & pfn_mask if t.kind == "migration" else offset
        bits = [b for b, name in ((" young", "SWP_MIG_YOUNG"), (" dirty", "SWP_MIG_DIRTY"))
                if t.kind == "migration" and offset & self.constants.get(name, 0)]  # fmt: skip
        if t.kind == "hwpoison":
            text = f"hwpoison(pfn {offset:#x}){extra}"
        elif t.write is not None:
            rw = ("W" if t.write else "R") + (", exclusive" if t.exclusive else "")
            text = f"{t.kind}({rw}, pfn {pfn:#x}){''.join(f' +{b.strip()}' for b in bits)}{extra}"
        else:
            text = f"{t.kind}(offset {offset:#x}){extra}"
        return Decoded(t.kind, pfn, t.number, offset, t.write, text, soft, uffd)

    def _present(self, pte: int) -> Decoded:
        pfn = self.pte_pfn(pte)
        write = bool(pte & self.mask("_PAGE_RW"))
        bits = ["W" if write else "R"]
        if pte & self.mask("_PAGE_DIRTY"):
            bits.append("dirty")
        if pte & self.mask("_PAGE_ACCESSED"):
            bits.append("young")
        soft = bool(pte & self.mask("_PAGE_SOFT_DIRTY"))
        uffd = bool(pte & self.mask("_PAGE_UFFD_WP"))
        text = f"present(pfn {pfn:#x}, {', '.join(bits)}){_flags_text(soft, uffd)}"
        return Decoded("present", pfn, None, None, write, text, soft, uffd)

    def _pgoff(self, pte: int) -> int:
        if "pte_to_pgoff" in self.pp.macros:
            return self._call("pte_to_pgoff", Struct("pte_t", Val.of(pte, ULONG))).v
        raise KvdiffError("a file PTE, but no read header defines pte_to_pgoff()")


def _flags_text(soft_dirty: bool, uffd_wp: bool) -> str:
    return (" +soft-dirty" if soft_dirty else "") + (" +uffd-wp" if uffd_wp else "")
