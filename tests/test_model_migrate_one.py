"""From v5.14 the migration scenarios run try_to_migrate_one(): the derived model executes
whichever function the tag's callers name, with the tag's header facts (model/tagfacts.py).

Outcomes below were checked by reading each tree (kernel-wild, read in place, never copied);
the comments cite the lines that decide them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from kvdiff.analyzers.model.behaviour import behaviour_of, behaviour_timelines
from kvdiff.analyzers.model.encoding import ModelConfig
from kvdiff.analyzers.model.interp.facts import tag_facts
from kvdiff.analyzers.model.interp.run import derived_outcome
from kvdiff.analyzers.model.interp.table import table_from_text
from kvdiff.analyzers.model.scenarios import SCENARIO_NAMES


def _run(wild: Path, tree: str, scenario: str, **kw):
    root = wild / tree
    read = lambda p: (root / p).read_bytes()  # noqa: E731
    config = ModelConfig()
    return derived_outcome(read, tree, scenario, config, facts=tag_facts(read, tree, config), **kw)


@pytest.mark.corpus
def test_v5_14_compaction_runs_try_to_migrate_one(wild: Path) -> None:
    o = _run(wild, "faascale-5.14.2", "compaction-anon")
    assert not o.undetermined, o.undetermined
    # migrate.c:1064 try_to_migrate(page, 0); rmap.c:1929 .rmap_one = try_to_migrate_one; the
    # final else of the PTE chain (rmap.c:1867) makes a writable migration entry
    # (make_writable_migration_entry, 1884-1885) for the writable PTE.
    assert "try_to_migrate() runs try_to_migrate_one() (mm/rmap.c:1929)" in o.flags_source
    assert o.flags == () and o.ret == "true"
    assert o.decoded_after.kind == "migration" and o.decoded_after.write
    assert o.decoded_after.pfn == 0x12345
    taken = {s.concept for s in o.trace if s.taken}
    assert "migration" in taken and "device_migration" not in taken


@pytest.mark.corpus
def test_v6_1_migration_entry_carries_young_and_dirty(wild: Path) -> None:
    o = _run(wild, "c133-6.1.20", "compaction-anon")
    assert not o.undetermined, o.undetermined
    # rmap.c (6.1) try_to_migrate_one: `if (pte_young(pteval)) entry =
    # make_migration_entry_young(entry);` and the same for dirty; the A/D bits depend on
    # swap_migration_ad_supported, decided at boot: stated.
    assert o.decoded_after.kind == "migration" and o.decoded_after.write
    assert "+young" in o.decoded_after.text and "+dirty" in o.decoded_after.text
    assert any("swap_migration_ad_supported" in e for e in o.side_effects)
    # The swap-cache page being migrated keeps its migration entry, never a swap entry.
    assert _run(wild, "c133-6.1.20", "migrate-anon-swapcache").decoded_after.kind == "migration"


@pytest.mark.corpus
def test_unknown_helper_in_the_migrate_path_is_undetermined(wild: Path) -> None:
    # 5.14 try_to_migrate(): `if (!PageKsm(page) && PageAnon(page))` is in the caller, not in
    # try_to_migrate_one; try_to_unmap_one (5.14 rmap.c:1425) tests PageKsm itself. A table
    # without PageKsm leaves that reclaim undetermined, naming it.
    raw = resources.files("kvdiff.analyzers.model").joinpath("helpers.toml").read_text()
    table = table_from_text(raw.replace("[helper.PageKsm]", "[helper.PageKsm_gone]"))
    o = _run(wild, "faascale-5.14.2", "reclaim-anon-swapcache", table=table)
    assert "PageKsm()" in o.undetermined and o.cell == "undetermined"


@pytest.mark.corpus
def test_behavioural_timeline_over_wild_tags(wild: Path) -> None:
    trees = ["msm8960-3.0.8", "rt-4.18", "rockchip-5.10.107", "faascale-5.14.2",
             "c133-6.1.20", "gfunkmonk-6.18.2"]  # fmt: skip
    by_tag = {}
    for tree in trees:
        root = wild / tree
        read = lambda p, root=root: (root / p).read_bytes()  # noqa: E731
        facts = tag_facts(read, tree, ModelConfig())
        by_tag[tree] = {
            s: behaviour_of(derived_outcome(read, tree, s, ModelConfig(), facts=facts))
            for s in SCENARIO_NAMES
        }
    timelines = {t.scenario: t for t in behaviour_timelines(by_tag, trees, SCENARIO_NAMES)}

    def spans(scenario: str) -> list[tuple]:
        return [(s.first_tag, s.last_tag, s.behaviour.key, s.behaviour.function)
                for s in timelines[scenario].spans]  # fmt: skip

    # Migrating a swap-cache page: 3.0.8's try_to_unmap_one tests PageAnon (rmap.c:1220), then
    # PageSwapCache (1223) and writes the real swap entry; 4.18 tests TTU_MIGRATION (rmap.c:1500)
    # before PageAnon (1527): a migration entry. From 5.14 try_to_migrate_one runs it.
    assert spans("migrate-anon-swapcache") == [
        ("msm8960-3.0.8", "msm8960-3.0.8", "swap entry, succeeds", "try_to_unmap_one"),
        ("rt-4.18", "rockchip-5.10.107", "migration entry (write), succeeds", "try_to_unmap_one"),
        ("faascale-5.14.2", "gfunkmonk-6.18.2", "migration entry (write), succeeds",
         "try_to_migrate_one"),
    ]  # fmt: skip
    # The young-PTE bail-out: 4.18's try_to_unmap_one still tests ptep_clear_flush_young_notify
    # (reclaim passes no TTU_IGNORE_ACCESS); 5.10.107 has 013339df116c (5.10.y): no such test.
    assert [(a, b, k) for a, b, k, _f in spans("reclaim-young")] == [
        ("msm8960-3.0.8", "rt-4.18", "PTE kept, fails"),
        ("rockchip-5.10.107", "gfunkmonk-6.18.2", "swap entry, succeeds"),
    ]
