"""#if arms that split an if/else chain: the function is parsed once per configuration of the
symbols those arms test (parse/ppconfig.py, parse/configs.py) and the branch trees merged, so
the whole chain is found and each branch says which configuration it needs.

Synthetic C in fixtures/c/parse_ifdef_split.c; the real shape (try_to_unmap_one in 2.6.18 to
2.6.28, `#ifdef CONFIG_MIGRATION` between `} else` and `if (migration)`) in ../shared/kernel-wild.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, TAGS
from hypothesis import given, settings
from hypothesis import strategies as st
from kvdiff.analyzers.analyze.analysis import analyze_source, load_rule_set
from kvdiff.analyzers.parse import ppconfig
from kvdiff.analyzers.parse.branches import Branch, BranchTree, build_tree
from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import all_functions, find_functions
from kvdiff.analyzers.present.branches_view import tree_text
from kvdiff.analyzers.source.types import SourceFile

SPLIT = FIXTURES / "c" / "parse_ifdef_split.c"


def tree_of(data: bytes, name: str) -> BranchTree:
    parsed = parse_c(data)
    return build_tree(parsed, find_functions(parsed, name)[0])


def arms(tree: BranchTree) -> list[tuple[str, int, int, tuple[str, ...]]]:
    return [(b.label, b.start_line, b.end_line, b.config) for b in tree.walk()][1:]


def line_of(data: bytes, text: str, after: int = 0) -> int:
    """1-based line of the first line at or after line ``after`` containing ``text``."""
    lines = data.decode().split("\n")
    return next(i + 1 for i in range(after, len(lines)) if text in lines[i])


@pytest.fixture(scope="module")
def data() -> bytes:
    return SPLIT.read_bytes()


def test_the_split_chain_is_whole_and_says_what_each_arm_needs(data: bytes) -> None:
    parsed = parse_c(data)
    (fn,) = find_functions(parsed, "fx_split_chain")
    assert fn.has_errors  # one reading of the file does not parse: that is the case at hand
    tree = build_tree(parsed, fn)
    assert tree.errors == ()
    assert (tree.resolved, tree.parses) == (("CONFIG_FX_MOVE",), 2)
    start = fn.start_line
    anon = line_of(data, "if (fx_is_anon(page))", start)
    cache = line_of(data, "if (fx_in_cache(page))", start)
    move_else = line_of(data, "} else {", start)
    moving = line_of(data, "} else", move_else + 1)  # `} else` before `#ifdef` and `if (moving)`
    final = line_of(data, "} else", moving + 1)
    stats = line_of(data, "#ifdef CONFIG_FX_STATS", start)
    assert arms(tree) == [
        ("if fx_is_anon(page)", anon, moving, ()),
        ("if fx_in_cache(page)", cache, move_else, ()),
        ("else", move_else, move_else + 4, ("CONFIG_FX_MOVE",)),
        ("else if moving", moving, final, ("CONFIG_FX_MOVE",)),
        ("else", final, final + 2, ()),
        # a well-formed #ifdef stays a preprocessor arm, and says what it needs too
        ("#ifdef CONFIG_FX_STATS", stats, stats + 2, ("CONFIG_FX_STATS",)),
    ]
    branches = list(tree.walk())
    assert len({branches[1].chain, branches[4].chain, branches[5].chain}) == 1
    assert branches[2].chain == branches[3].chain != branches[1].chain
    assert branches[1].chain >= 0 and [b.arm for b in branches[1:6]] == [0, 0, 1, 1, 2]
    # the arm lost before: the last else and its call, at their real lines
    last = branches[5]
    assert [(c.name, c.line) for c in last.effects.calls] == [("fx_count_file", final + 2)]
    # arms only one configuration has carry that configuration's effects
    assert [c.name for c in branches[3].effects.calls] == ["fx_make_move_entry"]


def test_spans_and_conditions_are_the_files_own(data: bytes) -> None:
    tree = tree_of(data, "fx_split_chain")
    lines = data.decode().split("\n")
    for b in tree.walk():
        if b.kind in ("if", "else if"):
            assert b.condition in lines[b.start_line - 1] or b.condition in data.decode()
            node = b.condition_node
            assert data[node.start_byte : node.end_byte].decode() == f"({b.condition})"
        assert data[b.start_byte : b.end_byte]  # real byte offsets into the file


def test_two_symbols_in_one_if(data: bytes) -> None:
    tree = tree_of(data, "fx_two_symbols")
    assert (tree.resolved, tree.parses) == (("CONFIG_FX_A", "CONFIG_FX_B"), 4)
    needs = {(b.label, b.start_line): b.config for b in tree.walk()}
    first = line_of(data, "} else if (x > 5) {")
    other = line_of(data, "} else {", first + 1)
    third = line_of(data, "} else {", other + 1)
    assert needs[("else if x > 5", first)] == ("CONFIG_FX_A", "!CONFIG_FX_B")
    assert needs[("else", other)] == ("CONFIG_FX_A", "!CONFIG_FX_B")
    assert needs[("else", third)] == ("!(CONFIG_FX_A && !CONFIG_FX_B)",)
    assert needs[("if x > 10", line_of(data, "if (x > 10) {"))] == ()


def test_a_macro_error_stays_reported_after_the_split_is_resolved(data: bytes) -> None:
    tree = tree_of(data, "fx_split_and_macro")
    macro = line_of(data, "FX_LOCK(x) x++ FX_LOCK(x);")
    assert [e.start_line for e in tree.errors] == [macro]
    labels = [(b.label, b.config) for b in tree.walk()][1:]
    assert labels == [("if x", ()), ("else if x < 0", ("!CONFIG_FX_SMALL",)), ("else", ())]


def test_text_and_json_show_the_configuration(data: bytes) -> None:
    tree = tree_of(data, "fx_split_chain")
    text = tree_text(tree)
    assert "parsed once per configuration of CONFIG_FX_MOVE (2 parses, merged)" in text
    lines = text.splitlines()
    assert any("else if moving  {needs CONFIG_FX_MOVE}" in line for line in lines)
    # the directive names what its arm needs, so the arm is not marked again
    assert not any("#ifdef CONFIG_FX_STATS  {needs" in line for line in lines)
    doc = tree.to_json()
    assert doc["resolved"] == ["CONFIG_FX_MOVE"] and doc["parses"] == 2
    anon = doc["root"]["children"][0]
    assert "config" not in anon
    assert anon["children"][1]["config"] == ["CONFIG_FX_MOVE"]
    json.dumps(doc)  # plain data


def test_a_clean_function_is_parsed_once() -> None:
    tree = tree_of((FIXTURES / "c" / "rules_ifdef.c").read_bytes(), "classify_entry")
    assert (tree.resolved, tree.parses) == ((), 1)
    preproc = [b for b in tree.walk() if b.kind == "preproc"]
    assert [b.config for b in preproc] == [
        ("CONFIG_MIGRATION",),
        ("!CONFIG_MIGRATION", "CONFIG_COMPACTION"),
        ("!CONFIG_MIGRATION", "!CONFIG_COMPACTION"),
    ]
    assert preproc[0].children[0].config == ("CONFIG_MIGRATION",)
    assert "config" not in tree.to_json()["root"]["children"][-1]


@pytest.mark.parametrize(
    ("kind", "text", "needs", "negated"),
    [
        ("ifdef", "CONFIG_X", ["CONFIG_X"], ["!CONFIG_X"]),
        ("ifndef", "CONFIG_X", ["!CONFIG_X"], ["CONFIG_X"]),
        ("elifdef", "CONFIG_X", ["CONFIG_X"], ["!CONFIG_X"]),
        ("elifndef", "CONFIG_X", ["!CONFIG_X"], ["CONFIG_X"]),
        ("if", "defined(CONFIG_X) && !defined CONFIG_Y", ["CONFIG_X", "!CONFIG_Y"], None),
        (
            "if",
            "IS_ENABLED(CONFIG_X) || CONFIG_Y",
            ["CONFIG_X || CONFIG_Y"],
            ["!CONFIG_X", "!CONFIG_Y"],
        ),
        ("if", "0", ["0"], []),
        ("if", "LINUX_VERSION_CODE >= KERNEL_VERSION(3, 0, 0)", None, None),
    ],
)
def test_conditions_are_read_not_run(
    kind: str, text: str, needs: list[str] | None, negated: list[str] | None
) -> None:
    expr = ppconfig.parse_condition(kind, text)
    if needs is None:  # not a form kvdiff reads: one opaque symbol, the whole text
        assert expr == ("sym", text)
        assert ppconfig.render(expr, True) == [f"!({text})"]
        return
    assert ppconfig.render(expr) == needs
    if negated is not None:
        assert ppconfig.render(expr, True) == negated


def test_directives_in_comments_and_continuations() -> None:
    src = (
        b"/*\n#if NOT_A_DIRECTIVE\n*/\n"
        b"  #  if defined(A) && \\\n     defined(B) /* both */\n"
        b"x;\n#else\ny;\n#endif\n"
    )
    found = ppconfig.scan_directives(src, 0, len(src))
    assert [(d.kind, d.condition, d.line) for d in found] == [
        ("if", "defined(A) && defined(B)", 3),
        ("else", "", 6),
        ("endif", "", 8),
    ]
    (group,) = ppconfig.build_groups(found)
    out = ppconfig.resolved_bytes(src, [group], {"A": True, "B": False})
    assert len(out) == len(src) and out.count(b"\n") == src.count(b"\n")
    assert b"x;" not in out and b"y;" in out and b"#" not in out[src.index(b"  #") :]


def test_unbalanced_directives_are_not_resolved() -> None:
    src = b"a;\n#else\nb;\n#endif\n"
    assert ppconfig.build_groups(ppconfig.scan_directives(src, 0, len(src))) is None


def test_many_symbols_are_bounded() -> None:
    names = [f"S{i}" for i in range(ppconfig.MAX_FULL_SYMBOLS + 3)]
    configs = ppconfig.configurations(names)
    assert len(configs) == len(names) + 2
    assert configs[0] == dict.fromkeys(names, True)
    assert len(ppconfig.configurations(names[:3])) == 8


# -- real trees ----------------------------------------------------------------------------


def _wild_rmap(wild: Path) -> list[Path]:
    return sorted(wild.glob("*/mm/rmap.c"))


def _file_arm(tree: BranchTree) -> Branch | None:
    for b in tree.walk():
        if b.kind == "else" and any(
            c.name == "dec_mm_counter" and "file_rss" in c.args for c in b.effects.calls
        ):
            return b
    return None


def test_wild_try_to_unmap_one_split_by_config_migration(wild: Path) -> None:
    """Every wild tree whose try_to_unmap_one has the CONFIG_MIGRATION split (read in the
    trees: 2.6.18 and 2.6.22.15 here) keeps the file-page else arm and its concept."""
    rules = load_rule_set()
    split = []
    for path in _wild_rmap(wild):
        data = path.read_bytes()
        parsed = parse_c(data)
        defs = find_functions(parsed, "try_to_unmap_one")
        if not defs:
            continue
        tree = build_tree(parsed, defs[0])
        if not tree.resolved:
            continue
        split.append(path.parent.parent.name)
        assert tree.resolved == ("CONFIG_MIGRATION",)
        assert tree.errors == ()
        arm = _file_arm(tree)
        assert arm is not None and arm.config == ()
        migration = [b for b in tree.walk() if b.condition_normalized == "migration"]
        assert [b.config for b in migration] == [("CONFIG_MIGRATION",)]
        source = SourceFile("v2.6.18", "mm/rmap.c", "0" * 40, "wild", data)
        statuses = {s.concept: s for s in analyze_source(source, rules).concepts}
        assert statuses["file"].state == "present"
        (hit,) = statuses["file"].hits
        assert (hit.start_line, hit.end_line) == (arm.start_line, arm.end_line)
    assert split == ["keenetic-tc-2.6.22.15", "laitianli-2.6.18"]


def _all_c(corpus: Path, wild: Path) -> list[Path]:
    return sorted(corpus.glob("*/**/*.c")) + sorted(wild.glob("*/**/*.c"))


def test_every_real_function_with_parse_errors_builds_a_tree(corpus: Path, wild: Path) -> None:
    """Never a crash, never more ERROR spans than the single parse had, and conditions at
    their real bytes, for every function tree-sitter reports errors in (mostly macros)."""
    resolved = 0
    for path in _all_c(corpus, wild):
        data = path.read_bytes()
        parsed = parse_c(data)
        for fn in all_functions(parsed):
            if not fn.has_errors:
                continue
            tree = build_tree(parsed, fn)
            resolved += bool(tree.resolved)
            assert len(tree.errors) <= len(fn.errors), (path, fn.name)
            for b in tree.walk():
                if b.condition_node is not None and b.kind in ("if", "else if"):
                    node = b.condition_node
                    text = data[node.start_byte : node.end_byte].decode("utf-8", "replace")
                    # the file's characters in order (a resolved parse drops #if lines in it)
                    chars = iter("".join(text.split()))
                    assert all(c in chars for c in "".join(b.condition.split())), (path, b)
    assert resolved >= 2


def test_corpus_trees_need_one_parse(corpus: Path) -> None:
    """try_to_unmap_one parses cleanly at the four corpus tags: no per-configuration parse."""
    for tag in TAGS:
        data = (corpus / tag / "mm" / "rmap.c").read_bytes()
        assert tree_of(data, "try_to_unmap_one").parses == 1


_DIRECTIVES = [
    "#ifdef CONFIG_R",
    "#ifndef CONFIG_R",
    "#if defined(CONFIG_A) || CONFIG_B",
    "#if 0",
    "#if LINUX_VERSION_CODE > KERNEL_VERSION(4, 0, 0)",
    "#elif defined(CONFIG_C)",
    "#else",
    "#endif",
]


@settings(max_examples=60, deadline=None)
@given(
    inserts=st.lists(
        st.tuples(st.integers(min_value=0, max_value=400), st.sampled_from(_DIRECTIVES)),
        min_size=1,
        max_size=8,
    )
)
def test_random_directives_never_crash_and_keep_real_lines(
    inserts: list[tuple[int, str]],
) -> None:
    """Directive lines dropped anywhere into the fixture (balanced or not, in the middle of
    a chain): extraction and the branch tree never raise, spans stay inside the definition
    and the JSON is plain data."""
    lines = SPLIT.read_text().split("\n")
    for where, directive in sorted(inserts, reverse=True):
        lines.insert(where % len(lines), directive)
    data = "\n".join(lines).encode()
    parsed = parse_c(data)
    for fn in all_functions(parsed):
        tree = build_tree(parsed, fn)
        assert tree.parses <= 2**ppconfig.MAX_FULL_SYMBOLS
        for b in tree.walk():
            assert fn.start_line <= b.start_line <= b.end_line <= fn.end_line
        json.dumps(tree.to_json())


def test_branches_cli_on_a_vendor_tag_shows_what_arms_need(wild_repo: Path) -> None:
    from click.testing import CliRunner
    from kvdiff.main import cli

    args = ["--repo", str(wild_repo), "--offline"]
    runner = CliRunner()
    for tag in ("wild/laitianli-2.6.18", "v2.6.22.15"):
        result = runner.invoke(cli, ["branches", tag, *args])
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert "parsed once per configuration of CONFIG_MIGRATION (2 parses, merged)" in out
        assert "else if migration  [migration]  {needs CONFIG_MIGRATION}" in out
        assert "tree-sitter could not parse" not in result.stderr
        lines = out.splitlines()
        assert any(line.strip().endswith("else  [file]") for line in lines)
    result = runner.invoke(cli, ["branches", "wild/laitianli-2.6.18", "--json", *args])
    doc = json.loads(result.stdout)
    assert doc["tree"]["resolved"] == ["CONFIG_MIGRATION"] and doc["errors"] == []
    assert doc["concepts"]["file"]["state"] == "present"
    # the syscall, by its name and by its kernel symbol, at a vendor tag
    result = runner.invoke(
        cli,
        [
            "show",
            "wild/rockchip-5.10.107",
            "compat_sys_move_pages",
            "--file",
            "mm/migrate.c",
            *args,
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.split("\n")[1]
        .split(None, 1)[1]
        .startswith("COMPAT_SYSCALL_DEFINE6(move_pages,")
    )
