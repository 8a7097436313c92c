"""Issue 13, functions: defined twice (#ifdef/#else arms), present but unparseable, and missing
from every tag of a history. Through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synthrepo import SIMPLE_C, make_repo, one_error_line, run

FILE = "src/target.c"
TWICE_C = b"""/* synthetic */
#ifdef CONFIG_FAST
int target_fn(int a, int b)
{
\tif (a)
\t\treturn 1;
\treturn 0;
}
#else
int target_fn(int a, int b)
{
\tint ret = 0;
\tif (a > b)
\t\tret = 2;
\telse if (b)
\t\tret = 3;
\treturn ret;
}
#endif
"""
# A definition tree-sitter cannot make a function_definition of: an unclosed parameter list.
BROKEN_C = b"""int target_ok(void)
{
\treturn 0;
}

int target_fn(int a
{
\tif (a)
\t\treturn 1;
\treturn 0;
"""


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "src.git",
        {
            "v1.0": {FILE: SIMPLE_C},
            "v1.1": {FILE: TWICE_C},
            "v1.2": {FILE: BROKEN_C},
        },
    )


def local(repo: Path, *args: str):
    return run(*args, "--repo", str(repo), "--cache", str(repo.parent / "c.git"), "--offline")


def test_function_defined_twice(repo: Path) -> None:
    shown = local(repo, "show", "v1.1", "target_fn", "--file", FILE)
    assert shown.stdout.count("int target_fn(int a, int b)") == 2
    first = local(repo, "branches", "v1.1", "target_fn", "--file", FILE)
    assert first.exit_code == 0, first.output
    assert "defined 2 times" in first.stderr and "lines 3-8, 10-18" in first.stderr
    assert "definition 1 (lines 3-8, the first in file order)" in first.stderr
    assert "--definition N" in first.stderr
    assert "if a" in first.stdout and "else if b" not in first.stdout
    second = local(repo, "branches", "v1.1", "target_fn", "--file", FILE, "--definition", "2")
    assert second.exit_code == 0, second.output
    assert "else if b" in second.stdout and "definition 2 (lines 10-18)" in second.stderr
    data = json.loads(local(repo, "branches", "v1.1", "target_fn", "--file", FILE, "--json").stdout)
    assert data["definitions"] == [[3, 8], [10, 18]] and data["definition"] == 1
    line = one_error_line(
        local(repo, "branches", "v1.1", "target_fn", "--file", FILE, "--definition", "3")
    )
    assert "has 2 definition(s)" in line
    site = repo.parent / "site"
    report = local(repo, "report", "--tags", "v1.0,v1.1", "--function", "target_fn",
                   "--file", FILE, "--out", str(site))  # fmt: skip
    assert report.exit_code == 0, report.output
    assert "defined 2 times in src/target.c at v1.1" in report.stderr
    assert "the site shows the first in file order, lines 3-8" in report.stderr


def test_check_and_model_say_which_definition(tmp_path: Path) -> None:
    """check and model analyse the rule set's file: a try_to_unmap_one defined twice."""
    rmap = b"int try_to_unmap_one(int a)\n{\n\treturn a;\n}\n"
    c = b"#ifdef X\n" + rmap + b"#else\n" + rmap + b"#endif\n"
    repo = make_repo(tmp_path / "r.git", {"v5.1": {"mm/rmap.c": c}})
    args = ("--repo", str(repo), "--cache", str(tmp_path / "c.git"), "--offline")
    expected = tmp_path / "expected"
    result = run("check", "--tags", "v5.1", "--update", "--expected", str(expected), *args)
    assert result.exit_code == 0, result.output
    result = run("check", "--tags", "v5.1", "--expected", str(expected), *args)
    assert "try_to_unmap_one is defined 2 times in mm/rmap.c at v5.1" in result.stderr
    # --reference: this repo holds only mm/rmap.c; the derived model also needs the tag's headers
    # (and says which one is missing).
    model = run("model", "v5.1", "--scenario", "reclaim-file", "--reference", *args)
    assert "defined 2 times" in model.stderr, model.output
    derived = run("model", "v5.1", "--scenario", "reclaim-file", *args)
    assert "include/linux/swap.h does not exist at v5.1" in derived.stderr


def test_function_there_but_unparseable(repo: Path) -> None:
    for command in ("show", "branches"):
        line = one_error_line(local(repo, command, "v1.2", "target_fn", "--file", FILE))
        assert "target_fn is in src/target.c at v1.2 (line 6)" in line, line
        assert "cannot parse it" in line and "ERROR at line" in line
        assert "closest" not in line
    # A name that is nowhere still gets the closest names.
    line = one_error_line(local(repo, "show", "v1.2", "target_okk", "--file", FILE))
    assert "closest: target_ok" in line


def test_history_with_a_missing_function(repo: Path) -> None:
    line = one_error_line(local(repo, "history", "target_fm", "--file", FILE, "--no-result-cache"))
    assert "target_fm is defined in src/target.c at none of the 3 tag(s)" in line
    assert "closest in src/target.c at v1.2: target_fn" in line or "target_ok" in line
    line = one_error_line(local(repo, "history", "target_fn", "--file", "nope.c"))
    assert "nope.c exists at none of the 3 tag(s)" in line
