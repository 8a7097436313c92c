"""recover._split_groups finds the #if groups that are not clean preprocessor nodes by walking
up from each group's '#', not by a query over the whole tree: the same groups as the query's
definition, on every .c and .h file of the corpus and the wild trees."""

from __future__ import annotations

from pathlib import Path

from kvdiff.analyzers.parse import ppconfig, recover
from kvdiff.analyzers.parse.cparse import captures, parse_c


def _by_query(data: bytes, root) -> list[ppconfig.Group]:
    grouped = ppconfig.build_groups(ppconfig.scan_directives(data, 0, len(data)))
    if not grouped:
        return []
    found = captures("(preproc_if) @g (preproc_ifdef) @g", root).get("g", [])
    clean = {(n.start_point.row, n.end_point.row) for n in found if not n.has_error}
    return [g for g in ppconfig.walk_groups(grouped) if (g.first_line, g.endif.line) not in clean]


def test_split_groups_equal_the_query_on_every_kernel_file(corpus: Path, wild: Path) -> None:
    files = sorted({*corpus.rglob("*.[ch]"), *wild.rglob("*.[ch]")})
    split = 0
    for path in files:
        data = path.read_bytes()
        root = parse_c(data).tree.root_node
        expected = _by_query(data, root)
        assert recover._split_groups(data, root) == expected, path
        split += bool(expected)
    assert len(files) > 200 and split > 5  # files with groups the tree did not make clean


def test_shadows_parsed_one_from_the_other_are_fresh_parses(corpus: Path, monkeypatch) -> None:
    """A shadow is parsed incrementally from the last one when the files are alike: every
    node the same as a fresh parse's, edit after edit and file after file."""
    import random

    from test_reuse import _edits, _nodes

    rng = random.Random(5)
    incremental = []
    real = recover.reparse
    monkeypatch.setattr(recover, "reparse", lambda *a: incremental.append(1) or real(*a))
    for tag in ("v2.6.7", "v2.6.35", "v5.1"):
        data = (corpus / tag / "mm" / "rmap.c").read_bytes()
        for blobs in _edits(data, rng).values():
            for blob in blobs[:6]:
                shadow = recover._shadow(blob, parse_c(blob).tree.root_node)
                if shadow is None or not shadow.resolved:
                    continue
                resolved = recover._LAST_SHADOW[0][0].data
                fresh = parse_c(resolved).tree.root_node
                assert _nodes(shadow.tree.root_node, []) == _nodes(fresh, [])
    assert len(incremental) > 10
