"""Parse rules as data: loading, every predicate, version ranges, moved and expected-absent
concepts, on synthetic fixtures and on the real try_to_unmap_one at the four tags."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from conftest import FIXTURES, TAGS
from kvdiff.analyzers.analyze.analysis import Analysis, FunctionMissing, analyze_source
from kvdiff.analyzers.analyze.ruleset import (
    available_rule_sets,
    load_rule_set,
    parse_rule_set,
    rules_dir,
)
from kvdiff.analyzers.concepts import CONCEPT_IDS
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.source.repo import SourceFile
from kvdiff.analyzers.versions import parse_tag_range

RULES = load_rule_set()


def analyze(data: bytes, tag: str, rules=RULES, path: str = "mm/rmap.c", function=None):
    return analyze_source(SourceFile(tag, path, "0" * 40, "test", data), rules, function)


def fixture(name: str) -> bytes:
    return (FIXTURES / "c" / name).read_bytes()


def concept_map(a: Analysis) -> dict[str, tuple[str, list[tuple[int, int, str]]]]:
    return {
        s.concept: (s.state, [(h.start_line, h.end_line, h.condition_normalized) for h in s.hits])
        for s in a.concepts
    }


# -- the real corpus: what the source shows, reviewed line by line ---------------------------

MLOCK_YOUNG_267 = "(vma->vm_flags & (VM_LOCKED|VM_RESERVED)) || ptep_test_and_clear_young(pte)"
ZONE = "IS_ENABLED(CONFIG_MIGRATION) && (flags & TTU_MIGRATION) && is_zone_device_page(page)"
MIG5 = "IS_ENABLED(CONFIG_MIGRATION) && (flags & (TTU_MIGRATION|TTU_SPLIT_FREEZE))"
HWP = "PageHWPoison(page) && !(flags & TTU_IGNORE_HWPOISON)"
UNUSED = "pte_unused(pteval) && !userfaultfd_armed(vma)"
GONE = ("expected-absent", [])

EXPECTED = {
    "v2.6.7": {
        "mlock": ("present", [(468, 472, MLOCK_YOUNG_267)]),
        "young": ("present", [(468, 472, MLOCK_YOUNG_267)]),
        "gup": (
            "present",
            [(485, 489, "PageSwapCache(page) && page_count(page) != page->mapcount + 2")],
        ),
        "device_migration": GONE,
        "hwpoison": GONE,
        "guest_unused": GONE,
        "migration": GONE,
        "anon": ("present", [(499, 509, "PageAnon(page)")]),
        "lazyfree": GONE,
        "swapcache": ("present", [(499, 509, "PageAnon(page)")]),
        "file": GONE,
    },
    "v2.6.35": {
        "mlock": ("present", [(917, 918, "vma->vm_flags & VM_LOCKED")]),
        "young": ("present", [(924, 927, "ptep_clear_flush_young_notify(vma, address, pte)")]),
        "gup": GONE,
        "device_migration": GONE,
        "hwpoison": ("present", [(941, 948, HWP)]),
        "guest_unused": GONE,
        "migration": (
            "present",
            [
                (969, 977, "PAGE_MIGRATION"),
                (980, 985, "PAGE_MIGRATION && (TTU_ACTION(flags) == TTU_MIGRATION)"),
            ],
        ),
        "anon": ("present", [(948, 980, "PageAnon(page)")]),
        "lazyfree": GONE,
        "swapcache": ("present", [(951, 969, "PageSwapCache(page)")]),
        "file": ("present", [(985, 986, "")]),
    },
    "v5.1": {
        "mlock": ("present", [(1404, 1416, "vma->vm_flags & VM_LOCKED")]),
        "young": (
            "present",
            [(1481, 1486, "ptep_clear_flush_young_notify(vma, address, pvmw.pte)")],
        ),
        "gup": GONE,
        "device_migration": ("present", [(1455, 1478, ZONE)]),
        "hwpoison": ("present", [(1514, 1527, HWP)]),
        "guest_unused": ("present", [(1527, 1542, UNUSED)]),
        "migration": ("present", [(1542, 1569, MIG5)]),
        "anon": ("present", [(1569, 1634, "PageAnon(page)")]),
        "lazyfree": ("present", [(1587, 1605, "!PageSwapBacked(page)")]),
        "swapcache": ("present", [(1569, 1634, "PageAnon(page)")]),
        "file": ("present", [(1634, 1646, "")]),
    },
    "v5.10.37": {
        "mlock": ("present", [(1439, 1451, "vma->vm_flags & VM_LOCKED")]),
        "young": GONE,
        "gup": GONE,
        "device_migration": ("present", [(1496, 1534, ZONE)]),
        "hwpoison": ("present", [(1561, 1573, HWP)]),
        "guest_unused": ("present", [(1573, 1588, UNUSED)]),
        "migration": ("present", [(1588, 1617, MIG5)]),
        "anon": ("present", [(1617, 1684, "PageAnon(page)")]),
        "lazyfree": ("present", [(1635, 1653, "!PageSwapBacked(page)")]),
        "swapcache": ("present", [(1617, 1684, "PageAnon(page)")]),
        "file": ("present", [(1684, 1696, "")]),
    },
}


def corpus_analysis(corpus: Path, tag: str) -> tuple[bytes, Analysis]:
    data = (corpus / tag / "mm" / "rmap.c").read_bytes()
    return data, analyze(data, tag)


@pytest.mark.parametrize("tag", TAGS)
def test_corpus_concept_map(corpus: Path, tag: str):
    data, a = corpus_analysis(corpus, tag)
    assert concept_map(a) == EXPECTED[tag]
    assert [s.concept for s in a.concepts] == list(CONCEPT_IDS)
    # Verbatim: each hit's condition is the file's text, starting on the hit's first line.
    lines = data.decode("utf-8", errors="replace").split("\n")
    for s in a.concepts:
        for h in s.hits:
            text = "\n".join(lines[h.start_line - 1 : h.end_line])
            assert h.condition in text, (tag, s.concept)
            if h.condition:
                first = h.condition.split("\n", 1)[0]
                assert first in lines[h.start_line - 1], (tag, s.concept)


def test_corpus_v5_10_37_has_no_young_check_at_all(corpus: Path):
    data, a = corpus_analysis(corpus, "v5.10.37")
    assert b"ptep_clear_flush_young" not in data[a.tree.root.start_byte : a.tree.root.end_byte]
    young = a.concept("young")
    assert young.state == "expected-absent" and young.hits == ()
    assert "young" not in {c for ids in a.line_concepts().values() for c in ids}


def test_corpus_device_migration_is_not_migration(corpus: Path):
    _, a = corpus_analysis(corpus, "v5.1")
    dev = a.concept("device_migration").hits
    mig = a.concept("migration").hits
    assert {h.start_line for h in dev}.isdisjoint({h.start_line for h in mig})
    # The early zone-device `return true` is neither.
    assert 1357 not in {h.start_line for h in dev + mig}


def test_corpus_line_concepts(corpus: Path):
    _, old = corpus_analysis(corpus, "v2.6.7")
    lines = old.line_concepts()
    assert lines[468] == ("mlock", "young")
    assert lines[500] == ("anon", "swapcache")
    assert 495 not in lines
    _, new = corpus_analysis(corpus, "v2.6.35")
    assert new.line_concepts()[970] == ("migration", "anon")


def test_corpus_do_swap_page_rules_with_own_concepts(corpus: Path):
    rules = load_rule_set("do_swap_page")
    assert rules.concept_ids == ("hwpoison", "migration_wait", "device_private")
    data = (corpus / "v5.10.37" / "mm" / "memory.c").read_bytes()
    a = analyze(data, "v5.10.37", rules, path="mm/memory.c")
    assert concept_map(a) == {
        "hwpoison": (
            "present",
            [(3282, 3284, "is_hwpoison_entry(entry)"), (3351, 3359, "PageHWPoison(page)")],
        ),
        "migration_wait": ("present", [(3276, 3279, "is_migration_entry(entry)")]),
        "device_private": ("present", [(3279, 3282, "is_device_private_entry(entry)")]),
    }
    old = (corpus / "v2.6.35" / "mm" / "memory.c").read_bytes()
    assert analyze(old, "v2.6.35", rules, "mm/memory.c").concept("device_private").state == (
        "expected-absent"
    )


# -- synthetic fixtures: each rule feature ------------------------------------------------------


def test_renamed_predicates_and_concept_moved_to_sibling():
    a = analyze(fixture("rules_folio.c"), "v6.1")
    m = concept_map(a)
    assert m["anon"] == ("present", [(27, 44, "folio_test_anon(folio)")])
    assert m["lazyfree"] == ("present", [(30, 36, "!folio_test_swapbacked(folio)")])
    assert m["swapcache"] == m["anon"]
    assert m["file"] == ("present", [(44, 46, "")])
    assert m["hwpoison"][0] == "present"
    mig = a.concept("migration")
    assert mig.state == "moved"
    assert {h.function for h in mig.hits} == {"try_to_migrate_one"}
    assert all(h.moved for h in mig.hits)
    # owner_arm: the else arm that makes the entry, not the pte_write() if/else inside it
    # that only picks the kind of entry
    assert [(h.start_line, h.end_line, h.condition_normalized) for h in mig.hits] == [(65, 71, "")]
    assert "v5.14" in mig.note or "try_to_migrate_one" in mig.note
    dev = a.concept("device_migration")
    assert dev.state == "moved"
    assert dev.hits[0].condition_normalized.startswith("folio_is_zone_device(folio)")
    # moved hits are not lines of the target function
    assert all(
        "migration" not in ids and "device_migration" not in ids
        for ids in a.line_concepts().values()
    )
    # young is gone since v5.11-rc1 (013339df116c), the rules' history says
    assert a.concept("young").state == "expected-absent"
    assert "013339df116c" in a.concept("young").expected.cite("v6.1")
    # before the change (and the 5.10.y backport) it is expected: plain "absent", for check
    assert analyze(fixture("rules_folio.c"), "v5.10.3").concept("young").state == "absent"


def test_moved_only_applies_since_its_tag():
    a = analyze(fixture("rules_folio.c"), "v5.10.37")
    assert a.concept("migration").state == "absent"
    assert a.concept("migration").hits == ()


def test_expected_absent_and_unexpected():
    old = analyze(fixture("rules_old.c"), "v2.6.7")
    m = concept_map(old)
    both = "(vma->vm_flags & VM_LOCKED) || ptep_test_and_clear_young(pte)"
    assert m["mlock"] == m["young"] == ("present", [(13, 16, both)])
    assert m["gup"][0] == "present"
    assert m["migration"] == m["file"] == m["hwpoison"] == ("expected-absent", [])
    assert m["swapcache"] == m["anon"] == ("present", [(25, 29, "PageAnon(page)")])
    assert "file pages skip" in old.concept("file").note
    # The same code claimed to be v5.1: gup is declared absent from v2.6.35 on.
    later = analyze(fixture("rules_old.c"), "v5.1")
    assert later.concept("gup").state == "unexpected"
    assert later.concept("file").state == "absent"


def test_error_node_inside_function_does_not_stop_matching():
    a = analyze(fixture("rules_error.c"), "v5.1")
    assert a.errors
    assert concept_map(a)["anon"] == ("present", [(17, 21, "PageAnon(page)")])
    assert concept_map(a)["file"] == ("present", [(21, 23, "")])
    assert concept_map(a)["mlock"][0] == "present"


def custom(toml: str):
    return parse_rule_set(tomllib.loads(toml), source="test.toml", default_target="t")


def test_preproc_kind_exits_and_body_query_predicates():
    rules = custom(
        """
        [meta]
        function = "classify_entry"
        path = "x.c"
        [extra.cfg]
        title = "config arm"
        [extra.skip]
        title = "skip"
        [extra.drop]
        title = "drop"
        [concept.cfg]
        [[concept.cfg.match]]
        kinds = ["preproc"]
        condition_mentions = ["CONFIG_MIGRATION"]
        [concept.skip]
        [[concept.skip.match]]
        exits_with = ["continue"]
        [concept.drop]
        [[concept.drop.match]]
        body_query = '(call_expression function: (identifier) @f (#eq? @f "pte_clear"))'
        """
    )
    a = analyze(fixture("rules_ifdef.c"), "v5.1", rules, path="x.c")
    assert concept_map(a) == {
        "cfg": ("present", [(7, 11, "#ifdef CONFIG_MIGRATION")]),
        "skip": ("present", [(30, 31, "i == mode")]),
        "drop": ("present", [(22, 23, "MODE_DROP")]),
    }


@pytest.mark.parametrize(
    ("tag", "spec", "inside"),
    [
        ("v5.1", "*", True),
        ("v5.1", "v5.1", True),
        ("v5.1", "v5.10.37", False),
        ("v2.6.7", "<v2.6.16", True),
        ("v2.6.16", "<v2.6.16", False),
        ("v5.10.37", ">=v5.1", True),
        ("v5.1-rc1", ">=v5.1", False),
        ("v5.9", "v2.6.35..v5.10.37", True),
        ("v5.10.37", "v2.6.35..v5.10.37", True),
        ("v5.11", "v2.6.35..v5.10.37", False),
        ("v2.6.9", "<=v2.6.10", True),
        ("v6.1", ">v5.14", True),
    ],
)
def test_tag_ranges(tag: str, spec: str, inside: bool):
    assert parse_tag_range(spec).matches(tag) is inside


META = '[meta]\nfunction = "f"\npath = "x.c"\n'


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        (
            META + "[concept.anon]\n[[concept.anon.match]]\ncondition_callz = ['x']\n",
            "condition_callz",
        ),
        (META + "[concept.anno]\n[[concept.anno.match]]\n", "unknown concept 'anno'"),
        (META + "[concept.anon]\n", "at least one"),
        (META + "[concept.anon]\nexpected_absent = ['2.6']\n[[concept.anon.match]]\n", "'2.6'"),
        (META + "[concept.anon]\n[[concept.anon.match]]\ncondition_query = '(oops'\n", "query"),
        (META + "[concept.anon]\n[[concept.anon.match]]\nexits_with = ['leave']\n", "leave"),
        (META + "[concept.anon]\n[[concept.anon.match]]\ninside = 'file'\n", "'file'"),
        (
            META
            + "[concept.anon]\n[[concept.anon.match]]\ninside = 'file'\n"
            + "[concept.file]\n[[concept.file.match]]\nelse_of = 'anon'\n",
            "cycle",
        ),
        ('[meta]\nfunction = "f"\n[concept.anon]\n[[concept.anon.match]]\n', "path"),
        (META + "[extra.anon]\ntitle = 'x'\n", "redefines"),
    ],
)
def test_bad_rule_files_are_one_line_errors(toml: str, words: str):
    with pytest.raises(KvdiffError) as exc:
        custom(toml)
    assert words in exc.value.message
    assert "\n" not in exc.value.message


def test_missing_rule_set_and_missing_function():
    with pytest.raises(KvdiffError, match="no rule set for nope"):
        load_rule_set("nope")
    with pytest.raises(FunctionMissing, match="try_to_unmap_one not found"):
        analyze(fixture("rules_ifdef.c"), "v5.1")


def test_rule_files_hold_no_line_numbers():
    # Rules must describe structure, never positions. Checked on the raw TOML, [meta] included
    # (whose extra keys the loader ignores): no "line" key and no number anywhere.
    def walk(value, where: str):
        if isinstance(value, dict):
            for k, v in value.items():
                assert "line" not in k.lower(), f"{where}.{k}"
                walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")
        else:
            assert isinstance(value, bool) or not isinstance(value, int | float), where

    names = available_rule_sets()
    assert {"try_to_unmap_one", "do_swap_page"} <= set(names)
    for name in names:
        walk(tomllib.loads((rules_dir() / f"{name}.toml").read_text()), name)


def test_negative_and_effect_predicates():
    # Each predicate the shipped rule sets use only on the corpus (or not at all), on our own C:
    # not_condition_mentions, not_body_calls, body_makes_entry and body_writes_pte.
    rules = custom(
        """
        [meta]
        function = "classify_entry"
        path = "x.c"
        [extra.mode_test]
        title = "tests mode, not the loop counter"
        [extra.entry]
        title = "builds an entry"
        [extra.writer]
        title = "writes a PTE"
        [extra.keeps]
        title = "switch arm that leaves the PTE alone"
        [concept.mode_test]
        [[concept.mode_test.match]]
        condition_mentions = ["mode"]
        not_condition_mentions = ["i"]
        [concept.entry]
        [[concept.entry.match]]
        body_makes_entry = true
        [concept.writer]
        [[concept.writer.match]]
        kinds = ["if", "case", "default"]
        body_writes_pte = true
        [concept.keeps]
        [[concept.keeps.match]]
        kinds = ["case", "default"]
        not_body_calls = ["pte_clear"]
        """
    )
    a = analyze(fixture("rules_ifdef.c"), "v5.1", rules, path="x.c")
    assert concept_map(a) == {
        "mode_test": ("present", [(8, 11, "mode == MODE_MIGRATE")]),
        "entry": ("present", [(8, 11, "mode == MODE_MIGRATE")]),
        "writer": ("present", [(8, 11, "mode == MODE_MIGRATE"), (22, 23, "MODE_DROP")]),
        "keeps": ("present", [(19, 21, "MODE_SWAP"), (25, 26, "")]),
    }


@pytest.mark.parametrize("tag", ["v5.1", "v5.10.37"])
def test_corpus_pmd_migration_block_is_not_a_concept(corpus: Path, tag: str):
    # The THP PMD migration arm under #ifdef CONFIG_ARCH_ENABLE_THP_MIGRATION writes a PMD entry.
    _, a = corpus_analysis(corpus, tag)
    (pmd,) = [b for b in a.tree.walk() if b.condition_normalized.startswith("!pvmw.pte &&")]
    assert [c.name for c in pmd.effects.pte_writes] == ["set_pmd_migration_entry"]
    labelled = {k[0] for k in a.branch_concepts()}
    assert pmd.start_line not in labelled


def test_a_rule_set_applies_only_to_the_file_it_describes() -> None:
    """try_to_unmap_one's rules describe mm/rmap.c; a same-named function elsewhere gets none.

    (history used to apply them to any --file; report and branches now share this resolver.)"""
    from kvdiff.analyzers.analyze.ruleset import resolve_rule_set, rules_for

    assert rules_for("try_to_unmap_one", None).path == "mm/rmap.c"
    assert rules_for("try_to_unmap_one", "mm/rmap.c").function == "try_to_unmap_one"
    assert rules_for("try_to_unmap_one", "mm/memory.c") is None
    assert rules_for("migrate_pages", "mm/migrate.c") is None
    rules, function, path = resolve_rule_set("try_to_unmap_one", "mm/memory.c", None)
    assert (function, path, rules.concepts) == ("try_to_unmap_one", "mm/memory.c", ())
