"""x86_64 swap/migration/hwpoison entry encoding per tag: hand-derived vectors and round trips.

Header lines cited are in /work/shared/kernel-corpus/<tag>/ (2.6.7's headers are not in the
corpus; see analyzers/model/encoding.py for where they were read).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.model.encoding import (
    MODEL_TAGS,
    ModelConfig,
    decode,
    device_pte,
    hwpoison_pte,
    make_present,
    migration_pte,
    offset_bits,
    pte_to_swp_entry,
    swap_types,
    swp_entry_to_pte,
    swp_mksoft_dirty,
    swp_mkuffd_wp,
)

PFN = 0x12345


def test_v2_6_35_migration_entry_by_hand() -> None:
    # swap.h:47-66 with MIGRATION=y, MEMORY_FAILURE=y: MAX_SWAPFILES = 32 - 2 - 1 = 29,
    # SWP_HWPOISON = 29, SWP_MIGRATION_READ = 29 + 1 = 30, SWP_MIGRATION_WRITE = 31.
    # pgtable_64.h:135-150: SWP_TYPE_BITS 5, SWP_OFFSET_SHIFT 9, entry = type << 1 | offset << 9.
    # Write: 31 << 1 = 0x3e; 0x12345 << 9 = 0x2468a00; together 0x2468a3e.
    assert swap_types("v2.6.35") == swap_types("v2.6.35", ModelConfig())
    t = swap_types("v2.6.35")
    assert (t.max_swapfiles, t.hwpoison, t.migration_read, t.migration_write) == (29, 29, 30, 31)
    assert t.device_write is None
    assert migration_pte("v2.6.35", PFN, write=True) == 0x2468A3E
    assert migration_pte("v2.6.35", PFN, write=False) == 0x2468A3C  # 30 << 1 = 0x3c
    assert hwpoison_pte("v2.6.35", PFN) == 0x2468A3A  # 29 << 1 = 0x3a
    d = decode("v2.6.35", 0x2468A3E)
    assert (d.kind, d.pfn, d.write, d.swap_type) == ("migration", PFN, True, 31)
    assert d.text == "migration(W, pfn 0x12345)"


@pytest.mark.parametrize("tag", ["v5.1", "v5.10.37"])
def test_v5_migration_entry_by_hand(tag: str) -> None:
    # swap.h:65-96 with DEVICE_PRIVATE=y, MIGRATION=y, MEMORY_FAILURE=y:
    # MAX_SWAPFILES = 32 - 2 - 2 - 1 = 27; HWPOISON 27; MIGRATION_READ 28, WRITE 29;
    # DEVICE_WRITE = 27 + 1 + 2 = 30, DEVICE_READ 31.
    # pgtable_64.h (5.1:209-231, 5.10.37:212-234): type << 59 | (~offset << 14 >> 5), i.e. the
    # inverted offset lands in bits 9-58. ~0x12345 << 9 masked to bits 9-58 = 0x07fffffffdb97400;
    # 29 << 59 = 0xe800000000000000; together 0xeffffffffdb97400.
    t = swap_types(tag)
    assert (t.max_swapfiles, t.hwpoison, t.migration_read, t.migration_write) == (27, 27, 28, 29)
    assert (t.device_write, t.device_read) == (30, 31)
    assert migration_pte(tag, PFN, write=True) == 0xEFFFFFFFFDB97400
    assert migration_pte(tag, PFN, write=False) == 0xE7FFFFFFFDB97400  # 28 << 59 = 0xe0...
    assert hwpoison_pte(tag, PFN) == 0xDFFFFFFFFDB97400  # 27 << 59 = 0xd8...
    assert device_pte(tag, PFN, write=True) == 0xF7FFFFFFFDB97400  # 30 << 59 = 0xf0...
    d = decode(tag, 0xEFFFFFFFFDB97400)
    assert (d.kind, d.pfn, d.write) == ("migration", PFN, True)
    assert decode(tag, 0xF7FFFFFFFDB97400).kind == "device"
    assert decode(tag, 0xDFFFFFFFFDB97400).text == "hwpoison(pfn 0x12345)"


def test_v2_6_7_swap_entry_by_hand() -> None:
    # 2.6.7 include/asm-x86_64/pgtable.h (not in the corpus): type << 1 | offset << 8;
    # swap.h: MAX_SWAPFILES = 1 << 5 = 32, no special types.
    assert swp_entry_to_pte("v2.6.7", 0, 0x1A2B) == 0x1A2B00
    assert swp_entry_to_pte("v2.6.7", 3, PFN) == 0x1234506
    assert swap_types("v2.6.7").max_swapfiles == 32
    assert decode("v2.6.7", 0x1234506).text == "swap(type 3, offset 0x12345)"
    with pytest.raises(ValueError):
        migration_pte("v2.6.7", PFN, write=True)


def test_config_changes_the_numbers() -> None:
    # Without CONFIG_DEVICE_PRIVATE at 5.x: MAX_SWAPFILES = 32 - 2 - 1 = 29, migration 30/31.
    no_dev = ModelConfig(device_private=False)
    t = swap_types("v5.10.37", no_dev)
    assert (t.max_swapfiles, t.migration_read, t.migration_write, t.device_write) == (
        29,
        30,
        31,
        None,
    )
    # The same PTE bits mean different things under different configurations: type 29 is a
    # write migration entry with DEVICE_PRIVATE=y, but SWP_HWPOISON (= MAX_SWAPFILES) without it.
    assert decode("v5.10.37", 0xEFFFFFFFFDB97400, no_dev).kind == "hwpoison"
    # Without CONFIG_MEMORY_FAILURE at 2.6.35: MAX_SWAPFILES 30, migration 30/31, no hwpoison.
    t = swap_types("v2.6.35", ModelConfig(memory_failure=False))
    assert (t.max_swapfiles, t.hwpoison, t.migration_read, t.migration_write) == (30, None, 30, 31)
    # CONFIG_MIGRATION=n: make_migration_entry is swp_entry(0, 0) (2.6.35 swapops.h:118).
    assert migration_pte("v2.6.35", PFN, True, ModelConfig(migration=False)) == 0


def test_present_and_none() -> None:
    for tag in MODEL_TAGS:
        assert decode(tag, 0).kind == "none"
        pte = make_present(tag, PFN, write=True, dirty=True, young=True)
        d = decode(tag, pte)
        assert (d.kind, d.pfn, d.write) == ("present", PFN, True)
        assert d.text == "present(pfn 0x12345, W, dirty, young)"


def test_soft_dirty_and_uffd_wp_ride_along() -> None:
    # 5.x pgtable_types.h: _PAGE_SWP_SOFT_DIRTY = _PAGE_RW (bit 1); 5.10.37 adds
    # _PAGE_SWP_UFFD_WP = _PAGE_USER (bit 2). pte_to_swp_entry clears them before decoding.
    base = migration_pte("v5.10.37", PFN, True)
    both = swp_mkuffd_wp("v5.10.37", swp_mksoft_dirty("v5.10.37", base))
    assert both == base | 0b110
    d = decode("v5.10.37", both)
    assert (d.kind, d.pfn, d.soft_dirty, d.uffd_wp) == ("migration", PFN, True, True)
    assert d.text == "migration(W, pfn 0x12345) +soft-dirty +uffd-wp"
    # v5.1 has no uffd-wp swap bit; 2.6.x no soft-dirty at all.
    assert swp_mkuffd_wp("v5.1", base) == base
    assert swp_mksoft_dirty("v2.6.35", 0x3E) == 0x3E


def test_unknown_tag_is_a_one_line_error() -> None:
    with pytest.raises(KvdiffError, match="v2.6.7, v2.6.35, v5.1, v5.10.37"):
        decode("v4.0", 0)


@pytest.mark.parametrize("tag", MODEL_TAGS)
@settings(deadline=None)  # the shared machine is slow at times: no flaky deadline
@given(data=st.data())
def test_swap_entry_round_trip(tag: str, data: st.DataObject) -> None:
    types = swap_types(tag)
    swap_type = data.draw(st.integers(0, types.max_swapfiles - 1))
    offset = data.draw(st.integers(0, (1 << offset_bits(tag)) - 1))
    pte = swp_entry_to_pte(tag, swap_type, offset)
    assert pte_to_swp_entry(tag, pte) == (swap_type, offset)
    d = decode(tag, pte)
    if pte == 0:  # type 0 offset 0 is pte_none at 2.6.x: no entry can be that
        assert d.kind == "none"
    else:
        assert (d.kind, d.swap_type, d.offset) == ("swap", swap_type, offset)


@pytest.mark.parametrize("tag", MODEL_TAGS[1:])
@settings(deadline=None)  # the shared machine is slow at times: no flaky deadline
@given(pfn=st.integers(0, (1 << 40) - 1), write=st.booleans(), soft=st.booleans())
def test_migration_and_hwpoison_round_trip(tag: str, pfn: int, write: bool, soft: bool) -> None:
    pte = migration_pte(tag, pfn, write)
    if soft:
        pte = swp_mksoft_dirty(tag, pte)
    d = decode(tag, pte)
    assert (d.kind, d.pfn, d.write) == ("migration", pfn, write)
    assert d.soft_dirty == (soft and tag != "v2.6.35")
    h = decode(tag, hwpoison_pte(tag, pfn))
    assert (h.kind, h.pfn) == ("hwpoison", pfn)


@pytest.mark.parametrize("tag", MODEL_TAGS)
@settings(deadline=None)  # the shared machine is slow at times: no flaky deadline
@given(pfn=st.integers(0, (1 << 34) - 1), write=st.booleans(), dirty=st.booleans())
def test_present_round_trip(tag: str, pfn: int, write: bool, dirty: bool) -> None:
    d = decode(tag, make_present(tag, pfn, write=write, dirty=dirty))
    assert (d.kind, d.pfn, d.write) == ("present", pfn, write)


@pytest.mark.parametrize("tag", ["v5.1", "v5.10.37"])
def test_v5_prot_none_pte_has_an_inverted_pfn(tag: str) -> None:
    # L1TF at 5.x: a PROT_NONE pte (present bit clear, _PAGE_PROTNONE = bit 8, pgtable_types.h
    # 5.1:40,112) stores ~pfn in bits 12-51 (the same inversion as the swap offset,
    # pgtable_64.h 5.1:206-207); pte_present() still holds and pte_pfn() inverts it back.
    # By hand: ~0x12345 in bits 12-51 is 0x000fffffedcba000; | PROTNONE 0x100 | ACCESSED 0x20.
    pte = 0x000FFFFFEDCBA120
    d = decode(tag, pte)
    assert (d.kind, d.pfn, d.write) == ("present", PFN, False)
    # 2.6.35 has no inversion: its PROT_NONE pte holds the pfn as it is.
    assert decode("v2.6.35", 0x12345100).pfn == PFN
