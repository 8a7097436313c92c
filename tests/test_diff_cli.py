"""`kvdiff diff A B [FUNCTION]` on the real corpus: sections, layouts, colour, NO_COLOR, JSON."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from conftest import Manifest
from kvdiff.main import cli

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _run(args: list[str], repo_args: list[str], tmp_path, env: dict | None = None):
    cache = ["--cache", str(tmp_path / "c.git")]
    result = CliRunner().invoke(cli, ["diff", *args, *repo_args, *cache], env=env or {})
    assert result.exit_code == 0, result.output
    return result.output


def test_unified_diff_of_a_pair_shows_the_real_lines(
    corpus_repo_args: list[str], corpus, manifest: Manifest, tmp_path
) -> None:
    out = _run(["v2.6.35", "v5.1"], corpus_repo_args, tmp_path, {"NO_COLOR": ""})
    assert not ANSI.search(out)
    lines = out.splitlines()
    assert lines[0].startswith("--- v2.6.35 mm/rmap.c ") and lines[1].startswith("+++ v5.1 ")
    assert manifest.blob("v2.6.35", "mm/rmap.c")[:12] in lines[0]
    heads = [ln for ln in lines if ln.startswith("== ")]
    assert heads[0].startswith("== anon ") and heads[1].startswith("== migration ")
    assert heads[-1].startswith("== whole function try_to_unmap_one(): ")
    # Every -/+ line is the real source line at that number.
    real = {
        tag: (corpus / tag / "mm" / "rmap.c").read_text("utf-8", "replace").split("\n")
        for tag in ("v2.6.35", "v5.1")
    }
    checked = 0
    for ln in lines:
        m = re.match(r"^([-+]) +(\d+) +(.*)$", ln)
        if m:
            tag = "v2.6.35" if m.group(1) == "-" else "v5.1"
            assert real[tag][int(m.group(2)) - 1].expandtabs(8).strip() == m.group(3).strip()
            checked += 1
    assert checked > 100
    assert any("else if (PAGE_MIGRATION)" in ln and ln.startswith("-") for ln in lines)


def test_side_by_side_colour_and_no_color(corpus_repo_args: list[str], tmp_path) -> None:
    plain = _run(["v2.6.35", "v5.1", "-y", "-W", "140"], corpus_repo_args, tmp_path)
    assert not ANSI.search(plain)
    rows = [ln for ln in plain.splitlines() if " | " in ln or " > " in ln or " < " in ln]
    assert rows and max(len(ln) for ln in plain.splitlines()) <= 140
    colored = _run(
        ["v2.6.35", "v5.1", "-y", "-W", "140", "--color=always"], corpus_repo_args, tmp_path
    )
    assert "\x1b[31m" in colored and "\x1b[32m" in colored and "\x1b[1;7m" in colored
    assert ANSI.sub("", colored) == plain  # colour adds escapes only
    # NO_COLOR turns auto off but not an explicit --color=always; never wins over everything.
    env = {"NO_COLOR": "1"}
    assert not ANSI.search(_run(["v2.6.35", "v5.1"], corpus_repo_args, tmp_path, env))
    always = _run(["v2.6.35", "v5.1", "--color=always"], corpus_repo_args, tmp_path, env)
    assert ANSI.search(always)
    assert not ANSI.search(_run(["v2.6.35", "v5.1", "--color=never"], corpus_repo_args, tmp_path))


def test_diff_json_has_its_documented_fields(corpus_repo_args: list[str], tmp_path) -> None:
    doc = json.loads(_run(["v5.1", "v5.10.37", "--json"], corpus_repo_args, tmp_path))
    assert doc["schema_version"] == 1
    assert set(doc) == {
        "schema_version",
        "function",
        "path",
        "a",
        "b",
        "rule_set",
        "sections",
        "whole",
    }
    assert set(doc["a"]) == {"tag", "blob_id", "origin", "start_line", "end_line"}
    assert set(doc["whole"]) == {"added", "removed", "changed", "rows"}
    section = doc["sections"][0]
    assert set(section) == {"concept", "title", "a", "b", "added", "removed", "changed", "rows"}
    row = doc["whole"]["rows"][0]
    assert set(row) == {"kind", "left", "right"} and set(row["left"]) == {"line", "text", "changed"}


def test_diff_of_a_function_without_rules_and_a_bad_function(
    corpus_repo_args: list[str], tmp_path
) -> None:
    out = _run(["v2.6.35", "v5.1", "page_referenced_one"], corpus_repo_args, tmp_path)
    assert "no rule set for page_referenced_one()" in out and "== whole function" in out
    result = CliRunner().invoke(
        cli,
        [
            "diff",
            "v2.6.35",
            "v5.1",
            "no_such_fn",
            *corpus_repo_args,
            "--cache",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 2 and result.output.startswith("kvdiff: error: ")
