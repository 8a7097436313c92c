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
