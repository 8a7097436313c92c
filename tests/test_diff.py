"""The diff engine and the highlighter, on synthetic text and on real kernel source."""

from __future__ import annotations

import html
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from kvdiff.analyzers.compare.linediff import intraline, side_by_side, tokenize
from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import find_functions
from kvdiff.analyzers.present.highlight import FileLines, Span, highlight_lines, render_line

LINES = st.lists(st.sampled_from(["a;", "b = 1;", "if (x)", "\treturn 0;", "}", "", "c(d);"]))


@given(st.text())
def test_tokenize_round_trips(text: str) -> None:
    assert "".join(tokenize(text)) == text


@given(LINES, LINES)
@settings(max_examples=200)
def test_side_by_side_keeps_every_line_in_order(a: list[str], b: list[str]) -> None:
    sbs = side_by_side(a, 10, b, 500)
    left = [r.left for r in sbs.rows if r.left is not None]
    right = [r.right for r in sbs.rows if r.right is not None]
    assert [c.text for c in left] == a and [c.line for c in left] == list(range(10, 10 + len(a)))
    assert [c.text for c in right] == b and [c.line for c in right] == list(
        range(500, 500 + len(b))
    )
    for row in sbs.rows:
        assert (row.kind == "equal") == (
            row.left is not None and row.right is not None and row.left.text == row.right.text
        ) or row.kind == "change"
        assert row.kind != "insert" or row.left is None
        assert row.kind != "delete" or row.right is None
    assert sbs.identical == (a == b)


def test_changed_tokens_are_the_ones_that_differ() -> None:
    left, right = intraline("\tret = SWAP_FAIL;", "\t\tret = false;")
    assert ["\tret = SWAP_FAIL;"[s:e] for s, e in left] == ["SWAP_FAIL"]
    assert ["\t\tret = false;"[s:e] for s, e in right] == ["false"]


def test_unrelated_lines_get_filler_rows_not_a_pairing() -> None:
    sbs = side_by_side(["int a;", "spin_lock(&l);", "}"], 1, ["int a;", "x = y + z * w;", "}"], 1)
    kinds = [r.kind for r in sbs.rows]
    assert kinds == ["equal", "delete", "insert", "equal"]
    assert (sbs.added, sbs.removed, sbs.changed) == (1, 1, 0)


def test_blocks_group_runs() -> None:
    sbs = side_by_side(["a", "b = 1;", "c", "d"], 1, ["a", "b = 2;", "c", "d"], 1)
    assert [(b.kind, len(b.rows)) for b in sbs.blocks()] == [
        ("equal", 1),
        ("change", 1),
        ("equal", 2),
    ]


def test_highlight_classifies_real_tokens_and_escapes() -> None:
    src = b'/* if <b> */\nstatic int f(int x)\n{\n\treturn g(x) < 3 ? "a&b" : 0;\n}\n'
    lines = highlight_lines(src)
    assert [ln.number for ln in lines] == [1, 2, 3, 4, 5]
    first = str(render_line(lines[0].text, lines[0].spans))
    assert first == '<span class="t-c">/* if &lt;b&gt; */</span>'  # "if" in a comment: no keyword
    body = str(render_line(lines[3].text, lines[3].spans))
    assert '<span class="t-k">return</span>' in body and '<span class="t-f">g</span>' in body
    assert '<span class="t-s">&#34;a&amp;b&#34;</span>' in body and "&lt; " in body
    assert html.unescape(re.sub(r"<[^>]+>", "", body)) == lines[3].text


def test_render_line_marks_changed_ranges_inside_syntax_spans() -> None:
    lines = highlight_lines(b"x = swap_fail + 1;\n")
    out = str(render_line(lines[0].text, lines[0].spans, ((4, 13),)))
    assert '<span class="dm">swap_fail</span>' in out
    assert '<span class="t-n">1</span>' in out
    lines = highlight_lines(b"x = SWAP_FAIL + 1;\n")
    out = str(render_line(lines[0].text, lines[0].spans, ((4, 13),)))
    assert '<span class="t-o dm">SWAP_FAIL</span>' in out


def test_highlight_follows_the_grammars_query_later_patterns_win() -> None:
    src = (
        b"#define PTE_BIT(x) (1UL << (x))\n"
        b"static unsigned long f(struct vm_area_struct *vma, struct page *p)\n"
        b"{\n\tif (vma->vm_flags & VM_LOCKED)\n\t\treturn BUG_ON(p->ops->get(NULL));\n"
        b"out:\n\treturn TTU_IGNORE_MLOCK;\n}\n"
    )
    classes = {}
    for ln in highlight_lines(src):
        for sp in ln.spans:
            classes.setdefault(ln.text[sp.start : sp.end], set()).add(sp.cls)
    # ALL_CAPS names are constants, unless the query says more (a call, a macro's name).
    assert classes["VM_LOCKED"] == {"o"} and classes["TTU_IGNORE_MLOCK"] == {"o"}
    assert classes["NULL"] == {"o"}
    assert classes["BUG_ON"] == {"f"} and classes["PTE_BIT"] == {"p"}
    assert classes["get"] == {"f"} and classes["ops"] == {"m"} and classes["vm_flags"] == {"m"}
    assert classes["#define"] == {"p"} and classes["if"] == {"k"} and classes["out"] == {"l"}
    assert classes["unsigned long"] == {"t"} and classes["vm_area_struct"] == {"t"}
    assert "vma" not in classes and "&" not in classes  # variables and operators stay plain


def test_highlight_marks_the_kernels_constants(corpus: Path) -> None:
    data = (corpus / "v5.10.37" / "mm" / "rmap.c").read_bytes()
    fn = find_functions(parse_c(data), "try_to_unmap_one")[0]
    constants = {
        ln.text[sp.start : sp.end]
        for ln in highlight_lines(data, fn.start_byte, fn.end_byte)
        for sp in ln.spans
        if sp.cls == "o"
    }
    assert {"VM_LOCKED", "TTU_IGNORE_MLOCK"} <= constants
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", c) for c in constants)


def test_highlight_of_a_real_function_keeps_real_line_numbers(corpus: Path) -> None:
    data = (corpus / "v5.1" / "mm" / "rmap.c").read_bytes()
    fn = find_functions(parse_c(data), "try_to_unmap_one")[0]
    lines = highlight_lines(data, fn.start_byte, fn.end_byte)
    assert (lines[0].number, lines[-1].number) == (fn.start_line, fn.end_line)
    real = data.decode("utf-8", "replace").split("\n")
    for ln in lines:
        assert ln.text == real[ln.number - 1]
        plain = html.unescape(re.sub(r"<[^>]+>", "", str(render_line(ln.text, ln.spans))))
        assert plain == ln.text
    assert any(sp.cls == "c" for ln in lines for sp in ln.spans)


def test_diff_of_real_versions_accounts_for_every_line(corpus: Path) -> None:
    def fn_lines(tag: str) -> tuple[list[str], int]:
        data = (corpus / tag / "mm" / "rmap.c").read_bytes()
        fn = find_functions(parse_c(data), "try_to_unmap_one")[0]
        return data.decode("utf-8", "replace").split("\n")[fn.start_line - 1 : fn.end_line], (
            fn.start_line
        )

    (a, sa), (b, sb) = fn_lines("v5.1"), fn_lines("v5.10.37")
    sbs = side_by_side(a, sa, b, sb)
    assert sum(r.left is not None for r in sbs.rows) == len(a)
    assert sum(r.right is not None for r in sbs.rows) == len(b)
    # v5.10.37 dropped the young check: the ptep_clear_flush_young line is only on the left.
    young = [r for r in sbs.rows if r.left and "ptep_clear_flush_young" in r.left.text]
    assert young and all(r.right is None or "young" not in r.right.text for r in young)


def _wild_files() -> list[Path]:
    wild = Path(__file__).resolve().parents[2] / "shared" / "kernel-wild"
    return sorted(wild.glob("*/mm/rmap.c"))


def test_lines_highlighted_on_demand_equal_the_whole_file(corpus: Path) -> None:
    """FileLines highlights a chunk at a time, from a given tree: every line comes out as the
    whole-file highlighting gives it (tokens crossing chunk edges included)."""
    files = [corpus / tag / "mm" / "rmap.c" for tag in ("v2.6.7", "v5.10.37")]
    files += _wild_files()[:3]
    files.append(corpus / "v5.1" / "include" / "linux" / "swapops.h")
    for path in files:
        data = path.read_bytes()
        whole = {ln.number: ln for ln in highlight_lines(data)}
        lazy = FileLines(data, parse_c(data).tree)
        assert lazy.count == len(whole), path
        # Out of order, as pages ask: the function first, then traced lines elsewhere.
        order = sorted(whole, key=lambda n: (n * 7919) % len(whole))
        assert all(lazy[n] == whole[n] for n in order), path
        assert lazy.get(0) is None and lazy.get(len(whole) + 1) is None
    for data in (b"", b"int x;", b"int x;\n", b"/* a\n b */\nint y;\n\n"):
        whole = {ln.number: ln for ln in highlight_lines(data)}
        lazy = FileLines(data)
        assert {n: lazy[n] for n in range(1, lazy.count + 1)} == whole


def test_render_line_escapes_like_markupsafe_and_marks_controls() -> None:
    text = "a<b>&'\"\u202e x\ufffd"
    spans = (Span(0, 1, "k"), Span(2, 3, "f"))
    out = str(render_line(text, spans, ((4, 6),)))
    assert out.startswith('<span class="t-k">a</span>&lt;<span class="t-f">b</span>&gt;')
    assert '<span class="dm">&amp;&#39;</span>&#34;' in out
    assert '<span class="bidi"' in out and '<span class="bad-byte"' in out
    assert "\u202e" not in out


def test_pair_similarities_equal_the_plain_ratio_where_it_matters(corpus: Path) -> None:
    """The pre-filtered table agrees with SequenceMatcher.ratio() on every pair that can pair
    (ratio >= PAIR_THRESHOLD) and leaves only pairs below the threshold at 0.0."""
    from kvdiff.analyzers.compare.linediff import PAIR_THRESHOLD, _similarities, _similarity

    def fn_lines(tag: str) -> list[str]:
        data = (corpus / tag / "mm" / "rmap.c").read_bytes()
        fn = find_functions(parse_c(data), "try_to_unmap_one")[0]
        return data.decode("utf-8", "replace").split("\n")[fn.start_line - 1 : fn.end_line]

    a, b = fn_lines("v2.6.35")[:70], fn_lines("v5.1")[:70]
    table = _similarities(a, b)
    paired = 0
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            exact = _similarity(x, y)
            if exact >= PAIR_THRESHOLD:
                assert table[i][j] == exact
                paired += 1
            else:
                assert table[i][j] < PAIR_THRESHOLD
    assert paired > 20


def test_line_diffs_kept_in_a_store_come_back_equal(corpus: Path, tmp_path: Path) -> None:
    from kvdiff.analyzers.analyze.resultcache import ResultCache
    from kvdiff.analyzers.compare.linediff import diffs_cached_in

    def fn_lines(tag: str) -> tuple[list[str], int]:
        data = (corpus / tag / "mm" / "rmap.c").read_bytes()
        fn = find_functions(parse_c(data), "try_to_unmap_one")[0]
        return data.decode("utf-8", "replace").split("\n")[fn.start_line - 1 : fn.end_line], (
            fn.start_line
        )

    (a, sa), (b, sb) = fn_lines("v2.6.35"), fn_lines("v5.10.37")
    plain = side_by_side(a, sa, b, sb)
    store = ResultCache(tmp_path / "diffs")
    with diffs_cached_in(store):
        first = side_by_side(a, sa, b, sb)
        entries = sorted((tmp_path / "diffs").rglob("*.json"))
        again = side_by_side(a, sa, b, sb)
        assert first == plain and again == plain and store.hits == 1
        assert side_by_side(a, sa + 1, b, sb) != plain  # other line numbers, another entry
        for entry in entries:
            entry.write_bytes(b'{"schema": 1, "key": "x", "payload": {"rows": [[1]]}}')
        assert side_by_side(a, sa, b, sb) == plain  # damaged: computed again
    assert len(list((tmp_path / "diffs").rglob("*.json"))) == 2
