"""`kvdiff model`: scenario output, --matrix, --json, one-line errors, source lines via --repo."""

from __future__ import annotations

import json

from click.testing import CliRunner

from analyzers.model import MODEL_TAGS, SCENARIOS
from cli.main import cli


def _run(*args: str):
    return CliRunner().invoke(cli, ["model", *args])


def test_matrix_text_and_json() -> None:
    r = _run("--matrix")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert len(lines) == 1 + len(SCENARIOS)
    assert all(tag in lines[0] for tag in MODEL_TAGS)
    row = next(line for line in lines if line.startswith("migrate-anon-swapcache"))
    cells = [c.strip() for c in row.split("|")]
    assert cells[1:] == [
        "n/a",
        "swap(type 0, offset 0x1a2b) / SWAP_AGAIN",
        "migration(W, pfn 0x12345) / true",
        "migration(W, pfn 0x12345) / true",
    ]
    j1, j2 = _run("--matrix", "--json"), _run("--matrix", "--json")
    assert j1.exit_code == 0 and j1.output == j2.output
    doc = json.loads(j1.output)
    assert len(doc) == len(SCENARIOS) * len(MODEL_TAGS)
    assert list(doc[0]) == sorted(doc[0])


def test_scenario_without_source() -> None:
    r = _run("v2.6.7", "--scenario", "gup-pinned", "--no-source")
    assert r.exit_code == 0, r.output
    assert "returns: SWAP_FAIL" in r.output
    assert "gup              mm/rmap.c:485   taken" in r.output
    assert "source of the branches" not in r.output
    r = _run("v2.6.7", "--scenario", "compaction-anon", "--no-source")
    assert r.exit_code == 0 and "not applicable" in r.output


def test_scenario_with_source_from_the_corpus(corpus_repo_args: list[str], tmp_path) -> None:
    args = ["v5.10.37", "--scenario", "reclaim-young", *corpus_repo_args]
    args += ["--offline", "--quiet", "--cache", str(tmp_path / "linux.git")]
    r = _run(*args)
    assert r.exit_code == 0, r.output
    assert "anon             1617-1684  } else if (PageAnon(page)) {" in r.output
    j = _run(*args, "--json")
    doc = json.loads(j.output)
    assert [s["start_line"] for s in doc["source"]] == [1438, 1617, 1617]
    assert doc["decoded_after"]["kind"] == "swap"


def test_bad_input_is_one_line_exit_2() -> None:
    for args, needle in (
        (("v4.4", "--scenario", "reclaim-file"), "v2.6.7, v2.6.35, v5.1, v5.10.37"),
        (("v5.1", "--scenario", "bogus"), "reclaim-anon-swapcache"),
        (("v5.1",), "--scenario"),
        ((), "--matrix"),
        (("v5.1", "--matrix"), "drop TAG"),
    ):
        r = _run(*args, "--no-source")
        assert r.exit_code == 2, (args, r.output)
        assert r.output.count("\n") == 1 and needle in r.output
        assert r.output.startswith("kvdiff: error: ")
