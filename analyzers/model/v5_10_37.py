"""try_to_unmap_one() at v5.10.37, mirroring mm/rmap.c:1373-1712 of the corpus.

Like v5.1 but with NO young check at all (nothing between the zone-device branch at 1496 and
the pte clear at 1537: reclaim of a young pte unmaps it), and soft-dirty AND uffd-wp are carried
into the swap/migration pte (1608-1611, 1676-1679; the device branch reads the swap-pte bits,
1516-1519). The model covers one small (non-THP, non-hugetlb) page mapped by one pte.
"""

from __future__ import annotations

from .encoding import (
    DIRTY,
    RW,
    SWP_SOFT_DIRTY,
    SWP_UFFD_WP,
    ModelConfig,
    decode,
    hwpoison_pte,
    migration_pte,
    pte_soft_dirty,
    pte_uffd_wp,
    swp_entry_to_pte,
    swp_mksoft_dirty,
    swp_mkuffd_wp,
)
from .state import UnmapInput
from .tracing import ModelBranch, Tracer, UnmapResult, branch_table

TAG = "v5.10.37"
PATH = "mm/rmap.c"

_ZONE_DEVICE = (
    "IS_ENABLED(CONFIG_MIGRATION) && (flags & TTU_MIGRATION) && is_zone_device_page(page)"
)
_BRANCHES, BRANCHES = branch_table(
    PATH,
    (
        ("munlock_early", "mlock", "(flags & TTU_MUNLOCK) && !(vma->vm_flags & VM_LOCKED)", 1389),
        (
            "device_skip",
            "device_migration",
            _ZONE_DEVICE + " && !is_device_private_page(page)",
            1392,
        ),
        ("ignore_mlock", "mlock", "!(flags & TTU_IGNORE_MLOCK)", 1438),
        ("vm_locked", "mlock", "vma->vm_flags & VM_LOCKED", 1439),
        ("munlock", "mlock", "flags & TTU_MUNLOCK", 1452),
        ("device", "device_migration", _ZONE_DEVICE, 1496),
        ("hwpoison", "hwpoison", "PageHWPoison(page) && !(flags & TTU_IGNORE_HWPOISON)", 1561),
        ("unused", "guest_unused", "pte_unused(pteval) && !userfaultfd_armed(vma)", 1573),
        (
            "migration",
            "migration",
            "IS_ENABLED(CONFIG_MIGRATION) && (flags & (TTU_MIGRATION|TTU_SPLIT_FREEZE))",
            1588,
        ),
        ("anon", "anon", "PageAnon(page)", 1617),
        # The rest of the anon block is the swap-entry path (MADV_FREE pages aside).
        ("swapcache", "swapcache", "PageAnon(page)", 1617),
        (
            "swapbacked",
            "swapcache",
            "unlikely(PageSwapBacked(page) != PageSwapCache(page))",
            1624,
        ),
        ("lazyfree", "lazyfree", "!PageSwapBacked(page)", 1635),
        ("lazyfree_clean", "lazyfree", "!PageDirty(page)", 1636),
        ("swap_dup", "swapcache", "swap_duplicate(entry) < 0", 1655),
        ("file", "file", "", 1684),
    ),
)


def model_branches() -> tuple[ModelBranch, ...]:
    return BRANCHES


def try_to_unmap_one(inp: UnmapInput, config: ModelConfig) -> UnmapResult:
    t = Tracer(_BRANCHES)
    page, vma, mm, pte, flags = inp.page, inp.vma, inp.mm, inp.pte, inp.flags
    ret = "true"  # rmap.c:1384
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

    # rmap.c:1422 page_vma_mapped_walk(): finds the pte mapping this page, otherwise the loop
    # body never runs. Its check_pte() (mm/page_vma_mapped.c, not in the corpus) accepts a present
    # pte or a device-private swap entry, and then only if that pfn is this page's.
    found = decode(TAG, pte, config)
    mapped = found.kind in ("present", "device") and found.pfn == page.pfn
    if not mapped:
        t.effect("page_vma_mapped_walk() found no pte for this page (rmap.c:1422)")
        return done()

    if t.branch("ignore_mlock", "TTU_IGNORE_MLOCK" not in flags):
        if t.branch("vm_locked", "VM_LOCKED" in vma.flags):
            t.effect("mlock_vma_page(page) (rmap.c:1446)")
            ret = "false"
            return done()
        if t.branch("munlock", "TTU_MUNLOCK" in flags):
            return done()

    if t.branch("device", migration_on and "TTU_MIGRATION" in flags and page.zone_device):
        pteval = pte  # rmap.c:1502 ptep_get_and_clear
        swp = migration_pte(TAG, page.pfn, False, config)  # rmap.c:1509: always read
        # pteval is a device-private swap pte, so the swap-pte bits are read (rmap.c:1516-1519)
        if config.mem_soft_dirty and pteval & SWP_SOFT_DIRTY:
            swp = swp_mksoft_dirty(TAG, swp, config)
        if config.uffd_wp and pteval & SWP_UFFD_WP:
            swp = swp_mkuffd_wp(TAG, swp, config)
        pte = swp
        return _discard(t, page, pte, ret)

    # No young check at this tag: rmap.c:1535 goes straight to "Nuke the page table entry".
    pteval = pte
    pte = 0
    if "TTU_BATCH_FLUSH" in flags and mm.on_other_cpus:  # rmap.c:1538 should_defer_flush
        t.effect("ptep_get_and_clear + deferred TLB flush (rmap.c:1547-1549)")
    else:
        t.effect("ptep_clear_flush (rmap.c:1551)")
    if pteval & DIRTY:  # rmap.c:1555
        t.effect("set_page_dirty(page) (rmap.c:1556)")
    t.effect("update_hiwater_rss(mm) (rmap.c:1559)")

    poisoned = page.hwpoison and config.memory_failure and "TTU_IGNORE_HWPOISON" not in flags
    if t.branch("hwpoison", poisoned):
        t.effect("dec_mm_counter(mm_counter(page)) (rmap.c:1569)")
        pte = hwpoison_pte(TAG, page.pfn, config)  # rmap.c:1562,1570
    # x86_64 pte_unused() is always 0 (only s390 defines it), so this is never taken here.
    elif t.branch("unused", False):
        pass
    elif t.branch(
        "migration", migration_on and bool(flags & {"TTU_MIGRATION", "TTU_SPLIT_FREEZE"})
    ):
        if mm.arch_unmap_fails:  # rmap.c:1593
            pte = pteval
            ret = "false"
            return done()
        swp = migration_pte(TAG, page.pfn, bool(pteval & RW), config)  # rmap.c:1605-1607
        if pte_soft_dirty(TAG, pteval, config):  # rmap.c:1608
            swp = swp_mksoft_dirty(TAG, swp, config)
            t.effect("pte_swp_mksoft_dirty: soft-dirty carried into the entry (rmap.c:1609)")
        if pte_uffd_wp(TAG, pteval, config):  # rmap.c:1610
            swp = swp_mkuffd_wp(TAG, swp, config)
            t.effect("pte_swp_mkuffd_wp: uffd-wp carried into the entry (rmap.c:1611)")
        pte = swp
    elif t.branch("anon", page.anon):
        if t.branch("swapbacked", page.swapbacked != page.swapcache):
            t.effect("WARN_ON_ONCE: PageSwapBacked != PageSwapCache (rmap.c:1624-1625)")
            ret = "false"
            return done()
        if t.branch("lazyfree", not page.swapbacked):
            # set_page_dirty() at rmap.c:1556 already moved a dirty pte bit into PageDirty
            # (page_mapping() is NULL for this anon page, so it sets the flag directly;
            # mm/page-writeback.c, not in the corpus): that is how the page is "redirtied".
            page_dirty = page.dirty or bool(pteval & DIRTY)
            if t.branch("lazyfree_clean", not page_dirty):
                t.effect("dec_mm_counter(MM_ANONPAGES): clean MADV_FREE page discarded (1640)")
                return _discard(t, page, pte, ret)
            pte = pteval  # rmap.c:1648: redirtied, remap
            t.effect("SetPageSwapBacked(page): redirtied MADV_FREE page kept (rmap.c:1649)")
            ret = "false"
            return done()
        if t.branch("swap_dup", mm.swap_duplicate_fails):
            pte = pteval
            ret = "false"
            return done()
        if mm.arch_unmap_fails:  # rmap.c:1661
            pte = pteval
            ret = "false"
            return done()
        t.effect(
            f"swap_duplicate(entry type {page.swap_type} offset {page.swap_offset:#x}): "
            "swap count +1 (rmap.c:1655)"
        )
        t.effect("dec_mm_counter(MM_ANONPAGES), inc_mm_counter(MM_SWAPENTS) (rmap.c:1673-1674)")
        t.branch("swapcache", True)  # the swap entry is written
        swp = swp_entry_to_pte(TAG, page.swap_type, page.swap_offset)  # rmap.c:1675
        if pte_soft_dirty(TAG, pteval, config):  # rmap.c:1676
            swp = swp_mksoft_dirty(TAG, swp, config)
            t.effect("pte_swp_mksoft_dirty: soft-dirty carried into the entry (rmap.c:1677)")
        if pte_uffd_wp(TAG, pteval, config):  # rmap.c:1678
            swp = swp_mkuffd_wp(TAG, swp, config)
            t.effect("pte_swp_mkuffd_wp: uffd-wp carried into the entry (rmap.c:1679)")
        pte = swp
    else:
        t.branch("file", True)
        t.effect("dec_mm_counter(mm_counter_file(page)) (rmap.c:1695)")
    return _discard(t, page, pte, ret)


def _discard(t: Tracer, page, pte: int, ret: str) -> UnmapResult:
    """The discard: label (rmap.c:1697-1706)."""
    t.effect(f"page_remove_rmap: mapcount {page.mapcount} -> {page.mapcount - 1} (rmap.c:1705)")
    t.effect(f"put_page: page_count {page.refcount} -> {page.refcount - 1} (rmap.c:1706)")
    return UnmapResult(pte, ret, tuple(t.effects), tuple(t.steps))
