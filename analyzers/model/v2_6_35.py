"""try_to_unmap_one() at v2.6.35, mirroring mm/rmap.c:898-1016 of the corpus.

Trap: inside the PageAnon block PageSwapCache is tested BEFORE the migration case
(rmap.c:951 then 969), so migrating an anon page that is in the swap cache writes a SWAP entry,
not a migration entry. A file page under TTU_MIGRATION gets a migration entry (rmap.c:980).
VM_LOCKED goes to out_mlock (rmap.c:996): mmap_sem trylock, mlock_vma_page, SWAP_MLOCK.
PAGE_MIGRATION is 1 with CONFIG_MIGRATION=y (include/linux/migrate.h, not in the corpus).
"""

from __future__ import annotations

from .encoding import (
    ACCESSED,
    DIRTY,
    RW,
    ModelConfig,
    hwpoison_pte,
    migration_pte,
    pte_pfn,
    pte_present,
    swp_entry_to_pte,
)
from .state import UnmapInput
from .tracing import ModelBranch, Tracer, UnmapResult, branch_table

TAG = "v2.6.35"
PATH = "mm/rmap.c"

_BRANCHES, BRANCHES = branch_table(
    PATH,
    (
        ("ignore_mlock", "mlock", "!(flags & TTU_IGNORE_MLOCK)", 916),
        ("vm_locked", "mlock", "vma->vm_flags & VM_LOCKED", 917),
        ("munlock", "mlock", "TTU_ACTION(flags) == TTU_MUNLOCK", 920),
        ("ignore_access", "young", "!(flags & TTU_IGNORE_ACCESS)", 923),
        ("young", "young", "ptep_clear_flush_young_notify(vma, address, pte)", 924),
        ("hwpoison", "hwpoison", "PageHWPoison(page) && !(flags & TTU_IGNORE_HWPOISON)", 941),
        ("anon", "anon", "PageAnon(page)", 948),
        ("swapcache", "swapcache", "PageSwapCache(page)", 951),
        ("swap_dup", "swapcache", "swap_duplicate(entry) < 0", 956),
        ("anon_migration", "migration", "PAGE_MIGRATION", 969),
        (
            "file_migration",
            "migration",
            "PAGE_MIGRATION && (TTU_ACTION(flags) == TTU_MIGRATION)",
            980,
        ),
        ("file", "file", "", 985),
        ("mlock_trylock", "mlock", "down_read_trylock(&vma->vm_mm->mmap_sem)", 1008),
        ("mlock_recheck", "mlock", "vma->vm_flags & VM_LOCKED", 1009),
    ),
)


def model_branches() -> tuple[ModelBranch, ...]:
    return BRANCHES


def try_to_unmap_one(inp: UnmapInput, config: ModelConfig) -> UnmapResult:
    t = Tracer(_BRANCHES)
    page, vma, mm, pte, flags = inp.page, inp.vma, inp.mm, inp.pte, inp.flags
    ret = "SWAP_AGAIN"  # rmap.c:905
    page_migration = config.migration  # PAGE_MIGRATION

    def done() -> UnmapResult:
        return UnmapResult(pte, ret, tuple(t.effects), tuple(t.steps))

    # rmap.c:907 page_check_address(): present and mapping this page, or bail out.
    if not pte_present(TAG, pte) or pte_pfn(TAG, pte) != page.pfn:
        t.effect("bail-out: page_check_address() found no pte for this page (rmap.c:907)")
        return done()

    if t.branch("ignore_mlock", "TTU_IGNORE_MLOCK" not in flags):
        if t.branch("vm_locked", "VM_LOCKED" in vma.flags):
            # out_mlock, rmap.c:996-1015
            t.effect("goto out_mlock; pte_unmap_unlock (rmap.c:997)")
            if t.branch("mlock_trylock", mm.mmap_sem_trylock):
                if t.branch("mlock_recheck", "VM_LOCKED" in vma.flags):
                    t.effect("mlock_vma_page(page) (rmap.c:1010)")
                    ret = "SWAP_MLOCK"
            else:
                t.effect("down_read_trylock failed: page stays evictable, retried later")
            return done()
        if t.branch("munlock", "TTU_MUNLOCK" in flags):
            return done()
    if t.branch("ignore_access", "TTU_IGNORE_ACCESS" not in flags):
        young = bool(pte & ACCESSED)
        if young:
            pte &= ~ACCESSED
            t.effect("ptep_clear_flush_young_notify: accessed bit cleared (rmap.c:924)")
        if t.branch("young", young):
            ret = "SWAP_FAIL"
            return done()

    pteval = pte  # rmap.c:932 ptep_clear_flush_notify
    pte = 0
    t.effect("ptep_clear_flush_notify (rmap.c:932)")
    if pteval & DIRTY:  # rmap.c:935
        t.effect("set_page_dirty(page) (rmap.c:936)")
    t.effect("update_hiwater_rss(mm) (rmap.c:939)")

    poisoned = page.hwpoison and config.memory_failure and "TTU_IGNORE_HWPOISON" not in flags
    if t.branch("hwpoison", poisoned):
        counter = "MM_ANONPAGES" if page.anon else "MM_FILEPAGES"
        t.effect(f"dec_mm_counter({counter}) (rmap.c:942-945)")
        pte = hwpoison_pte(TAG, page.pfn, config)  # rmap.c:946
    elif t.branch("anon", page.anon):
        entry = (page.swap_type, page.swap_offset)
        if t.branch("swapcache", page.swapcache):
            if t.branch("swap_dup", mm.swap_duplicate_fails):
                pte = pteval  # rmap.c:957
                ret = "SWAP_FAIL"
                return done()
            t.effect(f"swap_duplicate(entry type {entry[0]} offset {entry[1]:#x}): swap count +1")
            t.effect("mm added to init_mm.mmlist if not yet (rmap.c:961-966)")
            t.effect("dec_mm_counter(MM_ANONPAGES), inc_mm_counter(MM_SWAPENTS) (rmap.c:967-968)")
            pte = swp_entry_to_pte(TAG, *entry)  # rmap.c:978
        elif t.branch("anon_migration", page_migration):
            if "TTU_MIGRATION" not in flags:
                t.effect("BUG_ON(TTU_ACTION(flags) != TTU_MIGRATION) fires (rmap.c:975)")
                ret = "BUG"
                return done()
            pte = migration_pte(TAG, page.pfn, bool(pteval & RW), config)  # rmap.c:976-978
        else:
            # !PageSwapCache and !PAGE_MIGRATION: entry is page_private, written as is.
            pte = swp_entry_to_pte(TAG, *entry)
    elif t.branch("file_migration", page_migration and "TTU_MIGRATION" in flags):
        pte = migration_pte(TAG, page.pfn, bool(pteval & RW), config)  # rmap.c:983-984
    else:
        t.branch("file", True)
        t.effect("dec_mm_counter(MM_FILEPAGES) (rmap.c:986)")

    t.effect(f"page_remove_rmap: mapcount {page.mapcount} -> {page.mapcount - 1} (rmap.c:988)")
    t.effect(f"page_cache_release: page_count {page.refcount} -> {page.refcount - 1} (rmap.c:989)")
    return done()
