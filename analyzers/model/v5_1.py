"""try_to_unmap_one() at v5.1, mirroring mm/rmap.c:1338-1662 of the corpus.

Returns bool. Order inside the walk: mlock (1403) -> zone-device migration (1455) -> young
(1480) -> clear the pte -> hwpoison (1514) -> pte_unused (1527) -> migration (1542, tested
BEFORE PageAnon, so an anon swap-cache page being migrated gets a migration entry) -> anon
(1569: MADV_FREE 1587, swap entry 1607-1630) -> file (1634). Soft-dirty is carried into the
swap/migration pte. The model covers one small (non-THP, non-hugetlb) page mapped by one pte.
"""

from __future__ import annotations

from .encoding import (
    ACCESSED,
    DIRTY,
    RW,
    ModelConfig,
    decode,
    hwpoison_pte,
    migration_pte,
    pte_soft_dirty,
    swp_entry_to_pte,
    swp_mksoft_dirty,
)
from .state import UnmapInput
from .tracing import ModelBranch, Tracer, UnmapResult, branch_table

TAG = "v5.1"
PATH = "mm/rmap.c"

_ZONE_DEVICE = (
    "IS_ENABLED(CONFIG_MIGRATION) && (flags & TTU_MIGRATION) && is_zone_device_page(page)"
)
_BRANCHES, BRANCHES = branch_table(
    PATH,
    (
        ("munlock_early", "mlock", "(flags & TTU_MUNLOCK) && !(vma->vm_flags & VM_LOCKED)", 1354),
        (
            "device_skip",
            "device_migration",
            _ZONE_DEVICE + " && !is_device_private_page(page)",
            1357,
        ),
        ("ignore_mlock", "mlock", "!(flags & TTU_IGNORE_MLOCK)", 1403),
        ("vm_locked", "mlock", "vma->vm_flags & VM_LOCKED", 1404),
        ("munlock", "mlock", "flags & TTU_MUNLOCK", 1417),
        ("device", "device_migration", _ZONE_DEVICE, 1455),
        ("ignore_access", "young", "!(flags & TTU_IGNORE_ACCESS)", 1480),
        ("young", "young", "ptep_clear_flush_young_notify(vma, address, pvmw.pte)", 1481),
        ("hwpoison", "hwpoison", "PageHWPoison(page) && !(flags & TTU_IGNORE_HWPOISON)", 1514),
        ("unused", "guest_unused", "pte_unused(pteval) && !userfaultfd_armed(vma)", 1527),
        (
            "migration",
            "migration",
            "IS_ENABLED(CONFIG_MIGRATION) && (flags & (TTU_MIGRATION|TTU_SPLIT_FREEZE))",
            1542,
        ),
        ("anon", "anon", "PageAnon(page)", 1569),
        # The rest of the anon block is the swap-entry path (MADV_FREE pages aside).
        ("swapcache", "swapcache", "PageAnon(page)", 1569),
        (
            "swapbacked",
            "swapcache",
            "unlikely(PageSwapBacked(page) != PageSwapCache(page))",
            1576,
        ),
        ("lazyfree", "lazyfree", "!PageSwapBacked(page)", 1587),
        ("lazyfree_clean", "lazyfree", "!PageDirty(page)", 1588),
        ("swap_dup", "swapcache", "swap_duplicate(entry) < 0", 1607),
        ("file", "file", "", 1634),
    ),
)


def model_branches() -> tuple[ModelBranch, ...]:
    return BRANCHES


def try_to_unmap_one(inp: UnmapInput, config: ModelConfig) -> UnmapResult:
    t = Tracer(_BRANCHES)
    page, vma, mm, pte, flags = inp.page, inp.vma, inp.mm, inp.pte, inp.flags
    ret = "true"  # rmap.c:1349
    migration_on = config.migration  # IS_ENABLED(CONFIG_MIGRATION)

    def done() -> UnmapResult:
        return UnmapResult(pte, ret, tuple(t.effects), tuple(t.steps))

    if t.branch("munlock_early", "TTU_MUNLOCK" in flags and "VM_LOCKED" not in vma.flags):
        return done()
    device_skip = (
        migration_on and "TTU_MIGRATION" in flags and page.zone_device and not page.device_private
    )
    if t.branch("device_skip", device_skip):
        return done()

    # rmap.c:1387 page_vma_mapped_walk(): finds the pte mapping this page, otherwise the loop
    # body never runs. Its check_pte() (mm/page_vma_mapped.c, not in the corpus) accepts a present
    # pte or a device-private swap entry, and then only if that pfn is this page's.
    found = decode(TAG, pte, config)
    mapped = found.kind in ("present", "device") and found.pfn == page.pfn
    if not mapped:
        t.effect("page_vma_mapped_walk() found no pte for this page (rmap.c:1387)")
        return done()

    if t.branch("ignore_mlock", "TTU_IGNORE_MLOCK" not in flags):
        if t.branch("vm_locked", "VM_LOCKED" in vma.flags):
            t.effect("mlock_vma_page(page) (rmap.c:1411)")
            ret = "false"
            return done()
        if t.branch("munlock", "TTU_MUNLOCK" in flags):
            return done()

    if t.branch("device", migration_on and "TTU_MIGRATION" in flags and page.zone_device):
        pteval = pte  # rmap.c:1461 ptep_get_and_clear
        swp = migration_pte(TAG, page.pfn, False, config)  # rmap.c:1468: always read
        if pte_soft_dirty(TAG, pteval, config):  # rmap.c:1470 pte_soft_dirty(pteval)
            swp = swp_mksoft_dirty(TAG, swp, config)
        pte = swp
        return _discard(t, page, pte, ret)

    if t.branch("ignore_access", "TTU_IGNORE_ACCESS" not in flags):
        young = bool(pte & ACCESSED)
        if young:
            pte &= ~ACCESSED
            t.effect("ptep_clear_flush_young_notify: accessed bit cleared (rmap.c:1481)")
        if t.branch("young", young):
            ret = "false"
            return done()

    pteval = pte
    pte = 0
    if "TTU_BATCH_FLUSH" in flags and mm.on_other_cpus:  # rmap.c:1491 should_defer_flush
        t.effect("ptep_get_and_clear + deferred TLB flush (rmap.c:1500-1502)")
    else:
        t.effect("ptep_clear_flush (rmap.c:1504)")
    if pteval & DIRTY:  # rmap.c:1508
        t.effect("set_page_dirty(page) (rmap.c:1509)")
    t.effect("update_hiwater_rss(mm) (rmap.c:1512)")

    poisoned = page.hwpoison and config.memory_failure and "TTU_IGNORE_HWPOISON" not in flags
    if t.branch("hwpoison", poisoned):
        t.effect("dec_mm_counter(mm_counter(page)) (rmap.c:1523)")
        pte = hwpoison_pte(TAG, page.pfn, config)  # rmap.c:1515,1524
    # x86_64 pte_unused() is always 0 (only s390 defines it), so this is never taken here.
    elif t.branch("unused", False):
        pass
    elif t.branch(
        "migration", migration_on and bool(flags & {"TTU_MIGRATION", "TTU_SPLIT_FREEZE"})
    ):
        if mm.arch_unmap_fails:  # rmap.c:1547
            pte = pteval
            ret = "false"
            return done()
        swp = migration_pte(TAG, page.pfn, bool(pteval & RW), config)  # rmap.c:1559-1561
        if pte_soft_dirty(TAG, pteval, config):  # rmap.c:1562
            swp = swp_mksoft_dirty(TAG, swp, config)
            t.effect("pte_swp_mksoft_dirty: soft-dirty carried into the entry (rmap.c:1563)")
        pte = swp
    elif t.branch("anon", page.anon):
        if t.branch("swapbacked", page.swapbacked != page.swapcache):
            t.effect("WARN_ON_ONCE: PageSwapBacked != PageSwapCache (rmap.c:1576-1577)")
            ret = "false"
            return done()
        if t.branch("lazyfree", not page.swapbacked):
            # set_page_dirty() at rmap.c:1509 already moved a dirty pte bit into PageDirty
            # (page_mapping() is NULL for this anon page, so it sets the flag directly;
            # mm/page-writeback.c, not in the corpus): that is how the page is "redirtied".
            page_dirty = page.dirty or bool(pteval & DIRTY)
            if t.branch("lazyfree_clean", not page_dirty):
                t.effect("dec_mm_counter(MM_ANONPAGES): clean MADV_FREE page discarded (1592)")
                return _discard(t, page, pte, ret)
            pte = pteval  # rmap.c:1600: redirtied, remap
            t.effect("SetPageSwapBacked(page): redirtied MADV_FREE page kept (rmap.c:1601)")
            ret = "false"
            return done()
        if t.branch("swap_dup", mm.swap_duplicate_fails):
            pte = pteval
            ret = "false"
            return done()
        if mm.arch_unmap_fails:  # rmap.c:1613
            pte = pteval
            ret = "false"
            return done()
        t.effect(
            f"swap_duplicate(entry type {page.swap_type} offset {page.swap_offset:#x}): "
            "swap count +1 (rmap.c:1607)"
        )
        t.effect("dec_mm_counter(MM_ANONPAGES), inc_mm_counter(MM_SWAPENTS) (rmap.c:1625-1626)")
        t.branch("swapcache", True)  # the swap entry is written
        swp = swp_entry_to_pte(TAG, page.swap_type, page.swap_offset)  # rmap.c:1627
        if pte_soft_dirty(TAG, pteval, config):  # rmap.c:1628
            swp = swp_mksoft_dirty(TAG, swp, config)
            t.effect("pte_swp_mksoft_dirty: soft-dirty carried into the entry (rmap.c:1629)")
        pte = swp
    else:
        t.branch("file", True)
        t.effect("dec_mm_counter(mm_counter_file(page)) (rmap.c:1645)")
    return _discard(t, page, pte, ret)


def _discard(t: Tracer, page, pte: int, ret: str) -> UnmapResult:
    """The discard: label (rmap.c:1647-1656)."""
    t.effect(f"page_remove_rmap: mapcount {page.mapcount} -> {page.mapcount - 1} (rmap.c:1655)")
    t.effect(f"put_page: page_count {page.refcount} -> {page.refcount - 1} (rmap.c:1656)")
    return UnmapResult(pte, ret, tuple(t.effects), tuple(t.steps))
