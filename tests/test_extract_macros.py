"""Definitions made or hidden by macros (fixtures/c/extract_macros.c, our own synthetic C, and
the real files): SYSCALL_DEFINEn under the syscall's name, loop macros with a block inside a
body never taken for functions, an unknown attribute macro in a header, and an #if that
splits a statement so that tree-sitter gives up on the rest of the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, TAGS
from kvdiff.analyzers.parse.branches import build_tree
from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import all_functions, find_functions, function_names

MACROS = FIXTURES / "c" / "extract_macros.c"


@pytest.fixture(scope="module")
def data() -> bytes:
    return MACROS.read_bytes()


def span_of(data: bytes, first: str) -> tuple[int, int]:
    """Independent of tree-sitter: the line that starts with ``first`` to the next line
    that is exactly "}" (every fixture function closes in column 0)."""
    lines = data.decode().split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    return start + 1, next(i for i in range(start, len(lines)) if lines[i] == "}") + 1


def test_syscall_definitions_are_found_under_the_syscall_name(data: bytes) -> None:
    parsed = parse_c(data)
    native, compat = find_functions(parsed, "fx_call")
    assert (native.start_line, native.end_line) == span_of(data, "SYSCALL_DEFINE2(fx_call,")
    assert (compat.start_line, compat.end_line) == span_of(data, "COMPAT_SYSCALL_DEFINE2(")
    assert native.signature == "SYSCALL_DEFINE2(fx_call, int, fd,\n\t\tunsigned long, len)"
    assert native.text.endswith("return fx_do_call(fd, len);\n}")
    assert (native.aliases, compat.aliases) == (("sys_fx_call",), ("compat_sys_fx_call",))
    assert native.recovered == "SYSCALL_DEFINE2"
    # the kernel's symbol names pick one definition
    assert find_functions(parsed, "compat_sys_fx_call") == [compat]
    assert find_functions(parsed, "sys_fx_call") == [native]
    (nop,) = find_functions(parsed, "fx_nop")
    assert (nop.start_line, nop.end_line, nop.aliases) == (
        *span_of(data, "SYSCALL_DEFINE0(fx_nop)"),
        ("sys_fx_nop",),
    )
    assert "SYSCALL_DEFINE2" not in function_names(parsed)


def test_a_syscall_body_has_its_branch_tree(data: bytes) -> None:
    parsed = parse_c(data)
    native = find_functions(parsed, "fx_call")[0]
    tree = build_tree(parsed, native)
    assert [c.name for c in tree.root.effects.calls] == ["fx_do_call"]
    assert tree.errors == ()


def test_a_loop_macro_with_a_block_is_never_a_function(data: bytes) -> None:
    parsed = parse_c(data)
    names = function_names(parsed)
    assert "slot" not in names
    (fn,) = find_functions(parsed, "fx_sum_slots")
    assert (fn.start_line, fn.end_line) == span_of(data, "static int fx_sum_slots(")
    loop = [b for b in build_tree(parsed, fn).walk() if b.kind == "for"]
    assert [(b.condition, [c.label for c in b.children]) for b in loop] == [
        ("fx_for_each_slot(slot)", ["if table[slot] < 0"])
    ]


def test_an_unknown_header_macro_keeps_the_definition(data: bytes) -> None:
    (fn,) = find_functions(parse_c(data), "fx_lookup")
    assert (fn.start_line, fn.end_line) == span_of(data, "struct fx_entry *fxcall fx_lookup(")
    assert fn.signature.startswith("struct fx_entry *fxcall fx_lookup(")


def test_a_split_if_that_breaks_the_file_is_recovered(data: bytes) -> None:
    parsed = parse_c(data)
    (fn,) = find_functions(parsed, "fx_scan_split")
    assert (fn.start_line, fn.end_line) == span_of(data, "static void fx_scan_split(")
    assert fn.recovered == "#if arms"
    tree = build_tree(parsed, fn)
    assert tree.resolved == ("CONFIG_FX_FAST",)
    assert [(b.label, b.config) for b in tree.walk() if b.kind == "if"] == [
        ("if more && t->fast", ("CONFIG_FX_FAST",)),
        ("if more", ("!CONFIG_FX_FAST",)),
    ]
    (after,) = find_functions(parsed, "fx_after_scan")
    assert (after.start_line, after.end_line) == span_of(data, "int fx_after_scan(void)")


def test_definitions_are_in_file_order_and_never_overlap(data: bytes) -> None:
    defs = all_functions(parse_c(data))
    assert [d.name for d in defs] == [
        "fx_do_call",
        "fx_call",
        "fx_call",
        "fx_nop",
        "fx_sum_slots",
        "fx_lookup",
        "fx_scan_split",
        "fx_after_scan",
    ]
    for a, b in zip(defs, defs[1:], strict=False):
        assert a.end_byte <= b.start_byte


def _real_c(corpus: Path, wild: Path) -> list[Path]:
    return sorted(corpus.rglob("*.c")) + sorted(wild.rglob("*.c"))


def test_real_files_definitions_never_nest(corpus: Path, wild: Path) -> None:
    """Loop macros with a block (for_each_online_node(nid) {, for_each_lru(lru) {, …) sit
    inside many real function bodies: none is a definition, so definitions never overlap."""
    for path in _real_c(corpus, wild):
        defs = all_functions(parse_c(path.read_bytes()))
        for a, b in zip(defs, defs[1:], strict=False):
            assert a.end_byte <= b.start_byte, (path, a.name, b.name)


def test_corpus_move_pages_syscalls(corpus: Path) -> None:
    for tag in TAGS[1:]:
        data = (corpus / tag / "mm" / "migrate.c").read_bytes()
        defs = find_functions(parse_c(data), "move_pages")
        expected = [span_of(data, "SYSCALL_DEFINE6(move_pages,")]
        if b"\nCOMPAT_SYSCALL_DEFINE6(move_pages," in data:
            expected.append(span_of(data, "COMPAT_SYSCALL_DEFINE6(move_pages,"))
        assert [(d.start_line, d.end_line) for d in defs] == expected, tag
        assert defs[0].aliases == ("sys_move_pages",)
