"""Branch trees from the tree-sitter tree: synthetic shapes and the real try_to_unmap_one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, TAGS
from hypothesis import given, settings
from hypothesis import strategies as st
from kvdiff.analyzers.parse.branches import Branch, BranchTree, build_tree
from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import find_functions
from kvdiff.analyzers.present.branches_view import tree_text
from kvdiff.main import cli


def tree_of(data: bytes, name: str) -> BranchTree:
    parsed = parse_c(data)
    return build_tree(parsed, find_functions(parsed, name)[0])


def by_label(tree: BranchTree) -> dict[str, Branch]:
    return {b.label: b for b in tree.walk()}


def fixture_tree(name: str, function: str) -> BranchTree:
    return tree_of((FIXTURES / "c" / name).read_bytes(), function)


def test_preprocessor_arms_are_branches_with_their_directive():
    tree = fixture_tree("rules_ifdef.c", "classify_entry")
    arms = [b for b in tree.walk() if b.kind == "preproc"]
    assert [(b.condition, b.start_line, b.end_line) for b in arms] == [
        ("#ifdef CONFIG_MIGRATION", 7, 11),
        ("#elif defined(CONFIG_COMPACTION)", 12, 13),
        ("#else", 14, 16),
    ]
    inner = arms[0].children[0]
    assert inner.path == ("#ifdef CONFIG_MIGRATION", "if mode == MODE_MIGRATE")
    assert [c.name for c in inner.effects.entries] == ["swp_entry_to_pte", "make_migration_entry"]
    assert [c.name for c in inner.effects.pte_writes] == ["set_pte_at"]
    assert [(e.kind, e.target) for e in inner.effects.exits] == [("return", "1")]
    assert [a.value for a in arms[2].effects.ret_assignments] == ["-ENOSYS"]


def test_switch_arms_loops_and_exits():
    tree = fixture_tree("rules_ifdef.c", "classify_entry")
    labels = by_label(tree)
    switch = labels["switch mode"]
    assert [(a.kind, a.condition, a.arm) for a in switch.children] == [
        ("case", "MODE_SWAP", 0),
        ("case", "MODE_DROP", 1),
        ("default", "", 2),
    ]
    swap, drop, default = switch.children
    assert [a.value for a in swap.effects.ret_assignments] == ["swap_out(vma)"]
    assert [e.kind for e in swap.effects.exits] == ["break"]
    assert [c.name for c in drop.effects.pte_writes] == ["pte_clear"]
    assert drop.effects.exits == ()  # falls through
    loop = labels["for i = 0; i < 4; i++"]
    (cont,) = loop.children
    assert cont.condition == "i == mode"
    assert [e.kind for e in cont.effects.exits] == ["continue"]
    assert [e.kind for e in tree.root.effects.exits] == ["return"]


def test_if_chain_arms_share_a_chain():
    tree = fixture_tree("rules_folio.c", "try_to_unmap_one")
    arms = [b for b in tree.walk() if b.chain == by_label(tree)["else"].chain]
    assert [(b.kind, b.arm) for b in arms] == [
        ("if", 0),
        ("else if", 1),
        ("else if", 2),
        ("else", 3),
    ]
    # A multi-line condition is kept verbatim and also whitespace-collapsed.
    assert arms[1].condition == (
        "likely(pte_present(pteval)) && pte_unused(pteval) &&\n\t\t\t   !userfaultfd_armed(vma)"
    )
    assert arms[1].condition_normalized == (
        "likely(pte_present(pteval)) && pte_unused(pteval) && !userfaultfd_armed(vma)"
    )


def test_error_nodes_are_recorded_and_skipped():
    tree = fixture_tree("rules_error.c", "try_to_unmap_one")
    assert tree.errors and all(e.start_line == 15 for e in tree.errors)
    labels = by_label(tree)
    assert labels["if PageAnon(page)"].start_line == 17
    assert labels["else"].end_line == 23
    assert "parse ERROR at lines 15-15 (skipped)" in tree_text(tree)


@settings(max_examples=60, deadline=None)
@given(
    junk=st.text(alphabet="{}()[];#@=!&|<>\n\t x", min_size=1, max_size=40),
    where=st.integers(min_value=0, max_value=200),
)
def test_never_crashes_on_garbage_inside_a_function(junk: str, where: int):
    src = (FIXTURES / "c" / "rules_error.c").read_bytes()
    body = src.index(b"bool ret = true;")
    at = body + where % (len(src) - body - 10)
    data = src[:at] + junk.encode() + src[at:]
    parsed = parse_c(data)
    for fn in find_functions(parsed, "try_to_unmap_one"):
        tree = build_tree(parsed, fn)
        for b in tree.walk():
            assert fn.start_line <= b.start_line <= b.end_line <= fn.end_line


def test_tree_json_is_deterministic():
    data = (FIXTURES / "c" / "rules_folio.c").read_bytes()
    first = json.dumps(tree_of(data, "try_to_unmap_one").to_json(), sort_keys=True)
    second = json.dumps(tree_of(data, "try_to_unmap_one").to_json(), sort_keys=True)
    assert first == second


# -- the real corpus ---------------------------------------------------------------------------

SPANS = {
    "v2.6.7": (425, 522),
    "v2.6.35": (898, 1016),
    "v5.1": (1338, 1662),
    "v5.10.37": (1373, 1712),
}


def corpus_tree(corpus: Path, tag: str) -> tuple[bytes, BranchTree]:
    data = (corpus / tag / "mm" / "rmap.c").read_bytes()
    return data, tree_of(data, "try_to_unmap_one")


@pytest.mark.parametrize("tag", TAGS)
def test_corpus_conditions_are_verbatim_at_their_lines(corpus: Path, tag: str):
    data, tree = corpus_tree(corpus, tag)
    lines = data.decode("utf-8", errors="replace").split("\n")
    assert (tree.root.start_line, tree.root.end_line) == SPANS[tag]
    assert tree.errors == ()
    checked = 0
    for b in tree.walk():
        if not b.condition or b.kind == "function":
            continue
        # The condition's verbatim text is in the file at the branch's lines.
        text = "\n".join(lines[b.start_line - 1 : b.end_line])
        assert b.condition in text, (tag, b.label, b.start_line)
        checked += 1
    assert checked > 10


def test_corpus_v2_6_35_nesting_and_effects(corpus: Path):
    _, tree = corpus_tree(corpus, "v2.6.35")
    labels = by_label(tree)
    mig = labels["else if PAGE_MIGRATION"]
    assert mig.path == ("else if PageAnon(page)", "else if PAGE_MIGRATION")
    assert (mig.start_line, mig.end_line) == (969, 977)
    assert [c.name for c in mig.effects.entries] == ["make_migration_entry"]
    hw = labels["if PageHWPoison(page) && !(flags & TTU_IGNORE_HWPOISON)"]
    assert [c.name for c in hw.effects.entries] == ["swp_entry_to_pte", "make_hwpoison_entry"]
    assert hw.effects.pte_writes[0].args[-1] == "swp_entry_to_pte(make_hwpoison_entry(page))"
    young = labels["if ptep_clear_flush_young_notify(vma, address, pte)"]
    assert [a.value for a in young.effects.ret_assignments] == ["SWAP_FAIL"]
    assert [(e.kind, e.target) for e in young.effects.exits] == [("goto", "out_unmap")]


def test_corpus_v5_1_loop_and_ifdef(corpus: Path):
    _, tree = corpus_tree(corpus, "v5.1")
    labels = by_label(tree)
    loop = labels["while page_vma_mapped_walk(&pvmw)"]
    assert (loop.start_line, loop.end_line) == (1387, 1657)
    ifdef = labels["#ifdef CONFIG_ARCH_ENABLE_THP_MIGRATION"]
    assert (ifdef.kind, ifdef.start_line, ifdef.end_line) == ("preproc", 1388, 1396)
    assert ifdef.path == ("while page_vma_mapped_walk(&pvmw)", ifdef.label)
    (pmd,) = ifdef.children
    assert [e.kind for e in pmd.effects.exits] == ["continue"]
    early = [
        b for b in tree.root.children if b.effects.exits and b.effects.exits[0].kind == "return"
    ]
    assert [(b.start_line, b.effects.exits[0].target) for b in early] == [
        (1354, "true"),
        (1357, "true"),
    ]


# -- kvdiff branches ------------------------------------------------------------------------------


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_branches_cli_text_and_json(corpus_repo_args: list[str]):
    result = invoke("branches", "v2.6.35", *corpus_repo_args, "--offline")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("try_to_unmap_one() in mm/rmap.c at v2.6.35")
    assert (
        "    969-977    else if PAGE_MIGRATION  [migration]  -> entry: make_migration_entry" in out
    )
    assert "    948-980  else if PageAnon(page)  [anon]" in out
    assert "    985-986  else  [file]" in out
    assert "  gup: expected-absent" in out

    result = invoke("branches", "v5.10.37", "--json", *corpus_repo_args, "--offline")
    data = json.loads(result.stdout)
    assert (data["start_line"], data["end_line"]) == (1373, 1712)
    assert data["concepts"]["young"]["state"] == "expected-absent"
    assert data["tree"]["root"]["children"][1]["effects"]["exits"] == [
        {"kind": "return", "line": 1394, "target": "true"}
    ]
    again = invoke("branches", "v5.10.37", "--json", *corpus_repo_args, "--offline")
    assert again.stdout == result.stdout


def test_branches_cli_other_functions_and_bad_input(corpus_repo_args: list[str]):
    # A function with its own rule set finds its file itself.
    result = invoke("branches", "v5.1", "do_swap_page", *corpus_repo_args, "--offline")
    assert result.exit_code == 0 and "[migration_wait]" in result.stdout
    # Without rules: an unlabelled tree, given the file.
    result = invoke(
        "branches",
        "v5.1",
        "migrate_page_move_mapping",
        "--file",
        "mm/migrate.c",
        *corpus_repo_args,
        "--offline",
    )
    assert result.exit_code == 0 and "[" not in result.stdout.split("\n", 1)[1]
    result = invoke("branches", "v5.1", "no_such_fn", *corpus_repo_args, "--offline")
    assert result.exit_code == 2 and "pass --file" in result.stderr
    result = invoke(
        "branches", "v5.1", "no_such_fn", "--file", "mm/rmap.c", *corpus_repo_args, "--offline"
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("kvdiff: error: function no_such_fn not found")


def test_if_conditions_are_effects_of_the_enclosing_branch():
    # `if (swap_duplicate(entry) < 0)` takes a swap reference before either arm runs: the call
    # belongs to the anon arm around it, once, and not to the arm it guards.
    tree = fixture_tree("rules_folio.c", "try_to_unmap_one")
    labels = by_label(tree)
    anon = labels["else if folio_test_anon(folio)"]
    assert ("swap_duplicate", 37) in [(c.name, c.line) for c in anon.effects.calls]
    guard = labels["if swap_duplicate(entry) < 0"]
    assert "swap_duplicate" not in [c.name for c in guard.effects.calls]
    # Conditions of every arm of a chain, in file order: the hwpoison/unused/anon tests.
    loop = labels["while page_vma_mapped_walk(&pvmw)"]
    assert [c.name for c in loop.effects.calls if c.line in (21, 24, 25, 27)] == [
        "PageHWPoison",
        "likely",
        "pte_present",
        "pte_unused",
        "userfaultfd_armed",
        "folio_test_anon",
    ]
    # A test-and-clear of the young bit in a condition is a PTE write of the enclosing branch.
    old = fixture_tree("rules_old.c", "try_to_unmap_one")
    assert [c.name for c in old.root.effects.pte_writes] == [
        "ptep_test_and_clear_young",
        "ptep_clear_flush",
    ]
    assert sum(c.name == "swap_duplicate" for b in tree.walk() for c in b.effects.calls) == 1
