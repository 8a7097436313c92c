"""The model against the real source: every branch it claims is in the code at its tag, every
concept the rules find has a model branch, and the caller flags and header numbers it cites are
really at the lines cited. Uses the kernel corpus (skips without it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kvdiff.analyzers.analyze.analysis import Analysis, analyze_source, load_rule_set
from kvdiff.analyzers.model import MODEL_TAGS, model_branches
from kvdiff.analyzers.parse.branches import normalize
from kvdiff.analyzers.source.repo import SourceFile


def _analysis(corpus: Path, tag: str) -> Analysis:
    data = (corpus / tag / "mm/rmap.c").read_bytes()
    src = SourceFile(tag=tag, path="mm/rmap.c", blob_id="", origin="corpus", data=data)
    return analyze_source(src, load_rule_set())


def _line(corpus: Path, tag: str, path: str, line: int) -> str:
    return (corpus / tag / path).read_text(errors="replace").splitlines()[line - 1]


@pytest.mark.parametrize("tag", MODEL_TAGS)
def test_every_model_branch_is_in_the_code(corpus: Path, tag: str) -> None:
    a = _analysis(corpus, tag)
    found = {(b.start_line, b.condition_normalized) for b in a.tree.walk()}
    conditions = {b.condition_normalized for b in a.tree.walk()}
    for mb in model_branches(tag):
        assert mb.file == "mm/rmap.c"
        assert mb.condition in conditions, f"{tag}: {mb.condition!r} is not a branch there"
        assert (mb.line, mb.condition) in found, f"{tag}: {mb} is not at that line"


@pytest.mark.parametrize("tag", MODEL_TAGS)
def test_every_concept_the_rules_find_has_a_model_branch(corpus: Path, tag: str) -> None:
    a = _analysis(corpus, tag)
    ours = {(mb.concept, mb.line, mb.condition) for mb in model_branches(tag)}
    concepts = {mb.concept for mb in model_branches(tag)}
    for status in a.concepts:
        for hit in status.hits:
            if hit.moved:
                continue
            assert (status.concept, hit.start_line, hit.condition_normalized) in ours, (
                f"{tag}: the rules find {status.concept} at {hit.start_line} "
                f"({hit.condition_normalized!r}) but the model has no such branch"
            )
        if status.state == "present":
            assert status.concept in concepts
    # And the model has no concept the rules say is absent there (e.g. young at v5.10.37).
    absent = {s.concept for s in a.concepts if not s.hits}
    assert not (concepts & absent), f"{tag}: model branches for absent concepts {concepts & absent}"


def test_v5_10_37_really_has_no_young_check(corpus: Path) -> None:
    a = _analysis(corpus, "v5.10.37")
    assert a.concept("young").hits == ()
    assert not any("young" in b.condition for b in a.tree.walk())
    assert _analysis(corpus, "v5.1").concept("young").hits


@pytest.mark.parametrize(
    ("tag", "path", "line", "needle"),
    [
        # caller flags (analyzers/model/scenarios.py)
        ("v2.6.35", "mm/migrate.c", 674, "TTU_MIGRATION|TTU_IGNORE_MLOCK|TTU_IGNORE_ACCESS"),
        ("v5.1", "mm/migrate.c", 1115, "TTU_MIGRATION|TTU_IGNORE_MLOCK|TTU_IGNORE_ACCESS"),
        ("v5.10.37", "mm/migrate.c", 1126, "try_to_unmap(page, TTU_MIGRATION|TTU_IGNORE_MLOCK);"),
        ("v2.6.35", "mm/compaction.c", 395, "migrate_pages(&cc->migratepages, compaction_alloc"),
        ("v5.1", "mm/compaction.c", 2181, "migrate_pages(&cc->migratepages, compaction_alloc"),
        ("v5.10.37", "mm/compaction.c", 2322, "migrate_pages(&cc->migratepages, compaction_alloc"),
        # next-fault model (analyzers/model/fault.py)
        ("v2.6.35", "mm/memory.c", 2624, "static int do_swap_page("),
        ("v5.1", "mm/memory.c", 2678, "vm_fault_t do_swap_page("),
        ("v5.10.37", "mm/memory.c", 3260, "vm_fault_t do_swap_page("),
        ("v2.6.35", "mm/memory.c", 2639, "non_swap_entry(entry)"),
        ("v5.1", "mm/memory.c", 2693, "non_swap_entry(entry)"),
        ("v5.10.37", "mm/memory.c", 3275, "non_swap_entry(entry)"),
        ("v2.6.35", "mm/memory.c", 2734, "swap_free(entry);"),
        ("v5.1", "mm/memory.c", 2848, "swap_free(entry);"),
        ("v5.10.37", "mm/memory.c", 3439, "swap_free(entry);"),
        ("v2.6.35", "mm/migrate.c", 165, "void migration_entry_wait("),
        ("v5.1", "mm/migrate.c", 340, "void migration_entry_wait("),
        ("v5.10.37", "mm/migrate.c", 344, "void migration_entry_wait("),
        ("v2.6.35", "mm/migrate.c", 87, "remove_migration_pte("),
        ("v5.1", "mm/migrate.c", 203, "remove_migration_pte("),
        ("v5.10.37", "mm/migrate.c", 205, "remove_migration_pte("),
        # encoding (analyzers/model/encoding.py)
        ("v2.6.35", "include/linux/swap.h", 36, "MAX_SWAPFILES_SHIFT\t5"),
        ("v2.6.35", "arch/x86/include/asm/pgtable_64.h", 136, "_PAGE_BIT_FILE - _PAGE_BIT_PRESENT"),
        (
            "v2.6.35",
            "arch/x86/include/asm/pgtable_64.h",
            149,
            "((type) << (_PAGE_BIT_PRESENT + 1))",
        ),
        (
            "v2.6.35",
            "arch/x86/include/asm/pgtable_types.h",
            31,
            "_PAGE_BIT_FILE\t\t_PAGE_BIT_DIRTY",
        ),
        ("v5.1", "arch/x86/include/asm/pgtable_64.h", 209, "SWP_TYPE_BITS\t\t5"),
        ("v5.1", "arch/x86/include/asm/pgtable_64.h", 230, "~(unsigned long)(offset)"),
        ("v5.10.37", "arch/x86/include/asm/pgtable_64.h", 233, "~(unsigned long)(offset)"),
        ("v5.10.37", "arch/x86/include/asm/pgtable_types.h", 106, "_PAGE_SWP_UFFD_WP\t_PAGE_USER"),
        ("v5.1", "arch/x86/include/asm/pgtable_types.h", 98, "_PAGE_SWP_SOFT_DIRTY\t_PAGE_RW"),
        ("v5.10.37", "include/linux/swap.h", 66, "SWP_DEVICE_NUM 2"),
        ("v5.10.37", "include/linux/swap.h", 79, "SWP_MIGRATION_WRITE"),
    ],
)
def test_cited_lines_say_what_the_model_assumes(
    corpus: Path, tag: str, path: str, line: int, needle: str
) -> None:
    assert needle in _line(corpus, tag, path, line)


def test_model_conditions_are_verbatim_modulo_whitespace(corpus: Path) -> None:
    # Each multi-line condition in the model is the file's text with whitespace collapsed.
    for tag in MODEL_TAGS:
        text = normalize((corpus / tag / "mm/rmap.c").read_text(errors="replace"))
        for mb in model_branches(tag):
            if mb.condition:
                assert re.search(re.escape(mb.condition), text), (tag, mb.condition)


def _defines(path: Path) -> dict[str, str]:
    """The FIRST #define of each object-like macro in a header (the CONFIG_...=y side of an
    #ifdef comes first in these headers), continuation lines joined."""
    text = path.read_text(errors="replace").replace("\\\n", " ")
    out: dict[str, str] = {}
    for m in re.finditer(r"^#define\s+(\w+)[ \t]+([^\n]*)$", text, re.M):
        out.setdefault(m.group(1), re.sub(r"/\*.*?\*/", "", m.group(2)).strip())
    return out


def _value(defs: dict[str, str], name: str) -> int:
    """Integer value of a macro built from literals, other macros, + - << and parentheses.

    Walks a Python AST of the expression and allows only those nodes: nothing is executed."""
    import ast

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            return _value(defs, node.id)
        if isinstance(node, ast.BinOp):
            ops = {ast.Add: int.__add__, ast.Sub: int.__sub__, ast.LShift: int.__lshift__}
            return ops[type(node.op)](ev(node.left), ev(node.right))
        raise AssertionError(f"{name}: unsupported {ast.dump(node)}")

    expr = re.sub(r"\(_AT\(pteval_t,\s*(\w+)\)", r"((\1)", defs[name])
    return ev(ast.parse(expr, mode="eval").body)


@pytest.mark.parametrize("tag", MODEL_TAGS[1:])
def test_encoding_constants_are_the_headers(corpus: Path, tag: str) -> None:
    from kvdiff.analyzers.model import encoding as enc

    types_h = _defines(corpus / tag / "arch/x86/include/asm/pgtable_types.h")
    bits = {
        "_PAGE_BIT_PRESENT": enc.P,
        "_PAGE_BIT_RW": enc.RW,
        "_PAGE_BIT_USER": enc.USER,
        "_PAGE_BIT_ACCESSED": enc.ACCESSED,
        "_PAGE_BIT_DIRTY": enc.DIRTY,
        "_PAGE_BIT_PROTNONE": enc.GLOBAL_PROTNONE,
        "_PAGE_BIT_NX": enc.NX,
    }
    if tag == "v2.6.35":
        bits["_PAGE_BIT_FILE"] = enc.FILE
    else:
        bits["_PAGE_BIT_SOFT_DIRTY"] = enc.SOFT_DIRTY
        assert types_h["_PAGE_SWP_SOFT_DIRTY"] == "_PAGE_RW" and enc.SWP_SOFT_DIRTY == enc.RW
    if tag == "v5.10.37":
        bits["_PAGE_BIT_UFFD_WP"] = enc.UFFD_WP
        assert types_h["_PAGE_SWP_UFFD_WP"] == "_PAGE_USER" and enc.SWP_UFFD_WP == enc.USER
    for name, mask in bits.items():
        assert 1 << _value(types_h, name) == mask, name

    # The swap entry layout: type/offset positions from pgtable_64.h, the type shift of the
    # arch-independent swp_entry_t from swapops.h (BITS_PER_XA_VALUE = 63 at 5.x).
    pg64 = _defines(corpus / tag / "arch/x86/include/asm/pgtable_64.h")
    merged = {**types_h, **pg64}
    if tag == "v2.6.35":
        # `#if _PAGE_BIT_FILE < _PAGE_BIT_PROTNONE` (pgtable_64.h:135) is true: first branch.
        assert _value(types_h, "_PAGE_BIT_FILE") < _value(types_h, "_PAGE_BIT_PROTNONE")
        assert (_value(merged, "SWP_TYPE_BITS"), _value(merged, "SWP_OFFSET_SHIFT")) == (5, 9)
        assert enc.swp_entry_to_pte(tag, 1, 1) == (1 << 1) | (1 << 9)
    else:
        assert _value(merged, "SWP_OFFSET_FIRST_BIT") == 9
        assert (_value(merged, "SWP_TYPE_BITS"), _value(merged, "SWP_OFFSET_SHIFT")) == (5, 14)
        assert enc.swp_entry_to_pte(tag, 1, 0) >> 59 == 1  # type in the top 5 bits
        assert enc.swp_entry_to_pte(tag, 0, 0) == ((1 << 50) - 1) << 9  # ~0 in bits 9-58

    # MAX_SWAPFILES and the special types, all CONFIG options on (the #ifdef side).
    swap_h = _defines(corpus / tag / "include/linux/swap.h")
    t = enc.swap_types(tag)
    got = (t.max_swapfiles, t.hwpoison, t.migration_read, t.migration_write)
    want = tuple(
        _value(swap_h, n)
        for n in ("MAX_SWAPFILES", "SWP_HWPOISON", "SWP_MIGRATION_READ", "SWP_MIGRATION_WRITE")
    )
    assert got == want
    if tag != "v2.6.35":
        assert (t.device_write, t.device_read) == (
            _value(swap_h, "SWP_DEVICE_WRITE"),
            _value(swap_h, "SWP_DEVICE_READ"),
        )
