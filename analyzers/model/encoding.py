"""x86_64 PTE encoding per kernel version: present PTEs, swap, migration, hwpoison, device entries.

Every number here is read from the headers at that tag (paths relative to
/work/shared/kernel-corpus/<tag>/):

v2.6.35
  include/linux/swap.h:36 MAX_SWAPFILES_SHIFT 5.
  include/linux/swap.h:47-66 SWP_MIGRATION_NUM 2 and SWP_HWPOISON_NUM 1 under CONFIG_MIGRATION
    and CONFIG_MEMORY_FAILURE; MAX_SWAPFILES = 32 - both; SWP_HWPOISON = MAX_SWAPFILES;
    SWP_MIGRATION_READ = MAX_SWAPFILES + HWPOISON_NUM, SWP_MIGRATION_WRITE = that + 1.
  include/linux/swapops.h:12-25 arch-independent swp_entry(): offset masked to 64-5 = 59 bits.
  arch/x86/include/asm/pgtable_types.h:9-31 _PAGE_BIT_PRESENT 0, RW 1, USER 2, ACCESSED 5,
    DIRTY 6, GLOBAL 8 = PROTNONE, _PAGE_BIT_FILE = DIRTY (6).
  arch/x86/include/asm/pgtable_64.h:135-152 _PAGE_BIT_FILE (6) < PROTNONE (8), so
    SWP_TYPE_BITS = 6 - 0 - 1 = 5 and SWP_OFFSET_SHIFT = 8 + 1 = 9:
    __swp_entry(type, offset) = type << 1 | offset << 9.
v5.1 / v5.10.37
  include/linux/swap.h:48,65-96 add SWP_DEVICE_NUM 2 (CONFIG_DEVICE_PRIVATE); MAX_SWAPFILES =
    32 - DEVICE - MIGRATION - HWPOISON; SWP_DEVICE_WRITE = MAX_SWAPFILES + HWPOISON_NUM +
    MIGRATION_NUM, SWP_DEVICE_READ = that + 1.
  include/linux/swapops.h (5.1:21-31, 5.10.37:23-33) SWP_TYPE_SHIFT = BITS_PER_XA_VALUE (63)
    - 5 = 58.
  include/linux/swapops.h (5.1:65-73, 5.10.37:65-75) pte_to_swp_entry clears the swap
    soft-dirty (and at 5.10.37 the swap uffd-wp) bit before decoding.
  arch/x86/include/asm/pgtable_64.h (5.1:209-231, 5.10.37:212-234) SWP_TYPE_BITS 5,
    SWP_OFFSET_FIRST_BIT 9, SWP_OFFSET_SHIFT 14; type in bits 59-63; the offset is stored
    INVERTED (~offset, the L1TF mitigation) in bits 9-58.
  arch/x86/include/asm/pgtable_types.h _PAGE_BIT_SOFT_DIRTY = SOFTW3 (11), _PAGE_SWP_SOFT_DIRTY
    = _PAGE_RW (5.1:35,98; 5.10.37:36,99); _PAGE_BIT_UFFD_WP = SOFTW2 (10), _PAGE_SWP_UFFD_WP =
    _PAGE_USER (5.10.37:35,105-106 only).
v2.6.7 (NOT in the corpus, which holds only mm/rmap.c for that tag)
  Read from public copies of the pre-git history in github.com/dmgerman/history-token
  (a tokenised BitKeeper-era kernel history; the stored versions are 2.6-era, close to but not
  proven identical to v2.6.7):
  include/asm-x86_64/pgtable.h (commit 0af26a70460451835b4043441c916dbfd38905e8):
      __swp_type(x) = (x.val >> 1) & 0x3f, __swp_offset(x) = x.val >> 8,
      __swp_entry(type, offset) = type << 1 | offset << 8; _PAGE_FILE 0x040, _PAGE_PROTNONE 0x080;
      pte_present = val & (_PAGE_PRESENT | _PAGE_PROTNONE); pte_pfn = (val >> 12) & __PHYSICAL_MASK
  include/linux/swap.h (commit 059cd22fdff2c5c6b14bf459776faa52f20f9eef):
      MAX_SWAPFILES_SHIFT 5, MAX_SWAPFILES = 1 << 5 = 32: no migration, hwpoison or device types
  include/linux/swapops.h (commit 2a6832aca07af61d05e09207ff04ef8d2c2b5bf3): SWP_TYPE_SHIFT(e) =
      64 - MAX_SWAPFILES_SHIFT; we assume the offset mask is 59 bits wide (irrelevant below 2**31)

__PHYSICAL_MASK_SHIFT (asm/page_64_types.h, not in the corpus) is assumed 46 at v2.6.x and 52 at
v5.x: it only bounds the PFN of a present PTE.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

from kvdiff.analyzers.errors import KvdiffError

MODEL_TAGS: tuple[str, ...] = ("v2.6.7", "v2.6.35", "v5.1", "v5.10.37")

PAGE_SHIFT = 12
MASK64 = (1 << 64) - 1

# Present-PTE bits, identical at every tag (pgtable_types.h:9-18 at v2.6.35, :12-21 at 5.x).
P = 1 << 0
RW = 1 << 1
USER = 1 << 2
ACCESSED = 1 << 5
DIRTY = 1 << 6
PROTNONE_2_6_7 = 1 << 7  # asm-x86_64/pgtable.h: _PAGE_PROTNONE 0x080 (2.6.7 only)
GLOBAL_PROTNONE = 1 << 8  # _PAGE_BIT_PROTNONE = _PAGE_BIT_GLOBAL (2.6.35 and 5.x)
FILE = 1 << 6  # _PAGE_FILE: nonlinear file pte, 2.6.x only (removed before 5.x)
UFFD_WP = 1 << 10  # _PAGE_BIT_UFFD_WP = SOFTW2, v5.10.37 pgtable_types.h:35
SOFT_DIRTY = 1 << 11  # _PAGE_BIT_SOFT_DIRTY = SOFTW3, 5.x pgtable_types.h:35/36
SWP_SOFT_DIRTY = RW  # _PAGE_SWP_SOFT_DIRTY = _PAGE_RW (5.x)
SWP_UFFD_WP = USER  # _PAGE_SWP_UFFD_WP = _PAGE_USER (v5.10.37)
NX = 1 << 63


@dataclass(frozen=True)
class ModelConfig:
    """The kernel configuration the entry numbers assume. Each option changes MAX_SWAPFILES."""

    migration: bool = True  # CONFIG_MIGRATION (2.6.35+)
    memory_failure: bool = True  # CONFIG_MEMORY_FAILURE (2.6.35+)
    device_private: bool = True  # CONFIG_DEVICE_PRIVATE (5.x)
    mem_soft_dirty: bool = True  # CONFIG_MEM_SOFT_DIRTY (5.x)
    uffd_wp: bool = True  # CONFIG_HAVE_ARCH_USERFAULTFD_WP (v5.10.37)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_kconfig(cls, settings: Mapping[str, bool]) -> ModelConfig:
        """A configuration from Kconfig names (``{"CONFIG_MEMORY_FAILURE": False}``)."""
        changes = {}
        for name, value in settings.items():
            field_name = KCONFIG_FIELDS.get(name)
            if field_name is None:
                raise KvdiffError(
                    f"unknown model option {name}; the model knows {', '.join(KCONFIG_FIELDS)}"
                )
            changes[field_name] = value
        return replace(cls(), **changes)

    def kconfig(self) -> dict[str, bool]:
        """The options as Kconfig names, in declaration order."""
        return {name: getattr(self, f) for name, f in KCONFIG_FIELDS.items()}


# Kconfig name -> ModelConfig field: the names a user passes to `kvdiff model --config`.
KCONFIG_FIELDS = {
    "CONFIG_MIGRATION": "migration",
    "CONFIG_MEMORY_FAILURE": "memory_failure",
    "CONFIG_DEVICE_PRIVATE": "device_private",
    "CONFIG_MEM_SOFT_DIRTY": "mem_soft_dirty",
    "CONFIG_HAVE_ARCH_USERFAULTFD_WP": "uffd_wp",
}


@dataclass(frozen=True)
class SwapTypes:
    """Swap type numbers at one tag under one configuration (None: the type does not exist)."""

    max_swapfiles: int
    hwpoison: int | None
    migration_read: int | None
    migration_write: int | None
    device_write: int | None
    device_read: int | None


@dataclass(frozen=True)
class Decoded:
    """What a PTE value means at a tag."""

    kind: str  # "none" | "present" | "swap" | "migration" | "hwpoison" | "device" | "file"
    pfn: int | None
    swap_type: int | None
    offset: int | None
    write: bool | None
    text: str
    soft_dirty: bool = False
    uffd_wp: bool = False

    def to_json(self) -> dict:
        return asdict(self)


def check_tag(tag: str) -> None:
    if tag not in MODEL_TAGS:
        raise KvdiffError(
            f"no model for tag {tag}: the reference model covers {', '.join(MODEL_TAGS)}; "
            "pick one of those"
        )


def _generation(tag: str) -> str:
    check_tag(tag)
    return {"v2.6.7": "2.6.7", "v2.6.35": "2.6.35", "v5.1": "5", "v5.10.37": "5"}[tag]


def swap_types(tag: str, config: ModelConfig | None = None) -> SwapTypes:
    """MAX_SWAPFILES and the special type numbers (include/linux/swap.h at the tag)."""
    config = config or ModelConfig()
    gen = _generation(tag)
    if gen == "2.6.7":
        return SwapTypes(32, None, None, None, None, None)
    hwpoison_num = 1 if config.memory_failure else 0
    migration_num = 2 if config.migration else 0
    device_num = 2 if (gen == "5" and config.device_private) else 0
    max_swapfiles = (1 << 5) - device_num - migration_num - hwpoison_num
    return SwapTypes(
        max_swapfiles=max_swapfiles,
        hwpoison=max_swapfiles if hwpoison_num else None,
        migration_read=max_swapfiles + hwpoison_num if migration_num else None,
        migration_write=max_swapfiles + hwpoison_num + 1 if migration_num else None,
        device_write=max_swapfiles + hwpoison_num + migration_num if device_num else None,
        device_read=max_swapfiles + hwpoison_num + migration_num + 1 if device_num else None,
    )


def offset_bits(tag: str) -> int:
    """How many offset bits survive the round trip through the arch PTE format."""
    return {"2.6.7": 64 - 8, "2.6.35": 64 - 9, "5": 64 - 14}[_generation(tag)]


def _swp_entry_offset(tag: str, offset: int) -> int:
    # swp_entry() masks the offset to SWP_OFFSET_MASK: 59 bits at 2.6.x, 58 at 5.x.
    bits = 58 if _generation(tag) == "5" else 59
    return offset & ((1 << bits) - 1)


def swp_entry_to_pte(tag: str, swap_type: int, offset: int) -> int:
    """swp_entry() then swp_entry_to_pte(): the arch __swp_entry() of that tag."""
    gen = _generation(tag)
    if not 0 <= swap_type < 32:
        raise ValueError(f"swap type {swap_type} does not fit MAX_SWAPFILES_SHIFT (5 bits)")
    offset = _swp_entry_offset(tag, offset)
    if gen == "2.6.7":
        return ((swap_type << 1) | (offset << 8)) & MASK64
    if gen == "2.6.35":
        return ((swap_type << 1) | (offset << 9)) & MASK64
    # 5.x: (~offset << SWP_OFFSET_SHIFT >> SWP_TYPE_BITS) | type << (64 - SWP_TYPE_BITS)
    inverted = ((~offset & MASK64) << 14) & MASK64
    return (inverted >> 5) | (swap_type << 59)


def pte_to_swp_entry(tag: str, pte: int, config: ModelConfig | None = None) -> tuple[int, int]:
    """(type, offset) of a non-present, non-file PTE, as pte_to_swp_entry() at the tag reads it."""
    config = config or ModelConfig()
    gen = _generation(tag)
    if gen == "2.6.7":
        return (pte >> 1) & 0x3F, _swp_entry_offset(tag, pte >> 8)
    if gen == "2.6.35":
        return (pte >> 1) & 0x1F, _swp_entry_offset(tag, pte >> 9)
    if config.mem_soft_dirty:
        pte &= ~SWP_SOFT_DIRTY
    if tag == "v5.10.37" and config.uffd_wp:
        pte &= ~SWP_UFFD_WP
    swap_type = pte >> 59
    offset = (((~pte & MASK64) << 5) & MASK64) >> 14
    return swap_type, _swp_entry_offset(tag, offset)


def physical_mask_shift(tag: str) -> int:
    return 52 if _generation(tag) == "5" else 46


def present_mask(tag: str) -> int:
    """pte_present(): _PAGE_PRESENT | _PAGE_PROTNONE."""
    return P | (PROTNONE_2_6_7 if _generation(tag) == "2.6.7" else GLOBAL_PROTNONE)


def pte_present(tag: str, pte: int) -> bool:
    return bool(pte & present_mask(tag))


def pte_pfn(tag: str, pte: int) -> int:
    shift = physical_mask_shift(tag)
    gen = _generation(tag)
    if gen == "2.6.7":
        return (pte >> PAGE_SHIFT) & ((1 << shift) - 1)
    if gen == "5" and pte and not pte & P:
        # L1TF: 5.x stores the pfn of a PROT_NONE pte inverted; pte_pfn() undoes it with
        # protnone_mask() (asm/pgtable.h and pgtable-invert.h, not in the corpus), the same
        # mitigation as the inverted swap offset (5.1 pgtable_64.h:206-207).
        pte ^= MASK64
    return (pte & ((1 << shift) - 1)) >> PAGE_SHIFT


def make_present(
    tag: str,
    pfn: int,
    *,
    write: bool = True,
    dirty: bool = False,
    young: bool = False,
    soft_dirty: bool = False,
    uffd_wp: bool = False,
    nx: bool = True,
) -> int:
    """A user PTE mapping ``pfn`` (mk_pte with the given bits)."""
    gen = _generation(tag)
    if soft_dirty and gen != "5":
        raise ValueError(f"{tag} has no soft-dirty bit")
    if uffd_wp and tag != "v5.10.37":
        raise ValueError(f"{tag} has no uffd-wp bit")
    if not 0 <= pfn < (1 << (physical_mask_shift(tag) - PAGE_SHIFT)):
        raise ValueError(f"pfn {pfn:#x} does not fit the physical mask at {tag}")
    pte = P | USER | (pfn << PAGE_SHIFT)
    pte |= (RW if write else 0) | (DIRTY if dirty else 0) | (ACCESSED if young else 0)
    pte |= (SOFT_DIRTY if soft_dirty else 0) | (UFFD_WP if uffd_wp else 0) | (NX if nx else 0)
    return pte


def migration_pte(tag: str, pfn: int, write: bool, config: ModelConfig | None = None) -> int:
    """swp_entry_to_pte(make_migration_entry(page, write))."""
    types = swap_types(tag, config)
    if types.migration_read is None or types.migration_write is None:
        # 2.6.7 has no page migration; with CONFIG_MIGRATION=n make_migration_entry is
        # swp_entry(0, 0) (v2.6.35 swapops.h:118).
        if _generation(tag) == "2.6.7":
            raise ValueError("v2.6.7 has no migration entries")
        return swp_entry_to_pte(tag, 0, 0)
    return swp_entry_to_pte(tag, types.migration_write if write else types.migration_read, pfn)


def hwpoison_pte(tag: str, pfn: int, config: ModelConfig | None = None) -> int:
    """swp_entry_to_pte(make_hwpoison_entry(page))."""
    types = swap_types(tag, config)
    if types.hwpoison is None:
        if _generation(tag) == "2.6.7":
            raise ValueError("v2.6.7 has no hwpoison entries")
        return swp_entry_to_pte(tag, 0, 0)
    return swp_entry_to_pte(tag, types.hwpoison, pfn)


def device_pte(tag: str, pfn: int, write: bool, config: ModelConfig | None = None) -> int:
    """swp_entry_to_pte(make_device_private_entry(page, write)) (5.x, CONFIG_DEVICE_PRIVATE)."""
    types = swap_types(tag, config)
    if types.device_write is None or types.device_read is None:
        raise ValueError(f"{tag} with this configuration has no device-private entries")
    return swp_entry_to_pte(tag, types.device_write if write else types.device_read, pfn)


def pte_soft_dirty(tag: str, pte: int, config: ModelConfig | None = None) -> bool:
    """pte_soft_dirty() of a PTE read as present: _PAGE_SOFT_DIRTY is 0 without
    CONFIG_MEM_SOFT_DIRTY (5.1 pgtable_types.h:81-85, 5.10.37:82-86), and 2.6.x has none."""
    config = config or ModelConfig()
    return _generation(tag) == "5" and config.mem_soft_dirty and bool(pte & SOFT_DIRTY)


def pte_uffd_wp(tag: str, pte: int, config: ModelConfig | None = None) -> bool:
    """pte_uffd_wp(): _PAGE_UFFD_WP is 0 without CONFIG_HAVE_ARCH_USERFAULTFD_WP (v5.10.37
    pgtable_types.h:104-110); older tags have no such bit."""
    config = config or ModelConfig()
    return tag == "v5.10.37" and config.uffd_wp and bool(pte & UFFD_WP)


def swp_mksoft_dirty(tag: str, pte: int, config: ModelConfig | None = None) -> int:
    """pte_swp_mksoft_dirty(): a no-op without CONFIG_MEM_SOFT_DIRTY."""
    config = config or ModelConfig()
    return pte | SWP_SOFT_DIRTY if (_generation(tag) == "5" and config.mem_soft_dirty) else pte


def swp_mkuffd_wp(tag: str, pte: int, config: ModelConfig | None = None) -> int:
    """pte_swp_mkuffd_wp() (v5.10.37): a no-op without CONFIG_HAVE_ARCH_USERFAULTFD_WP."""
    config = config or ModelConfig()
    return pte | SWP_UFFD_WP if (tag == "v5.10.37" and config.uffd_wp) else pte


def _flags_text(soft_dirty: bool, uffd_wp: bool) -> str:
    return (" +soft-dirty" if soft_dirty else "") + (" +uffd-wp" if uffd_wp else "")


def decode(tag: str, pte: int, config: ModelConfig | None = None) -> Decoded:
    """What the PTE value means at ``tag``: the inverse of the encoders above."""
    config = config or ModelConfig()
    gen = _generation(tag)
    if pte == 0:
        return Decoded("none", None, None, None, None, "none")
    if pte_present(tag, pte):
        pfn = pte_pfn(tag, pte)
        write = bool(pte & RW)
        bits = ["W" if write else "R"]
        if pte & DIRTY:
            bits.append("dirty")
        if pte & ACCESSED:
            bits.append("young")
        soft = pte_soft_dirty(tag, pte, config)
        uffd = pte_uffd_wp(tag, pte, config)
        text = f"present(pfn {pfn:#x}, {', '.join(bits)}){_flags_text(soft, uffd)}"
        return Decoded("present", pfn, None, None, write, text, soft, uffd)
    if gen != "5" and pte & FILE:
        pgoff = (pte & ((1 << physical_mask_shift(tag)) - 1)) >> PAGE_SHIFT
        return Decoded("file", None, None, pgoff, None, f"file(pgoff {pgoff:#x})")
    soft = gen == "5" and config.mem_soft_dirty and bool(pte & SWP_SOFT_DIRTY)
    uffd = tag == "v5.10.37" and config.uffd_wp and bool(pte & SWP_UFFD_WP)
    swap_type, offset = pte_to_swp_entry(tag, pte, config)
    types = swap_types(tag, config)
    extra = _flags_text(soft, uffd)
    if swap_type in (types.migration_read, types.migration_write):
        write = swap_type == types.migration_write
        text = f"migration({'W' if write else 'R'}, pfn {offset:#x}){extra}"
        return Decoded("migration", offset, swap_type, offset, write, text, soft, uffd)
    if swap_type == types.hwpoison:
        text = f"hwpoison(pfn {offset:#x}){extra}"
        return Decoded("hwpoison", offset, swap_type, offset, None, text, soft, uffd)
    if swap_type in (types.device_write, types.device_read):
        write = swap_type == types.device_write
        text = f"device({'W' if write else 'R'}, pfn {offset:#x}){extra}"
        return Decoded("device", offset, swap_type, offset, write, text, soft, uffd)
    text = f"swap(type {swap_type}, offset {offset:#x}){extra}"
    return Decoded("swap", None, swap_type, offset, None, text, soft, uffd)
