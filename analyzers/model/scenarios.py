"""The named scenarios: who calls try_to_unmap_one(), with which page, PTE and flags.

The hand tables below are the reference oracle's callers, read by hand from the corpus (the
derived model finds the same from the source: model/callers.py, and tests/test_model_oracle.py
holds the two equal, cites included):
- reclaim: mm/vmscan.c shrink_list() (v2.6.7:405, try_to_unmap(page): no flags) and
  shrink_page_list(): TTU_UNMAP at v2.6.35:711; v5.1:1317 flags = ttu_flags | TTU_BATCH_FLUSH
  with ttu_flags 0 from shrink_inactive_list() (v5.1:1932); TTU_BATCH_FLUSH at v5.10.37:1301.
  TTU_SPLIT_HUGE_PMD is added for a THP only (v5.1:1319, v5.10.37:1304). TTU_BATCH_FLUSH only
  defers the TLB flush (should_defer_flush), it changes no outcome here.
- migration and compaction: compaction's compact_zone() calls migrate_pages() (mm/compaction.c
  v2.6.35:395, v5.1:2181, v5.10.37:2322); every migration unmaps in unmap_and_move() /
  __unmap_and_move() with TTU_MIGRATION|TTU_IGNORE_MLOCK|TTU_IGNORE_ACCESS (v2.6.35
  migrate.c:674, v5.1 migrate.c:1114-1115) and TTU_MIGRATION|TTU_IGNORE_MLOCK at v5.10.37
  (migrate.c:1126: TTU_IGNORE_ACCESS is gone along with the young check).
- try_to_unmap() reaches try_to_unmap_one() directly at v2.6.7 (rmap.c:633) and v2.6.35
  (rmap.c:1193), through .rmap_one at v5.1 (rmap.c:1701) and v5.10.37 (rmap.c:1737).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kvdiff.analyzers.errors import KvdiffError

from . import v2_6_7, v2_6_35, v5_1, v5_10_37
from .encoding import MODEL_TAGS, ModelConfig, check_tag, decode, make_present
from .fault import next_fault
from .names import SCENARIO_NAMES
from .outcome import Outcome
from .state import Mm, Page, UnmapInput, Vma
from .tracing import ModelBranch, UnmapResult

PFN = 0x12345
SWAP_TYPE = 0
SWAP_OFFSET = 0x1A2B

_RECLAIM_FLAGS: dict[str, tuple[tuple[str, ...], str]] = {
    "v2.6.7": (
        (),
        "reclaim: shrink_list() calls try_to_unmap() at mm/vmscan.c:405; try_to_unmap() runs "
        "try_to_unmap_one() (mm/rmap.c:633)",
    ),
    "v2.6.35": (
        ("TTU_UNMAP",),
        "reclaim: shrink_page_list() calls try_to_unmap() at mm/vmscan.c:711; try_to_unmap() "
        "runs try_to_unmap_one() (mm/rmap.c:1193)",
    ),
    "v5.1": (
        ("TTU_BATCH_FLUSH",),
        "reclaim: shrink_page_list() calls try_to_unmap() at mm/vmscan.c:1321; flags = "
        "ttu_flags | TTU_BATCH_FLUSH (mm/vmscan.c:1317); ttu_flags = 0 from "
        "shrink_inactive_list() (mm/vmscan.c:1932); not `flags |= TTU_SPLIT_HUGE_PMD`: "
        "`unlikely(PageTransHuge(page))` is false for one small page (mm/vmscan.c:1319); "
        "try_to_unmap() runs try_to_unmap_one() (mm/rmap.c:1701)",
    ),
    "v5.10.37": (
        ("TTU_BATCH_FLUSH",),
        "reclaim: shrink_page_list() calls try_to_unmap() at mm/vmscan.c:1307; flags = "
        "TTU_BATCH_FLUSH (mm/vmscan.c:1301); not `flags |= TTU_SPLIT_HUGE_PMD`: "
        "`unlikely(PageTransHuge(page))` is false for one small page (mm/vmscan.c:1304); "
        "try_to_unmap() runs try_to_unmap_one() (mm/rmap.c:1737)",
    ),
}
_MIGRATION_FLAGS: dict[str, tuple[tuple[str, ...], str]] = {
    "v2.6.35": (
        ("TTU_IGNORE_ACCESS", "TTU_IGNORE_MLOCK", "TTU_MIGRATION"),
        "migration: unmap_and_move() calls try_to_unmap() at mm/migrate.c:674; try_to_unmap() "
        "runs try_to_unmap_one() (mm/rmap.c:1193)",
    ),
    "v5.1": (
        ("TTU_IGNORE_ACCESS", "TTU_IGNORE_MLOCK", "TTU_MIGRATION"),
        "migration: __unmap_and_move() calls try_to_unmap() at mm/migrate.c:1114; "
        "try_to_unmap() runs try_to_unmap_one() (mm/rmap.c:1701)",
    ),
    "v5.10.37": (
        ("TTU_IGNORE_MLOCK", "TTU_MIGRATION"),
        "migration: __unmap_and_move() calls try_to_unmap() at mm/migrate.c:1126; "
        "try_to_unmap() runs try_to_unmap_one() (mm/rmap.c:1737)",
    ),
}
_COMPACTION_LINE = {"v2.6.35": 395, "v5.1": 2181, "v5.10.37": 2322}
_NO_MIGRATION = (
    "v2.6.7 has no page migration: mm/migrate.c is not in the tree and try_to_unmap() takes no "
    "flags (mm/rmap.c:764): no caller can pass TTU_MIGRATION, so there is no migration entry"
)

# mm/Makefile builds migrate.c only with CONFIG_MIGRATION, and COMPACTION selects MIGRATION
# (mm/Kconfig; neither file is in the corpus): without it no caller passes TTU_MIGRATION.
_MIGRATION_OFF = (
    "CONFIG_MIGRATION=n: there is no migrate_pages() (mm/migrate.c is not built) and no "
    "compaction, so nothing calls try_to_unmap() with TTU_MIGRATION"
)


@dataclass(frozen=True)
class Setup:
    page: Page
    vma: Vma
    young: bool = False
    dirty: bool = True
    write: bool = True
    migration: bool = False  # the caller is migration (else reclaim)
    compaction: bool = False


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    setup: Callable[[], Setup]


def _anon_swapcache(**kw: object) -> Page:
    base = dict(pfn=PFN, anon=True, swapcache=True, swap_type=SWAP_TYPE, swap_offset=SWAP_OFFSET)
    # One mapping, the swap cache and the caller's isolation reference: 2.6.7's
    # page_count == mapcount + 2 (rmap.c:485-486) holds, so no GUP pin is suspected.
    base.update(mapcount=1, refcount=3)
    base.update(kw)
    return Page(**base)  # type: ignore[arg-type]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "reclaim-anon-swapcache",
        "Reclaim of an anonymous page in the swap cache",
        "shrink_page_list() has added the page to the swap cache and unmaps it; the PTE is "
        "dirty and old.",
        lambda: Setup(_anon_swapcache(), Vma()),
    ),
    Scenario(
        "compaction-anon",
        "Compaction of an anonymous page not in the swap cache",
        "compaction isolates the page and migrate_pages() unmaps it with the migration flags; "
        "the page never had a swap slot. The PTE is young, to show the access bit is ignored.",
        lambda: Setup(
            Page(pfn=PFN, anon=True, swapcache=False, mapcount=1, refcount=2),
            Vma(),
            young=True,
            migration=True,
            compaction=True,
        ),
    ),
    Scenario(
        "migrate-anon-swapcache",
        "Migration of an anonymous page that is in the swap cache",
        "migrate_pages() unmaps an anon page that also has a swap slot (e.g. swapped in earlier).",
        lambda: Setup(_anon_swapcache(), Vma(), migration=True),
    ),
    Scenario(
        "migrate-file",
        "Migration of a file page",
        "migrate_pages() unmaps a page-cache page mapped writable by a shared file mapping.",
        lambda: Setup(
            Page(pfn=PFN, anon=False, swapcache=False, mapcount=1, refcount=3),
            Vma(),
            migration=True,
        ),
    ),
    Scenario(
        "reclaim-file",
        "Reclaim of a file page",
        "shrink_page_list() unmaps a dirty page-cache page; the PTE is old.",
        lambda: Setup(Page(pfn=PFN, anon=False, swapcache=False, mapcount=1, refcount=3), Vma()),
    ),
    Scenario(
        "reclaim-mlocked",
        "Reclaim in a VM_LOCKED VMA",
        "shrink_page_list() meets an anon swap-cache page mapped in an mlock()ed VMA.",
        lambda: Setup(_anon_swapcache(), Vma(flags=frozenset({"VM_LOCKED"}))),
    ),
    Scenario(
        "reclaim-young",
        "Reclaim when the PTE is young",
        "shrink_page_list() unmaps an anon swap-cache page whose PTE was referenced since "
        "page_referenced() looked (the accessed bit is set).",
        lambda: Setup(_anon_swapcache(), Vma(), young=True),
    ),
    Scenario(
        "gup-pinned",
        "Reclaim of a page pinned by get_user_pages",
        "an anon swap-cache page with one extra reference from get_user_pages(): page_count is "
        "mapcount + 3. 2.6.7 refuses to unmap it (rmap.c:485); later kernels have no such check.",
        lambda: Setup(_anon_swapcache(refcount=4), Vma()),
    ),
)
if tuple(s.name for s in SCENARIOS) != SCENARIO_NAMES:
    raise ImportError("model/names.py must list the names of SCENARIOS, in their order")
_BY_NAME = {s.name: s for s in SCENARIOS}

_MODULES = {"v2.6.7": v2_6_7, "v2.6.35": v2_6_35, "v5.1": v5_1, "v5.10.37": v5_10_37}


def model_branches(tag: str) -> tuple[ModelBranch, ...]:
    """Every branch the model of ``tag`` implements, in source order."""
    check_tag(tag)
    return _MODULES[tag].model_branches()


def get_scenario(name: str) -> Scenario:
    if name not in _BY_NAME:
        raise KvdiffError(
            f"unknown scenario {name!r}: the model knows {', '.join(SCENARIO_NAMES)}; pick one"
        )
    return _BY_NAME[name]


def _call(tag: str, inp: UnmapInput, config: ModelConfig) -> UnmapResult:
    if tag == "v2.6.7":
        return v2_6_7.try_to_unmap_one(inp)
    return _MODULES[tag].try_to_unmap_one(inp, config)


def run_scenario(tag: str, scenario: str, config: ModelConfig | None = None) -> Outcome:
    """Run the model of ``tag`` on the named scenario."""
    check_tag(tag)
    sc = get_scenario(scenario)
    config = config or ModelConfig()
    setup = sc.setup()
    pte = make_present(tag, PFN, write=setup.write, dirty=setup.dirty, young=setup.young)
    before = decode(tag, pte, config)
    if setup.migration:
        reason = ""
        if tag not in _MIGRATION_FLAGS:
            reason = _NO_MIGRATION
        elif not config.migration:
            reason = _MIGRATION_OFF
        if reason:
            return Outcome(
                tag, scenario, False, reason, pte, pte, before, before,
                ret="", side_effects=(), trace=(), next_fault="", config=config,
            )  # fmt: skip
        flags, source = _MIGRATION_FLAGS[tag]
        if setup.compaction:
            source = (
                f"compaction: compact_zone() calls migrate_pages() at "
                f"mm/compaction.c:{_COMPACTION_LINE[tag]}, then {source}"
            )
    else:
        flags, source = _RECLAIM_FLAGS[tag]
    inp = UnmapInput(setup.page, setup.vma, Mm(), pte, frozenset(flags))
    result = _call(tag, inp, config)
    after = decode(tag, result.pte_after, config)
    return Outcome(
        tag=tag,
        scenario=scenario,
        applicable=True,
        reason="",
        pte_before=pte,
        pte_after=result.pte_after,
        decoded_before=before,
        decoded_after=after,
        ret=result.ret,
        side_effects=result.side_effects,
        trace=result.trace,
        next_fault=next_fault(tag, after, setup.page.anon),
        flags=tuple(sorted(flags)),
        flags_source=source,
        config=config,
    )


def matrix(config: ModelConfig | None = None) -> tuple[Outcome, ...]:
    """Every scenario at every tag: scenarios in SCENARIOS order, tags oldest first."""
    return tuple(run_scenario(tag, s.name, config) for s in SCENARIOS for tag in MODEL_TAGS)
