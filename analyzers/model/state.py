"""The inputs of try_to_unmap_one(): the page, the VMA, the mm and the flags the caller passed.

Only what the code at some tag reads is here. Each field says which tag reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    """struct page, as try_to_unmap_one() sees it."""

    pfn: int
    anon: bool  # PageAnon
    swapcache: bool  # PageSwapCache; then page->private holds the swap entry below
    swap_type: int = 0
    swap_offset: int = 0
    mapcount: int = 1  # page->mapcount (2.6.7) / page_mapcount
    refcount: int = 2  # page_count: one per mapping plus the caller's (plus swap cache's)
    dirty: bool = False  # PageDirty (5.x MADV_FREE check)
    swapbacked: bool = True  # PageSwapBacked (5.x); a MADV_FREE'd anon page has it cleared
    hwpoison: bool = False  # PageHWPoison (2.6.35+)
    zone_device: bool = False  # is_zone_device_page (5.x)
    device_private: bool = False  # is_device_private_page (5.x)
    locked: bool = True  # PageLocked: callers lock the page before try_to_unmap
    ksm: bool = False  # PageKsm: the scenarios' pages are not KSM-merged
    # PageAnonExclusive (5.19+): not set by the scenarios; a writable PTE gives a writable
    # migration entry either way, only a read-only exclusive PTE would differ.
    anon_exclusive: bool = False


@dataclass(frozen=True)
class Vma:
    flags: frozenset[str] = frozenset()  # "VM_LOCKED", "VM_RESERVED" (2.6.7)
    uffd_armed: bool = False  # userfaultfd_armed(vma) (5.x)


@dataclass(frozen=True)
class Mm:
    rss: int = 1  # mm->rss (2.6.7); 0 makes 2.6.7 bail out at once
    page_table_trylock: bool = True  # 2.6.7: spin_trylock(&mm->page_table_lock) succeeds
    mmap_sem_trylock: bool = True  # 2.6.35 out_mlock: down_read_trylock(&mmap_sem) succeeds
    on_other_cpus: bool = False  # 5.x should_defer_flush(): the mm is live on another CPU
    swap_duplicate_fails: bool = False  # swap_duplicate() < 0 (2.6.35+)
    arch_unmap_fails: bool = False  # arch_unmap_one() < 0 (5.x; only sparc64 ADI can fail)


@dataclass(frozen=True)
class UnmapInput:
    """One call: try_to_unmap_one(page, vma[, address, flags])."""

    page: Page
    vma: Vma
    mm: Mm
    pte: int  # the PTE at the address the page is mapped at
    flags: frozenset[str] = field(default_factory=frozenset)  # TTU_* names; 2.6.7 has none
