"""Every interpreter construct on our own C (fixtures/c/model_constructs.c), no kernel needed.

Header facts are the hand encoding of v5.1 (swap types, _PAGE_* masks) with two TTU flags; the
helpers are the packaged table. Each test states what the C says and checks the run agrees.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from kvdiff.analyzers.model.encoding import ModelConfig, decode, make_present
from kvdiff.analyzers.model.interp.facts import Layout, TagFacts, _page_masks, _swap_type_constants
from kvdiff.analyzers.model.interp.run import run_function
from kvdiff.analyzers.model.interp.table import load_table
from kvdiff.analyzers.model.state import Mm, Page, UnmapInput, Vma
from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import find_functions

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "c" / "model_constructs.c"
PAGE = Page(pfn=0x12345, anon=False, swapcache=False, swap_type=1, swap_offset=0x77)


def _line_of(text: str) -> int:
    lines = FIXTURE.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def _facts(config: ModelConfig) -> TagFacts:
    constants = {"TTU_MIGRATION": 1, "TTU_MUNLOCK": 2}
    constants.update(_swap_type_constants("v5.1", config))
    constants.update(_page_masks("v5.1", config))
    return TagFacts(constants, {}, Layout("v5.1", config))


def run(name: str, page: Page = PAGE, flags=(), config: ModelConfig | None = None, pte=None):
    config = config or ModelConfig()
    parsed = parse_c(FIXTURE.read_bytes())
    (fn,) = find_functions(parsed, name)
    if pte is None:
        pte = make_present("v5.1", page.pfn, write=True, dirty=True)
    inp = UnmapInput(page, Vma(), Mm(), pte, frozenset(flags))
    return run_function(fn, inp, _facts(config), config, load_table(), "fixtures/model.c")


@pytest.mark.parametrize(
    ("anon", "flags", "ret"),
    [
        (True, (), "200"),  # goto inner: into the block, skipping `ret += 1`; 100 <= 105: * 2
        (False, (), "20"),  # ret = 10; the block is not entered; 10 * 2
        (False, ("TTU_MIGRATION",), "111"),  # 10 + 1 + 100 > 105: goto out
    ],
)
def test_goto_forward_and_into_a_nested_label(anon: bool, flags, ret: str) -> None:
    m, got, why = run("model_goto", replace(PAGE, anon=anon), flags)
    assert (got, why) == (ret, "")


def test_goto_steps_record_the_skipped_condition() -> None:
    m, _, _ = run("model_goto", replace(PAGE, anon=True))
    # The `if (flags & TTU_MIGRATION)` condition is jumped over, never evaluated.
    assert [(s.condition, s.taken) for s in m.steps] == [
        ("PageAnon(page)", True),
        ("ret > 105", False),
    ]


@pytest.mark.parametrize(
    ("page", "flags", "ret"),
    [
        (replace(PAGE, hwpoison=True), (), "1"),
        (replace(PAGE, anon=True, swapcache=True), (), "2"),
        (replace(PAGE, anon=True, dirty=True), (), "3"),
        (replace(PAGE, anon=True), (), "4"),
        (PAGE, ("TTU_MIGRATION",), "5"),
        (PAGE, (), "6"),
    ],
)
def test_nested_else_if(page: Page, flags, ret: str) -> None:
    assert run("model_else_if", page, flags)[1:] == (ret, "")


def test_plain_else_is_a_taken_step() -> None:
    m, _, _ = run("model_else_if")
    assert [s.kind for s in m.steps if s.taken] == ["else"]


def test_hwpoison_off_is_the_kernels_constant_false_stub() -> None:
    config = ModelConfig(memory_failure=False)
    assert run("model_else_if", replace(PAGE, hwpoison=True), (), config)[1] == "6"


def test_loops_with_break_and_continue() -> None:
    # for: 0 + 1 + (2 skipped) + 3 + 4, break at 5 -> 8; while: k 2, (1 skipped), 0 -> +200;
    # do-while(0) runs once: +1000.
    m, ret, why = run("model_loops")
    assert (ret, why) == ("1208", "")
    fors = [s for s in m.steps if s.kind == "for"]
    assert len(fors) == 6 and all(s.taken for s in fors)  # i = 0..5, left by break


@pytest.mark.parametrize(("mapcount", "ret"), [(1, "3"), (2, "2"), (3, "30"), (7, "-1")])
def test_switch_fall_through_break_default(mapcount: int, ret: str) -> None:
    assert run("model_switch", replace(PAGE, mapcount=mapcount))[1:] == (ret, "")


@pytest.mark.parametrize(
    ("config", "ret"),
    [
        (ModelConfig(), "5"),  # migration 1, memory_failure && device_private 4
        (ModelConfig(migration=False), "6"),
        (ModelConfig(device_private=False), "9"),  # #elif defined(CONFIG_MEM_SOFT_DIRTY)
        (ModelConfig(device_private=False, mem_soft_dirty=False, uffd_wp=False), "17"),
    ],
)
def test_preprocessor_arms_follow_the_config(config: ModelConfig, ret: str) -> None:
    m, got, why = run("model_ifdef", config=config)
    assert (got, why) == (ret, "")
    assert any(s.kind == "preproc" and s.condition == "#ifdef CONFIG_MIGRATION" for s in m.steps)


def test_locals_initialisers_casts_ternary_and_the_pte() -> None:
    # Without TTU_MIGRATION: shift 1, (2|1) != 9 and !(~0 & 0x20 & 0x10): return false, the PTE
    # stays cleared by ptep_get_and_clear.
    m, ret, why = run("model_locals")
    assert (ret, why, m.pte) == ("false", "", 0)
    # With it: the swap entry from page_private (type 1, offset 0x77) is written for a file page,
    m, ret, _ = run("model_locals", flags=("TTU_MIGRATION",))
    assert ret == "true" and decode("v5.1", m.pte).text == "swap(type 1, offset 0x77)"
    # and an anon page with a writable PTE gets a writable migration entry for its pfn.
    m, ret, _ = run("model_locals", replace(PAGE, anon=True), ("TTU_MIGRATION",))
    assert decode("v5.1", m.pte).text == "migration(W, pfn 0x12345)"


def test_unknown_helper_in_a_condition_is_undetermined() -> None:
    m, ret, why = run("model_unknown_condition")
    assert ret == ""
    line = _line_of("if (page_is_frobnicated(page))")
    assert why == (
        f"the condition at line {line} needs page_is_frobnicated() (line {line}), "
        "which the helper table does not know"
    )
    # ... but only when the run reaches it.
    assert run("model_unknown_condition", flags=("TTU_MUNLOCK",))[1:] == ("0", "")


def test_unknown_statement_call_is_listed() -> None:
    m, ret, why = run("model_unknown_statement")
    assert (ret, why) == ("3", "")
    line = _line_of("frobnicate_page(page, address);")
    assert m.unmodelled == [f"unmodelled: frobnicate_page() (fixtures/model.c:{line})"]


def test_unknown_call_given_the_pte_pointer_is_undetermined() -> None:
    _, ret, why = run("model_unknown_pte_writer")
    assert ret == "" and "frobnicate_pte()" in why and "may change the PTE" in why
