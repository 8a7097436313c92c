"""Scenarios follow the real callers at each tag (model/callers.py), read from the source.

Every expectation below was verified by reading the file at the cited line (kernel-corpus and
kernel-wild are read in place at test time, never copied). The synthetic cases at the end are
our own C (no kernel text).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kvdiff.analyzers.model.callers import find_callers
from kvdiff.analyzers.model.encoding import ModelConfig
from kvdiff.analyzers.model.interp.facts import corpus_facts
from kvdiff.analyzers.model.interp.run import derived_outcome

MIGRATION3 = ("TTU_IGNORE_ACCESS", "TTU_IGNORE_MLOCK", "TTU_MIGRATION")


def _reader(root: Path):
    return lambda path: (root / path).read_bytes()


# -- the corpus tags ----------------------------------------------------------------------------
@pytest.mark.corpus
def test_corpus_v5_1_reclaim_follows_the_parameter(corpus: Path) -> None:
    c = find_callers(_reader(corpus / "v5.1"), "v5.1")["reclaim"]
    assert c.function == "try_to_unmap_one" and c.flags == ("TTU_BATCH_FLUSH",)
    # vmscan.c:1321 `if (!try_to_unmap(page, flags))` in shrink_page_list(); 1317 `enum
    # ttu_flags flags = ttu_flags | TTU_BATCH_FLUSH;`; 1932 shrink_inactive_list() passes 0;
    # 1319 `if (unlikely(PageTransHuge(page))) flags |= TTU_SPLIT_HUGE_PMD;` (not for a small
    # page); rmap.c:1701 `.rmap_one = try_to_unmap_one,` in try_to_unmap().
    cites = ("mm/vmscan.c:1321", "mm/vmscan.c:1317", "shrink_inactive_list() (mm/vmscan.c:1932)",
             "TTU_SPLIT_HUGE_PMD", "mm/vmscan.c:1319", "mm/rmap.c:1701")  # fmt: skip
    for cite in cites:
        assert cite in c.source, cite


@pytest.mark.corpus
def test_corpus_migration_and_compaction(corpus: Path) -> None:
    v35 = find_callers(_reader(corpus / "v2.6.35"), "v2.6.35")
    # migrate.c:674 try_to_unmap(page, TTU_MIGRATION|TTU_IGNORE_MLOCK|TTU_IGNORE_ACCESS) in
    # unmap_and_move(); rmap.c:1193 try_to_unmap_anon() calls try_to_unmap_one(..., flags).
    assert v35["migration"].flags == MIGRATION3
    assert "unmap_and_move() calls try_to_unmap() at mm/migrate.c:674" in v35["migration"].source
    assert "mm/rmap.c:1193" in v35["migration"].source
    # compaction.c:395 migrate_pages(&cc->migratepages, compaction_alloc, ...) in compact_zone().
    assert v35["compaction"].source.startswith(
        "compaction: compact_zone() calls migrate_pages() at mm/compaction.c:395, then migration:"
    )
    v510 = find_callers(_reader(corpus / "v5.10.37"), "v5.10.37")
    # migrate.c:1126 try_to_unmap(page, TTU_MIGRATION|TTU_IGNORE_MLOCK): no TTU_IGNORE_ACCESS.
    assert v510["migration"].flags == ("TTU_IGNORE_MLOCK", "TTU_MIGRATION")
    assert "mm/migrate.c:1126" in v510["migration"].source
    assert v510["migration"].requires[0][0] == "CONFIG_MIGRATION"


@pytest.mark.corpus
def test_corpus_v2_6_7_has_no_migration(corpus: Path) -> None:
    c = find_callers(_reader(corpus / "v2.6.7"), "v2.6.7")
    # vmscan.c:405 `switch (try_to_unmap(page))`; rmap.c:764 `int try_to_unmap(struct page
    # *page)`: no flags at all; no mm/migrate.c in the tree.
    assert c["reclaim"].flags == () and "mm/vmscan.c:405" in c["reclaim"].source
    for kind in ("migration", "compaction"):
        assert not c[kind].applicable
        assert "mm/migrate.c is not in the tree" in c[kind].reason
        assert "(mm/rmap.c:764)" in c[kind].reason


@pytest.mark.corpus
def test_config_migration_off_is_not_applicable(corpus: Path) -> None:
    read = _reader(corpus / "v5.1")
    off = ModelConfig(migration=False)
    o = derived_outcome(read, "v5.1", "compaction-anon", off, facts=corpus_facts(read, "v5.1", off))
    assert not o.applicable and o.reason.startswith("CONFIG_MIGRATION=n")


# -- kernel-wild --------------------------------------------------------------------------------
def _wild(wild: Path, tree: str) -> dict:
    return find_callers(_reader(wild / tree), tree)


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("tree", "function", "flags", "cite"),
    [
        # migrate.c:1064 `try_to_migrate(page, 0);` in __unmap_and_move(); rmap.c:1929
        # `.rmap_one = try_to_migrate_one,` in try_to_migrate().
        ("faascale-5.14.2", "try_to_migrate_one", (), "mm/migrate.c:1064"),
        ("faascale-5.14.2", "try_to_migrate_one", (), "mm/rmap.c:1929"),
        # migrate.c:1109 `try_to_migrate(src, 0);` (folios); rmap.c:2151 .rmap_one.
        ("c133-6.1.20", "try_to_migrate_one", (), "mm/migrate.c:1109"),
        # migrate.c:1244 `try_to_migrate(src, mode == MIGRATE_ASYNC ? TTU_BATCH_FLUSH : 0);` in
        # migrate_folio_unmap(): the mode is the caller's, an assumption stated in the source.
        ("vivo50-6.8", "try_to_migrate_one", (), "assumed: `mode == MIGRATE_ASYNC` is false"),
        # migrate.c:1102 try_to_unmap(page, TTU_MIGRATION|TTU_IGNORE_MLOCK) (5.10 stable).
        (
            "rockchip-5.10.107",
            "try_to_unmap_one",
            ("TTU_IGNORE_MLOCK", "TTU_MIGRATION"),
            "mm/migrate.c:1102",
        ),  # fmt: skip
        # migrate.c:892-894: the vendor adds TTU_IGNORE_HWPOISON over two lines.
        (
            "mlpzaq-4.2.8",
            "try_to_unmap_one",
            ("TTU_IGNORE_ACCESS", "TTU_IGNORE_HWPOISON", "TTU_IGNORE_MLOCK", "TTU_MIGRATION"),
            "mm/migrate.c:892",
        ),  # fmt: skip
        # 2.6.18's migrate.c:619 `try_to_unmap(page, 1);`: the int `migration` parameter.
        ("laitianli-2.6.18", "try_to_unmap_one", ("1",), "mm/migrate.c:619"),
    ],
)
def test_wild_migration_callers(wild: Path, tree: str, function: str, flags: tuple, cite: str):
    c = _wild(wild, tree)["migration"]
    assert c.applicable and not c.undetermined
    assert (c.function, c.flags) == (function, flags)
    assert cite in c.source


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("tree", "flags", "cite"),
    [
        # vmscan.c:1880 `try_to_unmap(folio, flags);` in shrink_folio_list(); 1874 `enum
        # ttu_flags flags = TTU_BATCH_FLUSH;`; 1877 folio_test_pmd_mappable -> SPLIT (THP only).
        (
            "c133-6.1.20",
            ("TTU_BATCH_FLUSH",),
            "shrink_folio_list() calls try_to_unmap() at mm/vmscan.c:1880",
        ),  # fmt: skip
        # 6.18 vmscan.c:1387 `if (folio_test_large(folio)) flags |= TTU_SYNC;`: large only.
        ("gfunkmonk-6.18.2", ("TTU_BATCH_FLUSH",), "not `flags |= TTU_SYNC`"),
        # 3.10 vmscan.c:797 try_to_unmap(page, ttu_flags); 1333 shrink_inactive_list() passes
        # TTU_UNMAP (the CMA caller at 990 passes TTU_IGNORE_ACCESS: not reclaim).
        ("famhub-3.10.30", ("TTU_UNMAP",), "shrink_inactive_list() (mm/vmscan.c:1333)"),
        # 4.19 vendor tree: try_to_unmap(page, flags, sc->target_vma) at vmscan.c:1393.
        ("oppo-msm-4.19.110", ("TTU_BATCH_FLUSH",), "mm/vmscan.c:1393"),
        # 2.6.9 vmscan.c:405 `switch (try_to_unmap(page))`: no flags.
        ("hassebj-2.6.9", (), "shrink_list() calls try_to_unmap() at mm/vmscan.c:405"),
    ],
)
def test_wild_reclaim_callers(wild: Path, tree: str, flags: tuple, cite: str) -> None:
    c = _wild(wild, tree)["reclaim"]
    assert c.function == "try_to_unmap_one" and c.flags == flags and not c.undetermined
    assert cite in c.source


@pytest.mark.corpus
def test_wild_reclaim_flags_the_source_leaves_open_are_undetermined(wild: Path) -> None:
    # 4.9 vmscan.c:1129: `try_to_unmap(page, lazyfree ? (... | TTU_LZFREE) : (...))`, and
    # lazyfree is set at 1111 from the page's state: never a default.
    c = _wild(wild, "tina-v3s-4.9.118")["reclaim"]
    assert "lazyfree" in c.undetermined and "mm/vmscan.c:1129" in c.undetermined


@pytest.mark.corpus
def test_wild_old_trees_not_applicable(wild: Path) -> None:
    # 2.6.9: no mm/migrate.c; rmap.c:824 `int try_to_unmap(struct page *page)`.
    old = _wild(wild, "hassebj-2.6.9")
    assert not old["migration"].applicable and "(mm/rmap.c:824)" in old["migration"].reason
    assert not old["compaction"].applicable
    # 2.6.22: migration exists (migrate.c:639), compaction does not: no mm/compaction.c and no
    # mention of compaction in its vmscan.c or migrate.c.
    mid = _wild(wild, "keenetic-tc-2.6.22.15")
    assert mid["migration"].applicable
    assert not mid["compaction"].applicable
    assert "no memory compaction" in mid["compaction"].reason


@pytest.mark.corpus
def test_wild_missing_compaction_file_is_an_assumption(wild: Path) -> None:
    # kernel-wild has no mm/compaction.c; 3.4's vmscan.c refers to compaction, so compaction is
    # applicable with the assumption stated (never silently).
    c = _wild(wild, "golden-3.4.5")["compaction"]
    assert c.applicable and c.source.startswith("compaction: assumed: mm/compaction.c is not")


# -- synthetic callers (our own C) ---------------------------------------------------------------
SYN_RMAP = b"""
enum ttu_flags { TTU_MIGRATION = 1, TTU_IGNORE_MLOCK = 2, TTU_BATCH_FLUSH = 8 };
static int try_to_unmap_one(struct page *page, struct vm_area_struct *vma,
                            unsigned long address, void *arg) { return 1; }
int try_to_unmap(struct page *page, enum ttu_flags flags)
{
    struct rmap_walk_control rwc = { .rmap_one = try_to_unmap_one, .arg = (void *)flags };
    return rmap_walk(page, &rwc);
}
"""
SYN_VMSCAN = b"""
static int shrink_it(struct page *page, int mode, enum ttu_flags base)
{
    enum ttu_flags flags = base;
    if (mode > 2)
        flags |= TTU_IGNORE_MLOCK;
    return try_to_unmap(page, flags);
}
static void shrink_inactive_list(struct page *page) { shrink_it(page, 0, TTU_BATCH_FLUSH); }
"""


def _synthetic(files: dict[str, bytes]):
    def read(path: str) -> bytes:
        if path not in files:
            raise FileNotFoundError(path)
        return files[path]

    return read


def test_synthetic_condition_the_source_does_not_decide() -> None:
    read = _synthetic({"mm/rmap.c": SYN_RMAP, "mm/vmscan.c": SYN_VMSCAN})
    c = find_callers(read, "synthetic")
    assert "flags |= TTU_IGNORE_MLOCK" in c["reclaim"].undetermined
    # No mm/migrate.c but try_to_unmap() takes flags: an explicit assumption, with the flags
    # the tag's rmap.h defines (none here: there is no include/linux/rmap.h).
    assert c["migration"].applicable and c["migration"].source.startswith(
        "migration: assumed: mm/migrate.c is not available at synthetic"
    )


def test_synthetic_parameter_followed_to_the_lru_caller() -> None:
    vmscan = SYN_VMSCAN.replace(b"if (mode > 2)", b"if (PageTransHuge(page))")
    c = find_callers(_synthetic({"mm/rmap.c": SYN_RMAP, "mm/vmscan.c": vmscan}), "s")["reclaim"]
    assert c.flags == ("TTU_BATCH_FLUSH",) and not c.undetermined
    assert "base = TTU_BATCH_FLUSH from shrink_inactive_list() (mm/vmscan.c:9)" in c.source


def test_synthetic_makefile_without_migrate_o() -> None:
    files = {"mm/rmap.c": SYN_RMAP, "mm/vmscan.c": SYN_VMSCAN, "mm/Makefile": b"obj-y := rmap.o\n"}
    c = find_callers(_synthetic(files), "s")
    assert not c["migration"].applicable
    assert c["migration"].reason == "s has no page migration: mm/Makefile builds no migrate.o"


@pytest.mark.corpus
def test_every_not_applicable_reason_is_korean(wild: Path, corpus: Path) -> None:
    from kvdiff.analyzers.present.model_text import model_text

    ko = model_text("ko")
    roots = [corpus / "v2.6.7", *(wild / t for t in ("hassebj-2.6.9", "laitianli-2.6.18"))]
    reasons = {c.reason for r in roots for c in find_callers(_reader(r), r.name).values()}
    reasons |= {find_callers(_synthetic({"mm/rmap.c": SYN_RMAP, "mm/Makefile": b""}), "s")[
        "migration"].reason}  # fmt: skip
    reasons.discard("")
    assert len(reasons) >= 4
    for english in reasons:
        korean = ko.message(english)
        assert korean != english and "migration" not in korean, english
