"""Reusing an anchor's summary (analyze/reuse.py) equals summarising in full, on real files.

Every real ``mm/rmap.c`` (the corpus's four and the wild trees') is edited in the ways history
edits a file (a statement in another function, a comment line, a declaration removed, a
function added) and in ways that must never be reused (inside the function, a directive, an
unclosed comment, comment marks in a string, a second definition of the function). A reused
summary must equal a full summary of the same bytes; the edits that could change the answer
must be refused; and the ordinary edits must mostly be reused, or the proof is useless.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from kvdiff.analyzers.analyze.reuse import reuse
from kvdiff.analyzers.analyze.ruleset import load_rule_set
from kvdiff.analyzers.analyze.summaries import Summarizer
from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.linehunks import line_hunks
from kvdiff.analyzers.parse.recover import top_level

FUNCTION = "try_to_unmap_one"
CORPUS_TAGS = ("v2.6.7", "v2.6.35", "v5.1", "v5.10.37")


def _files(corpus: Path, wild: Path) -> list[tuple[str, bytes]]:
    out = [(tag, (corpus / tag / "mm" / "rmap.c").read_bytes()) for tag in CORPUS_TAGS]
    for tree in sorted(p for p in wild.iterdir() if (p / "mm" / "rmap.c").is_file()):
        out.append(("v" + tree.name.rsplit("-", 1)[1], (tree / "mm" / "rmap.c").read_bytes()))
    return out


def _line_of(data: bytes, byte: int) -> int:
    return data.count(b"\n", 0, byte)


def _insert_line(data: bytes, line: int, text: bytes) -> bytes:
    lines = data.split(b"\n")
    return b"\n".join([*lines[:line], text, *lines[line:]])


def _edits(data: bytes, rng: random.Random) -> dict[str, list[bytes]]:
    """Edited copies of ``data`` by kind."""
    parsed = parse_c(data)
    items = top_level(parsed.tree.root_node)
    name_of = {}
    for n in items:
        if n.type == "function_definition":
            decl = n.child_by_field_name("declarator")
            while decl is not None and decl.type != "identifier":
                decl = decl.child_by_field_name("declarator")
            name_of[n.start_byte] = data[decl.start_byte : decl.end_byte] if decl else b""
    target = [n for n in items if name_of.get(n.start_byte) == FUNCTION.encode()]
    others = [
        n
        for n in items
        if n.type == "function_definition"
        and not n.has_error
        and name_of.get(n.start_byte) not in (FUNCTION.encode(), b"")
    ]
    comments = [n for n in items if n.type == "comment" and data.count(b"\n", *n.byte_range) > 2]
    decls = [n for n in items if n.type == "declaration" and not n.has_error]
    pick = lambda pool, k: rng.sample(pool, min(k, len(pool)))  # noqa: E731
    edits: dict[str, list[bytes]] = {k: [] for k in ("ordinary", "refused")}
    for fn in pick(others, 4):
        body = fn.child_by_field_name("body")
        edits["ordinary"].append(
            _insert_line(data, _line_of(data, body.start_byte) + 1, b"\tbarrier();")
        )
        text = data[fn.start_byte : fn.end_byte]
        copy = text.replace(name_of[fn.start_byte], name_of[fn.start_byte] + b"_copy", 1)
        edits["ordinary"].append(data[: fn.end_byte] + b"\n\n" + copy + data[fn.end_byte :])
    for c in pick(comments, 2):
        edits["ordinary"].append(_insert_line(data, _line_of(data, c.start_byte) + 1, b" * a note"))
    for d in pick(decls, 2):
        start = data.rfind(b"\n", 0, d.start_byte) + 1
        edits["ordinary"].append(data[:start] + data[d.end_byte :].lstrip(b" \t"))
    if target:
        fn = target[0]
        inside = _line_of(data, fn.child_by_field_name("body").start_byte) + 1
        edits["refused"].append(_insert_line(data, inside, b"\tbarrier();"))
        text = data[fn.start_byte : fn.end_byte]
        edits["refused"].append(data[: fn.start_byte] + text + b"\n\n" + data[fn.start_byte :])
    if others:
        at = _line_of(data, others[0].start_byte)
        edits["refused"] += [
            _insert_line(data, at, b"#define KVDIFF_TEST 1"),
            _insert_line(data, at, b"/* an unclosed comment"),
            _insert_line(data, at, b'static const char kvdiff_s[] = "/*";'),
            _insert_line(data, at, b"int kvdiff_broken = ;"),
        ]
    return edits


@pytest.fixture(scope="module")
def rules():
    return load_rule_set()


def test_reuse_equals_a_full_summary_on_real_files(corpus: Path, wild: Path, rules) -> None:
    rng = random.Random(15)
    reused = {"ordinary": 0, "refused": 0}
    tried = {"ordinary": 0, "refused": 0}
    for tag, data in _files(corpus, wild):
        summarizer = Summarizer(FUNCTION, rules, "test")
        _, anchor = summarizer.summarize_anchored(tag, "mm/rmap.c", "a", "t", data)
        for kind, blobs in _edits(data, rng).items():
            for blob in blobs:
                tried[kind] += 1
                got = reuse(anchor, blob)
                if got is None:
                    continue
                reused[kind] += 1
                full = Summarizer(FUNCTION, rules, "test").summarize(
                    tag, "mm/rmap.c", "b", "t", blob
                )
                assert got == full, (
                    tag,
                    kind,
                    [h for h in line_hunks(anchor.lines, blob.split(b"\n"))],
                )
    assert reused["refused"] == 0, reused
    assert tried["ordinary"] > 150 and reused["ordinary"] > tried["ordinary"] // 2, (reused, tried)


def test_reuse_shifts_the_lines_of_a_function_moved_down(rules) -> None:
    base = (Path(__file__).parent.parent / "fixtures" / "c" / "rules_old.c").read_bytes()
    summarizer = Summarizer(FUNCTION, rules, "test")
    first, anchor = summarizer.summarize_anchored("v2.6.7", "mm/rmap.c", "a", "t", base)
    moved = b"/* added */\nstatic int other(void)\n{\n\treturn 0;\n}\n\n" + base
    got = reuse(anchor, moved)
    assert got is not None and got.start_line == first.start_line + 6
    assert got == Summarizer(FUNCTION, rules, "test").summarize(
        "v2.6.7", "mm/rmap.c", "b", "t", moved
    )
    assert reuse(anchor, base) == first


def test_line_hunks_are_an_exact_edit_script() -> None:
    rng = random.Random(7)
    a = [b"line %d" % rng.randrange(40) for _ in range(600)]
    for _ in range(200):
        b = list(a)
        for _ in range(rng.randrange(1, 6)):
            at = rng.randrange(len(b) + 1)
            op = rng.randrange(3)
            if op == 0:
                b.insert(at, b"new %d" % rng.randrange(5))
            elif op == 1 and at < len(b):
                del b[at]
            elif at < len(b):
                b[at] = b"changed"
        rebuilt, pos = [], 0
        for h in line_hunks(a, b):
            assert h.a0 >= pos and a[pos : h.a0] == b[len(rebuilt) : len(rebuilt) + h.a0 - pos]
            rebuilt += a[pos : h.a0] + b[h.b0 : h.b1]
            pos = h.a1
        assert rebuilt + a[pos:] == b


def _nodes(node, out: list) -> list:
    out.append((node.type, node.byte_range, tuple(node.start_point), tuple(node.end_point)))
    out.append((node.is_error, node.is_missing))
    for child in node.children:
        _nodes(child, out)
    return out


def test_an_incremental_parse_is_the_fresh_parse(corpus: Path, wild: Path) -> None:
    """cparse.reparse from an anchor's tree, with the anchor's exact edits, gives the tree a
    fresh parse gives: every node's kind, bytes and points, on every edit above."""
    from kvdiff.analyzers.analyze.reuse import Anchor, exact_edits
    from kvdiff.analyzers.analyze.summaries import BlobSummary
    from kvdiff.analyzers.parse.cparse import reparse

    rng = random.Random(3)
    checked = 0
    for _tag, data in _files(corpus, wild)[::3]:
        parsed = parse_c(data)
        anchor = Anchor(parsed, BlobSummary(found=False), frozenset(), ())
        for blobs in _edits(data, rng).values():
            for blob in blobs:
                edits = exact_edits(anchor, blob)
                assert edits is not None
                spans = [(e.old_start, e.old_end, e.new_length) for e in edits]
                fresh = _nodes(parse_c(blob).tree.root_node, [])
                assert _nodes(reparse(blob, parsed, spans).tree.root_node, []) == fresh
                checked += 1
    assert checked > 100


def test_edits_next_to_the_function_reuse_only_what_a_full_summary_gives(
    corpus: Path, wild: Path, rules
) -> None:
    """A function added just above or below, a comment or a declaration next to it, text on its
    first or last line: a reused summary still equals the full one, lines and all."""
    from kvdiff.analyzers.parse.extract import find_functions

    reused = tried = 0
    for tag, data in _files(corpus, wild):
        summarizer = Summarizer(FUNCTION, rules, "test")
        first, anchor = summarizer.summarize_anchored(tag, "mm/rmap.c", "a", "t", data)
        if not first.found:
            continue
        fn = find_functions(parse_c(data), FUNCTION)[0]
        start = data.rfind(b"\n", 0, fn.start_byte) + 1
        end = data.find(b"\n", fn.end_byte) + 1
        edits = [
            data[:start] + b"static int kvdiff_before(void)\n{\n\treturn 1;\n}\n\n" + data[start:],
            data[:start] + b"/* a comment just above */\n" + data[start:],
            data[:end] + b"\nstatic int kvdiff_after;\n" + data[end:],
            data[:start] + b"\n\n" + data[start:],
            data[:start] + b"int kvdiff_x = 1; " + data[start:],  # on the header's line
            data[: end - 1] + b" /* trailing */" + data[end - 1 :],  # on the last line
        ]
        for blob in edits:
            tried += 1
            got = reuse(anchor, blob)
            if got is not None:
                reused += 1
                full = Summarizer(FUNCTION, rules, "test").summarize(
                    tag, "mm/rmap.c", "b", "t", blob
                )
                assert got == full, tag
    assert tried > 100 and tried // 3 < reused < tried  # the lines' own edits are refused


def test_a_file_inside_an_include_guard(rules) -> None:
    """The guard's #ifndef node spans the very bytes of the file: the two containers are told
    apart, and an edit to another function inside the guard is proven like any other."""
    body = b"\tint x = 0;\n\tif (x)\n\t\treturn 1;\n\treturn 0;\n"
    other = b"static int other(void)\n{\n" + body + b"}\n"
    target = b"static int try_to_unmap_one(void)\n{\n" + body + b"}\n"
    # no newline after #endif: then the guard's node ends where the file does
    data = b"#ifndef GUARD_H\n#define GUARD_H\n" + other + b"\n" + target + b"#endif"
    root = parse_c(data).tree.root_node
    assert root.children[0].byte_range == root.byte_range  # the case this test is about
    summarizer = Summarizer(FUNCTION, rules, "test")
    first, anchor = summarizer.summarize_anchored("v5.1", "mm/rmap.c", "a", "t", data)
    edited = data.replace(b"\tint x = 0;\n", b"\tint x = 1;\n", 1)
    got = reuse(anchor, edited)
    full = Summarizer(FUNCTION, rules, "test").summarize("v5.1", "mm/rmap.c", "b", "t", edited)
    assert got == full and got.start_line == first.start_line
    moved = data.replace(b"static int other", b"static int added;\n\nstatic int other", 1)
    got = reuse(anchor, moved)
    assert got == Summarizer(FUNCTION, rules, "test").summarize(
        "v5.1", "mm/rmap.c", "c", "t", moved
    )
    assert got.start_line == first.start_line + 2
