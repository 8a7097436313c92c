"""The model's words in Korean beyond the corpus: every assumption the helper table can state, and
every sentence shape the derived model builds, is translated (the browser test checks the
sentences the corpus tags happen to produce)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from kvdiff.analyzers.model.interp import calls
from kvdiff.analyzers.model.interp.machine import Machine
from kvdiff.analyzers.model.interp.table import load_table
from kvdiff.analyzers.model.interp.values import Entry, Undetermined
from kvdiff.analyzers.present.model_text import compile_pattern, model_text

KO = model_text("ko")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# English prose words: lower-case, four letters or more, not part of an identifier or path.
PROSE = re.compile(r"(?<![\w./-])[a-z]{4,}(?![\w(./-])")


def _machine() -> Machine:
    return Machine(
        table=load_table(), facts=None, config={}, path="mm/rmap.c", objects={}, address=0, pte=0
    )


def _assumptions() -> list[str]:
    """What a run records for every [config] assumption and every const helper with one."""
    m = _machine()
    table = load_table()
    for name in table.config:
        m.config(name, 1)
    ev = SimpleNamespace(m=m)
    for helper in table.helpers.values():
        if helper.kind == "const" and helper.get("assume"):
            calls._KINDS["const"](ev, helper, None, [], 1)
        if helper.kind == "entry_offset_bits":
            with pytest.raises(Undetermined):  # no tag facts here: the mask has no value
                calls._KINDS[helper.kind](ev, helper, None, [Entry(0, 0)], 1)
    return m.assumptions


def _english_left(english: str, korean: str) -> set[str]:
    names = set(re.findall(r"[A-Za-z_][\w.]*\(?\)?", english.split(": ")[1]))
    return {w for w in PROSE.findall(korean) if w not in names} & set(PROSE.findall(english))


def test_every_assumption_of_the_helper_table_is_korean() -> None:
    texts = _assumptions()
    assert len(texts) >= len(load_table().config) + 4  # the check covers the whole table
    for english in texts:
        korean = KO.message(english)
        assert korean != english and HANGUL.search(korean), english
        assert not _english_left(english, korean), (english, korean)


@pytest.mark.parametrize(
    ("english", "code"),
    [
        ("unmodelled: flush_tlb_page() (mm/rmap.c:812)", "flush_tlb_page()"),
        ("ptep_get_and_clear: the PTE is cleared (mm/rmap.c:12)", "ptep_get_and_clear"),
        ("ptep_clear_young_notify: bit 0x20 cleared (mm/rmap.c:7-9)", "ptep_clear_young_notify"),
        ("SetPageDirty(page): dirty set (mm/rmap.c:3)", "SetPageDirty(page)"),
        (
            "arch_unmap_one(mm, vma, address) fails (mm/rmap.c:1400)",
            "arch_unmap_one(mm, vma, address)",
        ),
        ("WARN_ON_ONCE(1): warning (mm/rmap.c:22)", "WARN_ON_ONCE(1)"),
        (
            "page_vma_mapped_walk() finds no PTE mapping this page (mm/rmap.c:1380)",
            "page_vma_mapped_walk()",
        ),
    ],
)
def test_the_derived_models_sentence_shapes_are_korean(english: str, code: str) -> None:
    korean = KO.message(english)
    where = re.search(r"mm/rmap\.c:[\d-]+", english).group(0)
    assert HANGUL.search(korean) and code in korean and where in korean, (english, korean)
    prose = set(PROSE.findall(english.replace(code, "")))
    assert prose and not prose & set(PROSE.findall(korean.replace(code, ""))), (english, korean)


def test_english_is_unchanged_and_unknown_sentences_pass_through() -> None:
    en = model_text("en")
    text = "assumed: list_empty: the mm is not on init_mm.mmlist yet (its first swap entry)"
    assert en.message(text) == text
    assert KO.message("a sentence no table knows") == "a sentence no table knows"


def test_a_pattern_with_an_unknown_slot_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown slot"):
        compile_pattern("{helper}: cleared")
    assert compile_pattern("{name}: bit {num} cleared ({where})").fullmatch(
        "x_y: bit 0x20 cleared (mm/rmap.c:5-6)"
    )


def test_every_sentence_a_run_on_our_own_c_records_is_korean() -> None:
    """Every effect, unmodelled call, assumption and undetermined reason the derived model records
    on fixtures/c/model_constructs.c (including the runs its helper table cannot follow)."""
    from test_model_interp import FIXTURE, run

    names = re.findall(r"^static \w+ (model_\w+)\(", FIXTURE.read_text(), re.M)
    sentences: set[str] = set()
    for name in names:
        for flags in ((), ("TTU_MIGRATION",), ("TTU_MUNLOCK",)):
            m, _, why = run(name, flags=flags)
            sentences.update([*m.effects, *m.unmodelled, *m.assumptions, why])
    reasons = [s for s in sentences if "helper table does not know" in s or "may change" in s]
    assert len(names) >= 9 and len(reasons) >= 2
    for english in sorted(s for s in sentences if s):
        prose = _prose(english)
        if not prose:
            continue  # code only, e.g. "ret: 10 -> 11 (fixtures/model.c:12)"
        korean = KO.message(english)
        assert HANGUL.search(korean), english
        assert not prose & _prose(korean), (english, korean)


def _prose(text: str) -> set[str]:
    """English words of a model sentence that are not code (identifiers, calls, paths)."""
    while True:  # calls with their arguments, innermost first
        shorter = re.sub(r"[A-Za-z_]\w*\([^()]*\)", " CALL ", text)
        if shorter == text:
            break
        text = shorter
    return set(PROSE.findall(re.sub(r"\w*_\w*|[\w.-]+/[\w./:-]+", " ", text)))
