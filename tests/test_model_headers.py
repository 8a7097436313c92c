"""Tag facts evaluated from each tag's own headers (model/tagfacts.py) against the hand encoding
(model/encoding.py) at the four corpus tags, and on the real trees of kernel-wild.

The headers are read in place at test time (kernel-corpus, kernel-wild), never copied. Line
numbers in the comments are in those trees (paths relative to the tree).
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.model import encoding as enc
from kvdiff.analyzers.model.encoding import MODEL_TAGS, ModelConfig
from kvdiff.analyzers.model.interp.facts import fact_paths
from kvdiff.analyzers.model.interp.run import derived_outcome
from kvdiff.analyzers.model.scenarios import SCENARIO_NAMES
from kvdiff.analyzers.model.tagfacts import FACT_PATHS, tag_facts
from kvdiff.main import cli

pytestmark = pytest.mark.corpus

CONFIGS = [ModelConfig(*bits) for bits in itertools.product((True, False), repeat=5)]
MASK64 = (1 << 64) - 1


def _reader(root: Path):
    return lambda path: (root / path).read_bytes()


def _facts(root: Path, config: ModelConfig = ModelConfig()):  # noqa: B008
    return tag_facts(_reader(root), root.name, config)


def test_the_prefetched_paths_are_the_data_list() -> None:
    from kvdiff.analyzers.model.callers import CALLER_PATHS

    # The header list, then the callers' files (model/callers.py) not already in it.
    assert fact_paths() == tuple(dict.fromkeys(FACT_PATHS + CALLER_PATHS))
    assert "mm/vmscan.c" in fact_paths() and "mm/migrate.c" in fact_paths()
    assert "include/linux/swap.h" in FACT_PATHS and "include/asm-x86_64/pgtable.h" in FACT_PATHS


# -- the corpus tags: equal to the hand encoding ----------------------------------------------
def _hand_types(tag: str, config: ModelConfig) -> dict[str, int]:
    t = enc.swap_types(tag, config)
    named = {
        "SWP_HWPOISON": t.hwpoison,
        "SWP_MIGRATION_READ": t.migration_read,
        "SWP_MIGRATION_WRITE": t.migration_write,
        "SWP_DEVICE_WRITE": t.device_write,
        "SWP_DEVICE_READ": t.device_read,
    }
    return {k: v for k, v in named.items() if v is not None}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "".join("yn"[not v] for v in
                         c.kconfig().values()))  # fmt: skip
@pytest.mark.parametrize("tag", MODEL_TAGS)
def test_type_numbers_equal_the_hand_encoding(corpus: Path, tag: str, config: ModelConfig) -> None:
    facts = _facts(corpus / tag, config)
    assert {t.name: t.number for t in facts.swap_types} == _hand_types(tag, config)
    assert facts.constants["MAX_SWAPFILES"] == enc.swap_types(tag, config).max_swapfiles
    assert facts.cites["MAX_SWAPFILES"].startswith("include/linux/swap.h:")


@pytest.mark.parametrize("tag", MODEL_TAGS)
def test_masks_equal_the_hand_encoding(corpus: Path, tag: str) -> None:
    c = _facts(corpus / tag).constants
    for name, bit in (("_PAGE_PRESENT", enc.P), ("_PAGE_RW", enc.RW), ("_PAGE_USER", enc.USER),
                      ("_PAGE_ACCESSED", enc.ACCESSED), ("_PAGE_DIRTY", enc.DIRTY),
                      ("_PAGE_NX", enc.NX)):  # fmt: skip
        assert c[name] == bit, name
    protnone = enc.PROTNONE_2_6_7 if tag == "v2.6.7" else enc.GLOBAL_PROTNONE
    assert c["_PAGE_PROTNONE"] == protnone
    assert c.get("_PAGE_FILE", 0) == (0 if tag.startswith("v5") else enc.FILE)
    off = _facts(corpus / tag, ModelConfig(mem_soft_dirty=False, uffd_wp=False)).constants
    if tag.startswith("v5"):
        # 5.1 pgtable_types.h:81-85/96-100: 0 when CONFIG_MEM_SOFT_DIRTY is off.
        assert (c["_PAGE_SOFT_DIRTY"], off["_PAGE_SOFT_DIRTY"]) == (enc.SOFT_DIRTY, 0)
        assert (c["_PAGE_SWP_SOFT_DIRTY"], off["_PAGE_SWP_SOFT_DIRTY"]) == (enc.RW, 0)
    if tag == "v5.10.37":
        assert (c["_PAGE_UFFD_WP"], off["_PAGE_UFFD_WP"]) == (enc.UFFD_WP, 0)


def _offsets(tag: str):
    return st.integers(0, (1 << enc.offset_bits(tag)) - 1)


@settings(deadline=None, max_examples=300)
@given(data=st.data())
def test_encode_decode_round_trips_equal_the_hand_encoding(corpus: Path, data) -> None:
    tag = data.draw(st.sampled_from(MODEL_TAGS))
    config = data.draw(st.sampled_from(CONFIGS))
    layout = _facts(corpus / tag, config).layout
    swap_type = data.draw(st.integers(0, 31))
    offset = data.draw(_offsets(tag))
    pte = layout.swp_entry_to_pte(swap_type, offset)
    assert pte == enc.swp_entry_to_pte(tag, swap_type, offset)
    assert layout.pte_to_swp_entry(pte) == enc.pte_to_swp_entry(tag, pte, config) == (
        swap_type, offset)  # fmt: skip
    assert layout.decode(pte) == enc.decode(tag, pte, config)


@settings(deadline=None, max_examples=300)
@given(data=st.data())
def test_present_and_special_ptes_decode_as_the_hand_encoding(corpus: Path, data) -> None:
    tag = data.draw(st.sampled_from(MODEL_TAGS))
    config = data.draw(st.sampled_from(CONFIGS))
    layout = _facts(corpus / tag, config).layout
    pfn = data.draw(st.integers(0, (1 << 34) - 1))  # under every tag's physical mask
    kw = {k: data.draw(st.booleans()) for k in ("write", "dirty", "young", "nx")}
    if tag.startswith("v5"):
        kw["soft_dirty"] = data.draw(st.booleans())
    if tag == "v5.10.37":
        kw["uffd_wp"] = data.draw(st.booleans())
    ptes = [enc.make_present(tag, pfn, **kw)]
    if tag != "v2.6.7":
        ptes += [
            enc.migration_pte(tag, pfn, kw["write"], config),
            enc.hwpoison_pte(tag, pfn, config),
        ]
        ptes.append(enc.swp_mksoft_dirty(tag, ptes[1], config))
        ptes.append(enc.swp_mkuffd_wp(tag, ptes[1], config))
    if tag.startswith("v5") and config.device_private:
        ptes.append(enc.device_pte(tag, pfn, kw["write"], config))
    for pte in ptes:
        assert layout.decode(pte) == enc.decode(tag, pte, config), hex(pte)
        if enc.decode(tag, pte, config).kind == "present":
            assert layout.pte_pfn(pte) == enc.pte_pfn(tag, pte) == pfn


@settings(deadline=None, max_examples=500)
@given(data=st.data())
def test_any_value_decodes_as_the_hand_encoding(corpus: Path, data) -> None:
    """Arbitrary 64-bit values, within the bits the hand encoding's 2.6 assumptions cover (the
    PFN under __PHYSICAL_MASK_SHIFT 46 at 2.6.x, 52 at 5.x: the hand encoding's own choice)."""
    tag = data.draw(st.sampled_from(MODEL_TAGS))
    config = data.draw(st.sampled_from(CONFIGS))
    layout = _facts(corpus / tag, config).layout
    pte = data.draw(st.integers(0, MASK64))
    hand = enc.decode(tag, pte, config)
    if tag == "v2.6.7" and hand.kind == "swap" and hand.swap_type >= 32:
        # 2.6.9 swapops.h:35-37: swp_type() masks to MAX_SWAPFILES_SHIFT (5) bits; the hand
        # encoding keeps __swp_type()'s six (asm-x86_64/pgtable.h:414). The headers win.
        assert layout.decode(pte).swap_type == hand.swap_type & 31
        return
    assert layout.decode(pte) == hand, hex(pte)


# -- kernel-wild: real trees from 2.6.9 to 6.18 -----------------------------------------------
WILD_TYPES = {
    # 6.18.2 include/linux/swap.h:62-63 SWP_PTE_MARKER_NUM 1 (no #ifdef), :78-84 SWP_DEVICE_NUM 3
    # (DEVICE_WRITE, READ, EXCLUSIVE), :96-102 SWP_MIGRATION_NUM 3 (READ, READ_EXCLUSIVE, WRITE),
    # :108-112 SWP_HWPOISON_NUM 1, :115 MAX_SWAPFILES = 32 - 3 - 3 - 1 - 1 = 24.
    ("gfunkmonk-6.18.2", True): (24, {"SWP_HWPOISON": 24, "SWP_MIGRATION_READ": 25,
        "SWP_MIGRATION_READ_EXCLUSIVE": 26, "SWP_MIGRATION_WRITE": 27, "SWP_DEVICE_WRITE": 28,
        "SWP_DEVICE_READ": 29, "SWP_DEVICE_EXCLUSIVE": 30, "SWP_PTE_MARKER": 31}),
    # Without CONFIG_DEVICE_PRIVATE: 32 - 3 - 1 - 1 = 27; SWP_PTE_MARKER = 27 + 1 + 3 + 0.
    ("gfunkmonk-6.18.2", False): (27, {"SWP_HWPOISON": 27, "SWP_MIGRATION_READ": 28,
        "SWP_MIGRATION_READ_EXCLUSIVE": 29, "SWP_MIGRATION_WRITE": 30, "SWP_PTE_MARKER": 31}),
    # 6.1.20 swap.h:58-59 SWP_SWAPIN_ERROR_NUM 1, :67-72 SWP_PTE_MARKER_NUM 1 under
    # CONFIG_PTE_MARKER (follows uffd-wp), :87-94 SWP_DEVICE_NUM 4, :106-112 SWP_MIGRATION_NUM 3,
    # :125 MAX_SWAPFILES = 32 - 4 - 3 - 1 - 1 - 1 = 22; SWP_SWAPIN_ERROR = 22+1+3+4+1 = 31.
    ("c133-6.1.20", True): (22, {"SWP_HWPOISON": 22, "SWP_MIGRATION_READ": 23,
        "SWP_MIGRATION_READ_EXCLUSIVE": 24, "SWP_MIGRATION_WRITE": 25, "SWP_DEVICE_WRITE": 26,
        "SWP_DEVICE_READ": 27, "SWP_DEVICE_EXCLUSIVE_WRITE": 28, "SWP_DEVICE_EXCLUSIVE_READ": 29,
        "SWP_PTE_MARKER": 30, "SWP_SWAPIN_ERROR": 31}),
    ("c133-6.1.20", False): (26, {"SWP_HWPOISON": 26, "SWP_MIGRATION_READ": 27,
        "SWP_MIGRATION_READ_EXCLUSIVE": 28, "SWP_MIGRATION_WRITE": 29, "SWP_PTE_MARKER": 30,
        "SWP_SWAPIN_ERROR": 31}),
    # 5.17-rc5: four device types, no read-exclusive migration type yet (SWP_MIGRATION_NUM 2).
    ("dunli-5.17-rc5", True): (25, {"SWP_HWPOISON": 25, "SWP_MIGRATION_READ": 26,
        "SWP_MIGRATION_WRITE": 27, "SWP_DEVICE_WRITE": 28, "SWP_DEVICE_READ": 29,
        "SWP_DEVICE_EXCLUSIVE_WRITE": 30, "SWP_DEVICE_EXCLUSIVE_READ": 31}),
    # 2.6.18 swap.h:30-38: MAX_SWAPFILES (1 << 5) - 2 under CONFIG_MIGRATION, READ = MAX.
    ("laitianli-2.6.18", True): (30, {"SWP_MIGRATION_READ": 30, "SWP_MIGRATION_WRITE": 31}),
    ("laitianli-2.6.18", False): (30, {"SWP_MIGRATION_READ": 30, "SWP_MIGRATION_WRITE": 31}),
    # 2.6.9 swap.h:30-31: MAX_SWAPFILES 1 << 5, no reserved types.
    ("hassebj-2.6.9", True): (32, {}),
}  # fmt: skip


@pytest.mark.parametrize(("tree", "device_private"), list(WILD_TYPES))
def test_wild_swap_type_numbers(wild: Path, tree: str, device_private: bool) -> None:
    facts = _facts(wild / tree, ModelConfig(device_private=device_private))
    max_swapfiles, types = WILD_TYPES[(tree, device_private)]
    assert facts.constants["MAX_SWAPFILES"] == max_swapfiles
    assert {t.name: t.number for t in facts.swap_types} == types


def _evaluable(wild: Path) -> list[str]:
    broken = {"keenetic-tc-2.6.22.15", "s5pc100-2.6.29.4"}  # see test_wild_trees_that_cannot
    return sorted(p.name for p in wild.iterdir() if p.is_dir() and p.name not in broken)


def test_every_evaluable_wild_tree_round_trips(wild: Path) -> None:
    assert len(_evaluable(wild)) == 17
    for tree in _evaluable(wild):
        for config in (ModelConfig(), ModelConfig(False, False, False, False, False)):
            facts = _facts(wild / tree, config)
            layout = facts.layout
            types = {t.number: t for t in facts.swap_types}
            for swap_type in range(32):
                for offset in (0, 1, 0x1A2B, 0x12345, (1 << 30) + 7):
                    pte = layout.swp_entry_to_pte(swap_type, offset)
                    assert not pte & layout.present_mask, (tree, swap_type)
                    assert layout.pte_to_swp_entry(pte) == (swap_type, offset), tree
                    d = layout.decode(pte)
                    if pte == 0:  # swp_entry(0, 0) without the L1TF inversion is pte_none
                        assert (d.kind, layout.inverted) == ("none", False)
                        continue
                    kind = types[swap_type].kind if swap_type in types else "swap"
                    assert d.kind == kind and d.swap_type == swap_type, (tree, d)


@pytest.mark.parametrize(
    ("tree", "inverted"),
    [
        # 4.19.110 arch/x86/include/asm/pgtable_64.h:229-231: __swp_entry stores ~offset (L1TF)
        ("oppo-msm-4.19.110", True),
        ("gfunkmonk-6.18.2", True),
        # 4.18 (rt-4.18) and 4.9.118 predate the L1TF inversion: offset above the type.
        ("rt-4.18", False),
        ("tina-v3s-4.9.118", False),
        ("golden-3.4.5", False),
    ],
)
def test_the_l1tf_inversion_comes_from_the_macros(wild: Path, tree: str, inverted: bool) -> None:
    layout = _facts(wild / tree).layout
    assert layout.inverted is inverted
    pte = layout.swp_entry_to_pte(1, 0x1A2B)
    # Inverted, the high offset bits of a small offset read as ones.
    assert bool(pte >> 40 & 1) is inverted


def test_exclusive_migration_and_swap_flags_where_the_tree_has_them(wild: Path) -> None:
    f = _facts(wild / "gfunkmonk-6.18.2")
    layout, c = f.layout, f.constants
    # 6.18.2 arch/x86/include/asm/pgtable_64_types.h:196 _PAGE_SWP_EXCLUSIVE = _PAGE_PWT (bit 3)
    assert c["_PAGE_SWP_EXCLUSIVE"] == 1 << 3
    # swapops.h:72-80: pte_to_swp_entry clears exclusive, soft-dirty and uffd-wp swap bits.
    assert layout.clear_mask == (1 << 3) | enc.RW | enc.USER
    pte = layout.swp_entry_to_pte(c["SWP_MIGRATION_READ_EXCLUSIVE"], 0x12345)
    assert layout.decode(pte).text == "migration(R, exclusive, pfn 0x12345)"
    flagged = pte | c["_PAGE_SWP_EXCLUSIVE"] | c["_PAGE_SWP_SOFT_DIRTY"]
    assert layout.pte_to_swp_entry(flagged) == layout.pte_to_swp_entry(pte)
    assert layout.decode(flagged).text.endswith("+soft-dirty +exclusive")
    # swapops.h:62-67: young/dirty migration bits above the PFN (SWP_PFN_BITS with the stated
    # MAX_PHYSMEM_BITS 46 assumption: 46 - 12 = 34).
    assert (c["SWP_MIG_YOUNG"], c["SWP_MIG_DIRTY"]) == (1 << 34, 1 << 35)
    assert any("MAX_PHYSMEM_BITS" in a for a in f.assumptions)
    young = layout.swp_entry_to_pte(c["SWP_MIGRATION_WRITE"], 0x12345 | c["SWP_MIG_YOUNG"])
    assert layout.decode(young).text == "migration(W, pfn 0x12345) +young"
    # 5.17-rc5 has neither the exclusive migration type nor the exclusive swap bit.
    old = _facts(wild / "dunli-5.17-rc5").constants
    assert "SWP_MIGRATION_READ_EXCLUSIVE" not in old and "_PAGE_SWP_EXCLUSIVE" not in old


def test_ttu_flags_come_from_each_tree(wild: Path) -> None:
    # 4.9.118 include/linux/rmap.h enum ttu_flags: TTU_UNMAP = 1, TTU_MIGRATION = 2, ... and
    # 6.18.2's has no TTU_MIGRATION at all (migration moved to try_to_migrate, 5.14).
    old = _facts(wild / "tina-v3s-4.9.118").constants
    assert (old["TTU_UNMAP"], old["TTU_MIGRATION"], old["TTU_IGNORE_ACCESS"]) == (1, 2, 512)
    new = _facts(wild / "gfunkmonk-6.18.2").constants
    assert "TTU_MIGRATION" not in new and new["TTU_BATCH_FLUSH"] == 0x40


def test_wild_trees_that_cannot_be_evaluated_say_why(wild: Path) -> None:
    # 2.6.22.15 (keenetic) swap.h:35 takes MAX_SWAPFILES_SHIFT from a vendor Kconfig value.
    with pytest.raises(KvdiffError, match="CONFIG_MAX_SWAPFILES_SHIFT has no value"):
        _facts(wild / "keenetic-tc-2.6.22.15")
    # 2.6.29.4 keeps _PAGE_BIT_* in arch/x86/include/asm/pgtable.h, which that tree lacks.
    with pytest.raises(KvdiffError, match=r"not at this tag: .*arch/x86/include/asm/pgtable\.h"):
        _facts(wild / "s5pc100-2.6.29.4")
    with pytest.raises(KvdiffError, match="include/linux/swapops.h cannot be read at nowhere"):
        tag_facts(lambda p: (wild / "hassebj-2.6.9" / p).read_bytes() if "swapops" not in p
                  else (wild / "missing" / p).read_bytes(), "nowhere", ModelConfig())  # fmt: skip


def test_the_derived_model_runs_on_every_evaluable_wild_tree(wild: Path) -> None:
    for tree in _evaluable(wild):
        read = _reader(wild / tree)
        facts = tag_facts(read, tree, ModelConfig())
        for scenario in SCENARIO_NAMES:
            o = derived_outcome(read, tree, scenario, facts=facts)
            assert o.applicable or o.reason, (tree, scenario)
    # 4.19.110: compaction writes a migration entry of type SWP_MIGRATION_WRITE (29: swap.h
    # MAX_SWAPFILES 27 + HWPOISON_NUM 1 + 1) with the PFN, in the L1TF layout.
    o = derived_outcome(_reader(wild / "oppo-msm-4.19.110"), "v4.19.110", "compaction-anon")
    assert o.undetermined == ""
    assert (o.decoded_after.text, o.decoded_after.swap_type, o.ret) == (
        "migration(W, pfn 0x12345)", 29, "true")  # fmt: skip


@pytest.fixture(scope="module")
def wild_repo(wild: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git is not installed", pytrace=False)
    dest = tmp_path_factory.mktemp("wild")
    subprocess.run([str(wild / "make-upstream"), str(wild), str(dest)], check=True,
                   capture_output=True)  # fmt: skip
    return dest / "wild.git"


def test_kvdiff_model_at_a_wild_tag_end_to_end(wild_repo: Path, tmp_path: Path) -> None:
    src = ["--repo", str(wild_repo), "--offline", "-q", "--cache", str(tmp_path / "c.git")]
    r = CliRunner().invoke(cli, ["model", "v4.19.110", "--scenario", "compaction-anon", *src])
    assert r.exit_code == 0, r.output
    assert "after:   0xeffffffffdb97400  migration(W, pfn 0x12345)" in r.output
    assert "returns: true" in r.output
    # The same tree under its vendor-style tag name (no version in it): same outcome.
    r2 = CliRunner().invoke(cli, ["model", "wild/oppo-msm-4.19.110", "--scenario",
                                  "compaction-anon", "--no-source", *src])  # fmt: skip
    assert r2.exit_code == 0 and "migration(W, pfn 0x12345)" in r2.output, r2.output
    bad = CliRunner().invoke(cli, ["model", "v2.6.29.4", "--scenario", "compaction-anon", *src])
    assert bad.exit_code != 0 and bad.output.count("\n") == 1
    assert bad.output.startswith("kvdiff: error: the headers of v2.6.29.4 cannot be evaluated")


@pytest.mark.parametrize(
    ("write", "young", "dirty", "anon", "text"),
    [
        (True, True, True, False, "migration(W, pfn 0x12345) +young +dirty +soft-dirty"),
        (False, True, False, True, "migration(R, exclusive, pfn 0x12345) +young +soft-dirty"),
        (False, False, False, False, "migration(R, pfn 0x12345) +soft-dirty"),
    ],
)
def test_migration_entries_carry_young_and_dirty_from_the_tree_headers(
    wild: Path, write: bool, young: bool, dirty: bool, anon: bool, text: str
) -> None:
    """Our own C (fixtures/c/model_migrate_ad.c) run with 6.18.2's header facts: the A/D bits
    land at SWP_MIG_YOUNG/SWP_MIG_DIRTY (swapops.h:62-67), behind the stated boot-time gate."""
    from kvdiff.analyzers.model.interp.run import run_function
    from kvdiff.analyzers.model.interp.table import load_table
    from kvdiff.analyzers.model.state import Mm, Page, UnmapInput, Vma
    from kvdiff.analyzers.parse.cparse import parse_c
    from kvdiff.analyzers.parse.extract import find_functions

    facts = _facts(wild / "gfunkmonk-6.18.2")
    c = facts.constants
    c_path = Path(__file__).resolve().parent.parent / "fixtures" / "c" / "model_migrate_ad.c"
    (fn,) = find_functions(parse_c(c_path.read_bytes()), "model_migrate_ad")
    pte = 0x12345 << 12 | c["_PAGE_PRESENT"] | c["_PAGE_USER"] | c["_PAGE_SOFT_DIRTY"]
    pte |= (c["_PAGE_RW"] if write else 0) | (c["_PAGE_ACCESSED"] if young else 0)
    pte |= c["_PAGE_DIRTY"] if dirty else 0
    page = Page(pfn=0x12345, anon=anon, swapcache=False)
    inp = UnmapInput(page, Vma(), Mm(), pte, frozenset())
    m, ret, why = run_function(fn, inp, facts, ModelConfig(), load_table(), "model_migrate_ad.c")
    assert (why, ret) == ("", "true")
    assert facts.layout.decode(m.pte).text == text
    if young or dirty:
        assert any("migration_entry_supports_ad() is true" in a for a in m.assumptions)


def _hand(wild: Path, tree: str, version: tuple[int, ...]):
    """tagfacts' fallback when model/callers.py is absent, on the tree's own constants."""
    from kvdiff.analyzers.model.tagfacts import hand_callers

    return hand_callers(tree, ModelConfig(), version, _facts(wild / tree).constants)


def test_hand_caller_flags_outside_the_corpus_are_ones_the_tag_defines(wild: Path) -> None:
    """Without model/callers.py: per scenario kind, the nearest corpus tag's hand flags that the
    tag's own rmap.h defines, stated as an assumption (model/callers.py now reads the callers:
    tests/test_model_callers.py)."""
    callers = _hand(wild, "oppo-msm-4.19.110", (4, 19, 110))
    # 4.19.110 include/linux/rmap.h enum ttu_flags starts at TTU_MIGRATION = 0x1: there is no
    # TTU_UNMAP (v2.6.35's reclaim flag), so reclaim takes v5.1's TTU_BATCH_FLUSH.
    assert callers["reclaim"].flags == ("TTU_BATCH_FLUSH",)
    assert "hand for v5.1" in callers["reclaim"].source
    assert callers["migration"].flags == ("TTU_IGNORE_ACCESS", "TTU_IGNORE_MLOCK", "TTU_MIGRATION")
    assert "hand for v2.6.35" in callers["migration"].source
    assert "model/callers.py is not installed" in callers["compaction"].source
    # 6.8 has no TTU_MIGRATION (rmap.h): no hand flags fit, the nearest older's stay.
    new = _hand(wild, "vivo50-6.8", (6, 8))["migration"]
    assert "TTU_MIGRATION" in new.flags and "hand for v5.10.37" in new.source
    # With the callers read from the tree, 6.8's migration runs try_to_migrate_one instead.
    o = derived_outcome(_reader(wild / "vivo50-6.8"), "v6.8", "compaction-anon")
    assert not o.undetermined and o.function == "try_to_migrate_one"
    # 2.6.9 (no migration): v2.6.7's not-applicable reason, marked as assumed.
    old = _hand(wild, "hassebj-2.6.9", (2, 6, 9))["migration"]
    assert not old.applicable and "hand for v2.6.7" in old.reason
