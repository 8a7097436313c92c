"""``ppconfig.scan_directives`` (one C-speed pass: comments, then each ``#``) equals the
line-by-line reading kept in ``ppscan_reference.py``: on every .c/.h file of the kernel corpus
and the wild trees, whole and in random ranges (a function's range starts mid-file), and on
generated text made of the pieces that decide it (comment openers and closers, backslashes,
CRs, newlines, directive keywords)."""

from __future__ import annotations

import random
from pathlib import Path

import ppscan_reference
from hypothesis import given, settings
from hypothesis import strategies as st
from kvdiff.analyzers.parse import ppconfig


def _sources(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".c", ".h"))


def test_equals_the_line_by_line_reading_on_every_kernel_file(corpus: Path, wild: Path) -> None:
    files = _sources(corpus, wild)
    assert len(files) > 100
    rng = random.Random(15)
    directives = 0
    for path in files:
        data = path.read_bytes()
        whole = ppconfig.scan_directives(data, 0, len(data))
        assert whole == ppscan_reference.scan_directives(data, 0, len(data)), path
        directives += len(whole)
        for _ in range(8):
            start = rng.randrange(len(data) + 1)
            end = rng.randrange(start, len(data) + 1)
            got = ppconfig.scan_directives(data, start, end)
            assert got == ppscan_reference.scan_directives(data, start, end), (path, start, end)
    assert directives > 1000  # the files hold real directives, not an empty comparison


_PIECES = [
    b"#", b"# ", b"if", b"ifdef", b"ifndef", b"elif", b"elifdef", b"else", b"endif", b"X",
    b"defined(A)", b" ", b"\t", b"\\", b"\r", b"\n", b"\\\n", b"\\\r\n", b"/", b"*", b"/*",
    b"*/", b"//", b"\"", b"a", b"\n#if A\n", b"\n#endif\n", b"\xff",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES), max_size=40),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=400),
)
def test_equals_the_line_by_line_reading_on_generated_text(
    pieces: list[bytes], a: int, b: int
) -> None:
    data = b"".join(pieces)
    start, end = sorted((a % (len(data) + 1), b % (len(data) + 1)))
    for lo, hi in ((0, len(data)), (start, end)):
        got = ppconfig.scan_directives(data, lo, hi)
        assert got == ppscan_reference.scan_directives(data, lo, hi), (data, lo, hi)


def test_the_shapes_a_line_reader_decides() -> None:
    """Each rule of the reading, one line apiece: a directive inside a block comment, after a
    continued line comment, split by backslash-newlines, after code on its line, in a range
    that ends inside its keyword."""
    src = (
        b"/* #if A\n#if B */\n"  # in a comment, on both lines
        b"// note \\\n#if C\n"  # the line comment goes on: not a directive
        b"#  \\\n  ifdef D /* x */ \\\n  E\n"  # one directive on three lines
        b"x; #if F\n"  # code before the '#'
        b"\\\n#else\n"  # a lone backslash line: ' #else' is a directive
        b"#endif\n"
    )
    found = ppconfig.scan_directives(src, 0, len(src))
    assert [(d.kind, d.condition, d.line) for d in found] == [
        ("ifdef", "D E", 4),
        ("else", "", 8),
        ("endif", "", 10),
    ]
    assert found == ppscan_reference.scan_directives(src, 0, len(src))
    cut = src.index(b"ifdef D") + 2  # the range ends after "if": read as #if
    assert [d.kind for d in ppconfig.scan_directives(src, 0, cut)] == ["if"]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80), st.integers(0, 80), st.integers(0, 80))
def test_blank_turns_every_byte_but_newlines_into_a_space(data: bytes, a: int, b: int) -> None:
    start, end = a % (len(data) + 1), b % (len(data) + 1)
    out = bytearray(data)
    ppconfig.blank(out, start, end)
    want = bytearray(data)
    for i in range(start, end):  # the byte-by-byte reading blank() replaced
        if want[i] != 0x0A:
            want[i] = 0x20
    assert out == want
