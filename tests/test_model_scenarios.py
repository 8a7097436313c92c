"""Every scenario at every tag, asserted against values derived by reading mm/rmap.c at that tag.

Lines are in /work/shared/kernel-corpus/<tag>/mm/rmap.c unless said otherwise. PFN 0x12345; the
swap-cache page's entry is type 0 offset 0x1a2b.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.model import (
    MODEL_TAGS,
    SCENARIOS,
    matrix,
    run_scenario,
    v2_6_35,
    v5_1,
    v5_10_37,
)
from kvdiff.analyzers.model.encoding import (
    ModelConfig,
    decode,
    device_pte,
    make_present,
    migration_pte,
    swp_entry_to_pte,
)
from kvdiff.analyzers.model.outcome import Outcome
from kvdiff.analyzers.model.state import Mm, Page, UnmapInput, Vma

SWAP = ("swap", 0, 0x1A2B)
MIG_W = ("migration", 29, 0x12345)  # 5.x SWP_MIGRATION_WRITE = 29 (swap.h:79)
MIG_W_2635 = ("migration", 31, 0x12345)  # 2.6.35 SWP_MIGRATION_WRITE = 31 (swap.h:50)
PRESENT = ("present", None, None)
NONE = ("none", None, None)

# (scenario, tag) -> ((kind, swap_type, offset), ret, concepts TAKEN in order), with the derivation.
EXPECTED: dict[tuple[str, str], tuple[tuple, str, tuple[str, ...]]] = {
    # 468 not locked, not young; 485 count 3 == mapcount 1 + 2; 499 anon: swap entry (507).
    ("reclaim-anon-swapcache", "v2.6.7"): (SWAP, "SWAP_AGAIN", ("anon", "swapcache")),
    # 916 no IGNORE_MLOCK (taken), 917 not VM_LOCKED; 923 taken, 924 old; 948 anon, 951 swapcache.
    ("reclaim-anon-swapcache", "v2.6.35"): (
        SWAP,
        "SWAP_AGAIN",
        ("mlock", "young", "anon", "swapcache"),
    ),
    # 1403 taken, 1404 not; 1480 taken, 1481 old; 1542 no TTU_MIGRATION; 1569 anon; 1627 swap.
    ("reclaim-anon-swapcache", "v5.1"): (SWAP, "true", ("mlock", "young", "anon", "swapcache")),
    # same without any young check (nothing between 1496 and 1537).
    ("reclaim-anon-swapcache", "v5.10.37"): (SWAP, "true", ("mlock", "anon", "swapcache")),
    # 2.6.35: IGNORE_MLOCK and IGNORE_ACCESS skip 916/923; 948 anon, 951 not swapcache,
    # 969 PAGE_MIGRATION: make_migration_entry(page, pte_write) (976).
    ("compaction-anon", "v2.6.35"): (MIG_W_2635, "SWAP_AGAIN", ("anon", "migration")),
    # 5.1: 1542 TTU_MIGRATION before PageAnon: migration entry (1559).
    ("compaction-anon", "v5.1"): (MIG_W, "true", ("migration",)),
    # 5.10.37: migrate.c:1126 drops TTU_IGNORE_ACCESS, but there is no young check to skip.
    ("compaction-anon", "v5.10.37"): (MIG_W, "true", ("migration",)),
    # THE trap: 951 PageSwapCache is tested before 969 PAGE_MIGRATION: a SWAP entry.
    ("migrate-anon-swapcache", "v2.6.35"): (SWAP, "SWAP_AGAIN", ("anon", "swapcache")),
    ("migrate-anon-swapcache", "v5.1"): (MIG_W, "true", ("migration",)),
    ("migrate-anon-swapcache", "v5.10.37"): (MIG_W, "true", ("migration",)),
    # 980: not anon, TTU_MIGRATION: migration entry for the file page (983).
    ("migrate-file", "v2.6.35"): (MIG_W_2635, "SWAP_AGAIN", ("migration",)),
    ("migrate-file", "v5.1"): (MIG_W, "true", ("migration",)),
    ("migrate-file", "v5.10.37"): (MIG_W, "true", ("migration",)),
    # 499 not anon: the pte just stays cleared (493), rss-- (511).
    ("reclaim-file", "v2.6.7"): (NONE, "SWAP_AGAIN", ()),
    ("reclaim-file", "v2.6.35"): (NONE, "SWAP_AGAIN", ("mlock", "young", "file")),  # 985 else
    ("reclaim-file", "v5.1"): (NONE, "true", ("mlock", "young", "file")),  # 1634 else
    ("reclaim-file", "v5.10.37"): (NONE, "true", ("mlock", "file")),  # 1684 else
    # 468: VM_LOCKED -> SWAP_FAIL, pte untouched.
    ("reclaim-mlocked", "v2.6.7"): (PRESENT, "SWAP_FAIL", ("mlock",)),
    # 917 goto out_mlock; 1008 trylock (assumed to succeed), 1009 VM_LOCKED: SWAP_MLOCK (1011).
    ("reclaim-mlocked", "v2.6.35"): (PRESENT, "SWAP_MLOCK", ("mlock",) * 4),
    # 1404: mlock_vma_page, ret = false (1413).
    ("reclaim-mlocked", "v5.1"): (PRESENT, "false", ("mlock", "mlock")),
    ("reclaim-mlocked", "v5.10.37"): (PRESENT, "false", ("mlock", "mlock")),  # 1439, 1448
    # 469 ptep_test_and_clear_young -> SWAP_FAIL (470).
    ("reclaim-young", "v2.6.7"): (PRESENT, "SWAP_FAIL", ("young",)),
    ("reclaim-young", "v2.6.35"): (PRESENT, "SWAP_FAIL", ("mlock", "young", "young")),  # 924-925
    ("reclaim-young", "v5.1"): (PRESENT, "false", ("mlock", "young", "young")),  # 1481-1483
    # v5.10.37 has NO young check: the young pte is unmapped like any other.
    ("reclaim-young", "v5.10.37"): (SWAP, "true", ("mlock", "anon", "swapcache")),
    # 485: page_count 4 != mapcount 1 + 2 -> SWAP_FAIL (487).
    ("gup-pinned", "v2.6.7"): (PRESENT, "SWAP_FAIL", ("gup",)),
    # no such check after 2.6.7: unmapped like reclaim-anon-swapcache.
    ("gup-pinned", "v2.6.35"): (SWAP, "SWAP_AGAIN", ("mlock", "young", "anon", "swapcache")),
    ("gup-pinned", "v5.1"): (SWAP, "true", ("mlock", "young", "anon", "swapcache")),
    ("gup-pinned", "v5.10.37"): (SWAP, "true", ("mlock", "anon", "swapcache")),
}
NOT_APPLICABLE = {("compaction-anon", "v2.6.7"), ("migrate-anon-swapcache", "v2.6.7")}
NOT_APPLICABLE |= {("migrate-file", "v2.6.7")}


def _entry(o: Outcome) -> tuple:
    d = o.decoded_after
    if d.kind == "present":
        assert d.pfn == 0x12345
        return ("present", None, None)
    return (d.kind, d.swap_type, d.offset)


@pytest.mark.parametrize("scenario", [s.name for s in SCENARIOS])
@pytest.mark.parametrize("tag", MODEL_TAGS)
def test_scenario_outcome(tag: str, scenario: str) -> None:
    o = run_scenario(tag, scenario)
    if (scenario, tag) in NOT_APPLICABLE:
        assert not o.applicable and "TTU_MIGRATION" in o.reason and o.trace == ()
        return
    assert o.applicable
    entry, ret, taken = EXPECTED[(scenario, tag)]
    assert _entry(o) == entry
    assert o.ret == ret
    assert tuple(s.concept for s in o.trace if s.taken) == taken
    assert all(s.file == "mm/rmap.c" for s in o.trace)


def test_every_cell_is_covered() -> None:
    cells = {(o.scenario, o.tag) for o in matrix()}
    assert cells == set(EXPECTED) | NOT_APPLICABLE
    assert len(matrix()) == len(SCENARIOS) * len(MODEL_TAGS)


def test_young_bit_cleared_when_young_check_fails() -> None:
    # ptep_test_and_clear_young (2.6.7:469) and ptep_clear_flush_young_notify (2.6.35:924,
    # 5.1:1481) clear the accessed bit of the pte they keep.
    for tag in ("v2.6.7", "v2.6.35", "v5.1"):
        o = run_scenario(tag, "reclaim-young")
        assert o.pte_after == o.pte_before & ~(1 << 5)
    # 2.6.7 mlock: `||` short-circuits at 468, the young bit is never looked at.
    o = run_scenario("v2.6.7", "reclaim-mlocked")
    assert o.pte_after == o.pte_before


def test_side_effects_follow_the_source() -> None:
    o = run_scenario("v2.6.35", "reclaim-anon-swapcache")
    text = "\n".join(o.side_effects)
    assert "set_page_dirty(page) (rmap.c:936)" in text  # the pte was dirty (935)
    assert "inc_mm_counter(MM_SWAPENTS) (rmap.c:967-968)" in text
    assert "mapcount 1 -> 0" in text
    mig = run_scenario("v2.6.35", "migrate-file")
    assert not any("MM_FILEPAGES" in e for e in mig.side_effects)  # 980-984: no counter
    mlocked = run_scenario("v5.1", "reclaim-mlocked")
    assert "mlock_vma_page(page) (rmap.c:1411)" in mlocked.side_effects


def test_next_fault_explains_why_migration_is_harmless() -> None:
    o = run_scenario("v5.10.37", "compaction-anon")
    assert "migration_entry_wait() (mm/migrate.c:344)" in o.next_fault
    assert "remove_migration_pte() (mm/migrate.c:205)" in o.next_fault
    assert "do_swap_page() (mm/memory.c:3260)" in o.next_fault
    s = run_scenario("v2.6.35", "migrate-anon-swapcache")
    assert "lookup_swap_cache" in s.next_fault


def test_v2_6_35_mlock_trylock_failure_returns_swap_again() -> None:
    # out_mlock (996-1015): if down_read_trylock fails, ret stays SWAP_AGAIN.
    pte = make_present("v2.6.35", 0x12345, dirty=True)
    page = Page(pfn=0x12345, anon=True, swapcache=True, swap_offset=0x1A2B, refcount=3)
    inp = UnmapInput(page, Vma(frozenset({"VM_LOCKED"})), Mm(mmap_sem_trylock=False), pte)
    r = v2_6_35.try_to_unmap_one(inp, ModelConfig())
    assert (r.ret, r.pte_after) == ("SWAP_AGAIN", pte)


@pytest.mark.parametrize("module", [v5_1, v5_10_37])
def test_v5_madv_free(module) -> None:
    # 1587/1635 !PageSwapBacked: a clean page is discarded (pte none, true); a redirtied one is
    # remapped (pte restored, false, SetPageSwapBacked).
    tag = module.TAG
    pte = make_present(tag, 0x12345)
    page = Page(pfn=0x12345, anon=True, swapcache=False, swapbacked=False, refcount=2)
    clean = module.try_to_unmap_one(UnmapInput(page, Vma(), Mm(), pte), ModelConfig())
    assert (clean.pte_after, clean.ret) == (0, "true")
    assert [s.concept for s in clean.trace if s.taken][-2:] == ["lazyfree", "lazyfree"]
    dirty = module.try_to_unmap_one(
        UnmapInput(replace(page, dirty=True), Vma(), Mm(), pte), ModelConfig()
    )
    assert (dirty.pte_after, dirty.ret) == (pte, "false")


@pytest.mark.parametrize("module", [v5_1, v5_10_37])
def test_v5_madv_free_redirtied_through_the_pte(module) -> None:
    # MADV_FREE cleared PageDirty; a later write set only the pte's dirty bit. The pte is
    # cleared first and `if (pte_dirty(pteval)) set_page_dirty(page)` (5.1:1508-1509,
    # 5.10.37:1555-1556) sets PageDirty BEFORE the !PageDirty test (5.1:1588, 5.10.37:1636),
    # so the page is "redirtied" (the comment at 5.1:1596-1597): remapped, not discarded.
    tag = module.TAG
    pte = make_present(tag, 0x12345, dirty=True)
    page = Page(pfn=0x12345, anon=True, swapcache=False, swapbacked=False, dirty=False)
    r = module.try_to_unmap_one(UnmapInput(page, Vma(), Mm(), pte), ModelConfig())
    assert (r.pte_after, r.ret) == (pte, "false")
    lazy = [s.taken for s in r.trace if s.concept == "lazyfree"]
    assert lazy == [True, False]  # !PageSwapBacked taken, !PageDirty not taken


def test_v5_10_37_carries_soft_dirty_and_uffd_wp_into_the_swap_pte() -> None:
    # 1676-1679: pte_swp_mksoft_dirty / pte_swp_mkuffd_wp; v5.1 (1628) carries only soft-dirty.
    page = Page(pfn=0x12345, anon=True, swapcache=True, swap_offset=0x1A2B, refcount=3)
    flags = frozenset({"TTU_BATCH_FLUSH"})
    pte = make_present("v5.10.37", 0x12345, soft_dirty=True, uffd_wp=True)
    r = v5_10_37.try_to_unmap_one(UnmapInput(page, Vma(), Mm(), pte, flags), ModelConfig())
    assert r.pte_after & 0b110 == 0b110
    pte = make_present("v5.1", 0x12345, soft_dirty=True)
    r = v5_1.try_to_unmap_one(UnmapInput(page, Vma(), Mm(), pte, flags), ModelConfig())
    assert r.pte_after & 0b110 == 0b010


@pytest.mark.parametrize("module", [v5_1, v5_10_37])
def test_v5_device_private_page_is_found_only_by_its_own_entry(module) -> None:
    # page_vma_mapped_walk() (5.1:1387, 5.10.37:1422) runs the body for a device-private swap
    # entry of THIS pfn; the zone-device branch (5.1:1455, 5.10.37:1496) then writes
    # make_migration_entry(page, 0), a READ migration entry (5.1:1468, 5.10.37:1509).
    tag = module.TAG
    page = Page(pfn=0x12345, anon=True, swapcache=False, zone_device=True, device_private=True)
    flags = frozenset({"TTU_MIGRATION", "TTU_IGNORE_MLOCK"})
    cfg = ModelConfig()
    hit = module.try_to_unmap_one(
        UnmapInput(page, Vma(), Mm(), device_pte(tag, 0x12345, True), flags), cfg
    )
    assert (hit.pte_after, hit.ret) == (migration_pte(tag, 0x12345, False), "true")
    assert [s.concept for s in hit.trace if s.taken] == ["device_migration"]
    # An ordinary swap entry, or another page's device entry, is not a mapping of this page.
    for other in (swp_entry_to_pte(tag, 0, 0x12345), device_pte(tag, 0x54321, True)):
        miss = module.try_to_unmap_one(UnmapInput(page, Vma(), Mm(), other, flags), cfg)
        assert (miss.pte_after, miss.ret) == (other, "true")
        assert [s.concept for s in miss.trace] == ["mlock", "device_migration"]  # 2 early ifs


def test_soft_dirty_and_uffd_wp_need_their_config() -> None:
    # _PAGE_SOFT_DIRTY is 0 without CONFIG_MEM_SOFT_DIRTY (5.10.37 pgtable_types.h:82-86) and
    # _PAGE_UFFD_WP 0 without CONFIG_HAVE_ARCH_USERFAULTFD_WP (104-110): pte_soft_dirty() and
    # pte_uffd_wp() are false at 1676/1678, nothing is carried and nothing may be reported.
    page = Page(pfn=0x12345, anon=True, swapcache=True, swap_offset=0x1A2B, refcount=3)
    pte = make_present("v5.10.37", 0x12345, soft_dirty=True, uffd_wp=True)
    off = ModelConfig(mem_soft_dirty=False, uffd_wp=False)
    r = v5_10_37.try_to_unmap_one(UnmapInput(page, Vma(), Mm(), pte), off)
    assert r.pte_after == swp_entry_to_pte("v5.10.37", 0, 0x1A2B)
    assert not any("carried" in e for e in r.side_effects)
    assert decode("v5.10.37", pte, off).text == "present(pfn 0x12345, W)"


def test_v5_1_device_branch_reads_the_present_soft_dirty_bit_of_a_swap_pte() -> None:
    # 5.1:1470 tests pte_soft_dirty(pteval) (bit 11, pgtable_types.h:35,82) although pteval is a
    # device-private SWAP pte, whose bit 11 is bit 2 of the inverted offset (pgtable_64.h:
    # 209-231); 5.10.37:1516 tests pte_swp_soft_dirty (bit 1) instead. pfn 0x12341 has offset
    # bit 2 clear, so its entry has bit 11 set: 5.1 marks the migration entry soft-dirty.
    page = Page(pfn=0x12341, anon=True, swapcache=False, zone_device=True, device_private=True)
    flags = frozenset({"TTU_MIGRATION", "TTU_IGNORE_MLOCK", "TTU_IGNORE_ACCESS"})
    for module, soft in ((v5_1, True), (v5_10_37, False)):
        pte = device_pte(module.TAG, 0x12341, True)
        assert bool(pte & (1 << 11)) and not pte & 0b10
        r = module.try_to_unmap_one(UnmapInput(page, Vma(), Mm(), pte, flags), ModelConfig())
        d = decode(module.TAG, r.pte_after)
        assert (d.kind, d.pfn, d.write, d.soft_dirty) == ("migration", 0x12341, False, soft)


def test_no_migration_callers_without_config_migration() -> None:
    # With CONFIG_MIGRATION=n the migration scenarios have no caller at all; running them anyway
    # would reach 2.6.35:969/5.1:1542 with PAGE_MIGRATION/IS_ENABLED false and invent outcomes.
    off = ModelConfig(migration=False)
    for tag in MODEL_TAGS:
        for name in ("compaction-anon", "migrate-anon-swapcache", "migrate-file"):
            o = run_scenario(tag, name, off)
            assert not o.applicable and o.trace == () and o.cell == "n/a"
        assert run_scenario(tag, "reclaim-anon-swapcache", off).applicable


def test_hwpoison_entry() -> None:
    # 2.6.35:941 / 5.1:1514: a poisoned page gets swp_entry(SWP_HWPOISON, pfn).
    page = Page(pfn=0x12345, anon=True, swapcache=True, swap_offset=0x1A2B, hwpoison=True)
    for module in (v2_6_35, v5_1, v5_10_37):
        pte = make_present(module.TAG, 0x12345)
        r = module.try_to_unmap_one(UnmapInput(page, Vma(), Mm(), pte), ModelConfig())
        assert r.ret in ("SWAP_AGAIN", "true")
        assert decode(module.TAG, r.pte_after).text == "hwpoison(pfn 0x12345)"


def test_json_is_deterministic_and_sorted() -> None:
    a = json.dumps([o.to_json() for o in matrix()], sort_keys=True)
    b = json.dumps([o.to_json() for o in matrix()], sort_keys=True)
    assert a == b
    doc = run_scenario("v5.1", "compaction-anon").to_json()
    assert doc["pte_after"] == "0xeffffffffdb97400"
    assert doc["decoded_after"]["text"] == "migration(W, pfn 0x12345)"


def test_bad_names_are_one_line_errors() -> None:
    with pytest.raises(KvdiffError, match="reclaim-anon-swapcache, compaction-anon"):
        run_scenario("v5.1", "nope")
    with pytest.raises(KvdiffError, match="covers v2.6.7"):
        run_scenario("v3.0", "reclaim-file")
