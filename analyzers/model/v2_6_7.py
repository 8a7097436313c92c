"""try_to_unmap_one() at v2.6.7, mirroring mm/rmap.c:425-522 of the corpus.

2.6.7 takes no flags: reclaim (shrink_list -> try_to_unmap) is its only caller. mlock and the
young check share one ``if`` (rmap.c:468) and both return SWAP_FAIL; an anon page must be in the
swap cache (rmap.c:505 BUG_ON) and gets a swap entry; a file page's PTE is simply cleared.
"""

from __future__ import annotations

from .encoding import ACCESSED, DIRTY, pte_pfn, pte_present, swp_entry_to_pte
from .state import UnmapInput
from .tracing import ModelBranch, Tracer, UnmapResult, branch_table

TAG = "v2.6.7"
PATH = "mm/rmap.c"

_MLOCK_YOUNG = "(vma->vm_flags & (VM_LOCKED|VM_RESERVED)) || ptep_test_and_clear_young(pte)"
_BRANCHES, BRANCHES = branch_table(
    PATH,
    (
        ("mlock", "mlock", _MLOCK_YOUNG, 468),
        ("young", "young", _MLOCK_YOUNG, 468),
        ("gup", "gup", "PageSwapCache(page) && page_count(page) != page->mapcount + 2", 485),
        ("anon", "anon", "PageAnon(page)", 499),
        # The anon block is 2.6.7's swap-entry path: the page must be in the swap cache (505).
        ("swapcache", "swapcache", "PageAnon(page)", 499),
    ),
)


def model_branches() -> tuple[ModelBranch, ...]:
    return BRANCHES


def try_to_unmap_one(inp: UnmapInput) -> UnmapResult:
    t = Tracer(_BRANCHES)
    page, vma, mm, pte = inp.page, inp.vma, inp.mm, inp.pte
    ret = "SWAP_AGAIN"  # rmap.c:433

    def done() -> UnmapResult:
        return UnmapResult(pte, ret, tuple(t.effects), tuple(t.steps))

    if mm.rss == 0:  # rmap.c:435
        t.effect("bail-out: mm->rss is 0 (rmap.c:435)")
        return done()
    if not mm.page_table_trylock:  # rmap.c:445
        t.effect("bail-out: spin_trylock(&mm->page_table_lock) failed (rmap.c:445)")
        return done()
    if not pte_present(TAG, pte):  # rmap.c:457
        t.effect("bail-out: pte not present (rmap.c:457)")
        return done()
    if pte_pfn(TAG, pte) != page.pfn:  # rmap.c:460
        t.effect("bail-out: pte maps another pfn (rmap.c:460)")
        return done()

    # rmap.c:468-469: `||` short-circuits, so a VM_LOCKED vma never tests (or clears) young.
    locked = bool(vma.flags & {"VM_LOCKED", "VM_RESERVED"})
    if t.branch("mlock", locked):
        ret = "SWAP_FAIL"
        return done()
    young = bool(pte & ACCESSED)
    if young:
        pte &= ~ACCESSED
        t.effect("ptep_test_and_clear_young: accessed bit cleared (rmap.c:469)")
    if t.branch("young", young):
        ret = "SWAP_FAIL"
        return done()

    gup = page.swapcache and page.refcount != page.mapcount + 2  # rmap.c:485-486
    if t.branch("gup", gup):
        t.effect(
            f"page_count {page.refcount} != mapcount {page.mapcount} + 2: "
            "an extra (get_user_pages) reference"
        )
        ret = "SWAP_FAIL"
        return done()

    pteval = pte  # rmap.c:493 ptep_clear_flush
    pte = 0
    t.effect("ptep_clear_flush (rmap.c:493)")
    if pteval & DIRTY:  # rmap.c:496
        t.effect("set_page_dirty(page) (rmap.c:497)")

    if t.branch("anon", page.anon):
        t.branch("swapcache", True)
        if not page.swapcache:
            t.effect("BUG_ON(!PageSwapCache(page)) fires (rmap.c:505)")
            ret = "BUG"
            return done()
        t.effect(
            f"swap_duplicate(entry type {page.swap_type} offset {page.swap_offset:#x}): "
            "swap count +1 (rmap.c:506)"
        )
        pte = swp_entry_to_pte(TAG, page.swap_type, page.swap_offset)  # rmap.c:507

    t.effect(f"mm->rss {mm.rss} -> {mm.rss - 1} (rmap.c:511)")
    t.effect(f"page->mapcount {page.mapcount} -> {page.mapcount - 1} (rmap.c:513)")
    t.effect(f"page_cache_release: page_count {page.refcount} -> {page.refcount - 1} (rmap.c:514)")
    return done()
