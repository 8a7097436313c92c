"""The bits of one x86_64 PTE value at one tag, as labelled fields (for the PTE picture).

The layout is the model's (``analyzers/model/encoding.py``, which cites the headers): which bits
hold the present bit, the PFN, the swap type and offset (stored inverted at 5.x, the L1TF
mitigation), the soft-dirty and uffd-wp bits. Pure data; the templates draw it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kvdiff.analyzers.model import encoding as enc

MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class PteField:
    """Bits ``lo``..``hi`` (inclusive) of the value: a field id (its name is in the i18n
    tables as ``pte_f_<id>``), the raw bits, and the value they stand for (``shown``)."""

    hi: int
    lo: int
    field: str
    raw: int
    shown: str
    set: bool  # any bit of the field is 1

    @property
    def width(self) -> int:
        return self.hi - self.lo + 1

    @property
    def bits(self) -> str:
        return format(self.raw, f"0{self.width}b")


def _gen(tag: str) -> str:
    return {"v2.6.7": "2.6.7", "v2.6.35": "2.6.35"}.get(tag, "5")


def _present_layout(tag: str) -> list[tuple[int, int, str]]:
    shift = enc.physical_mask_shift(tag)
    gen = _gen(tag)
    out = [(63, 63, "nx"), (62, shift, "unused"), (shift - 1, 12, "pfn")]
    out.append((11, 11, "soft_dirty" if gen == "5" else "software"))
    out.append((10, 10, "uffd_wp" if tag == "v5.10.37" else "software"))
    out += [(9, 9, "software"), (8, 8, "global"), (7, 7, "protnone" if gen == "2.6.7" else "pat")]
    out += [(6, 6, "dirty"), (5, 5, "accessed"), (4, 3, "cache"), (2, 2, "user"), (1, 1, "rw")]
    return out + [(0, 0, "present")]


def _swap_layout(tag: str) -> list[tuple[int, int, str]]:
    gen = _gen(tag)
    if gen == "2.6.7":
        return [(63, 8, "offset"), (7, 7, "protnone"), (6, 1, "type"), (0, 0, "present")]
    if gen == "2.6.35":
        return [
            (63, 9, "offset"),
            (8, 8, "protnone"),
            (7, 7, "unused"),
            (6, 6, "file"),
            (5, 1, "type"),
            (0, 0, "present"),
        ]
    out = [(63, 59, "type"), (58, 9, "offset_inverted"), (8, 8, "protnone"), (7, 3, "unused")]
    out.append((2, 2, "swp_uffd_wp" if tag == "v5.10.37" else "unused"))
    return out + [(1, 1, "swp_soft_dirty"), (0, 0, "present")]


def _file_layout(tag: str) -> list[tuple[int, int, str]]:
    shift = enc.physical_mask_shift(tag)
    return [
        (63, shift, "unused"),
        (shift - 1, 12, "pgoff"),
        (11, 7, "unused"),
        (6, 6, "file"),
        (5, 1, "unused"),
        (0, 0, "present"),
    ]


def _shown(field: str, raw: int, width: int, tag: str, pte: int) -> str:
    if field == "offset_inverted":
        # ~offset is what the bits hold; the offset is its complement within the field.
        return f"{(~raw) & ((1 << width) - 1) & ((1 << 58) - 1):#x}"
    if field == "pfn" and _gen(tag) == "5" and pte and not pte & enc.P:
        return f"{enc.pte_pfn(tag, pte):#x}"  # a PROT_NONE pte: the pfn is inverted too
    if width == 1:
        return str(raw)
    return f"{raw:#x}"


@cache  # pure; the same values recur across scenarios and pages
def pte_fields(tag: str, pte: int, kind: str) -> tuple[PteField, ...]:
    """The labelled fields of ``pte`` at ``tag``, most significant first; ``kind`` is the
    model's decoded kind (present, swap, migration, hwpoison, device, file, none)."""
    if tag not in enc.MODEL_TAGS:
        return ()
    if kind == "present":
        layout = _present_layout(tag)
    elif kind == "file":
        layout = _file_layout(tag)
    elif kind == "none":
        layout = [(63, 0, "empty")]
    else:
        layout = _swap_layout(tag)
    out = []
    for hi, lo, field in layout:
        if hi < lo:
            continue
        width = hi - lo + 1
        raw = (pte >> lo) & ((1 << width) - 1)
        out.append(PteField(hi, lo, field, raw, _shown(field, raw, width, tag, pte), raw != 0))
    return tuple(out)
