"""`kvdiff check`: golden files reviewed against the corpus, drift kinds, exit codes, JUnit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pygit2
import pytest
from click.testing import CliRunner
from conftest import FIXTURES, TAGS
from kvdiff.analyzers.analyze.analysis import analyze_source
from kvdiff.analyzers.analyze.ruleset import load_rule_set
from kvdiff.analyzers.compare.check import compare
from kvdiff.analyzers.compare.golden import (
    default_expected_dir,
    golden_from_analysis,
    golden_tags,
    load_golden,
)
from kvdiff.analyzers.present.check_words import finding_message
from kvdiff.analyzers.source.repo import SourceFile
from kvdiff.main import cli

RULES = load_rule_set()
EXPECTED = FIXTURES / "expected"


@pytest.fixture(autouse=True)
def _in_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """`kvdiff check`'s default golden dir is ./fixtures/expected: run where CI runs it."""
    monkeypatch.chdir(FIXTURES.parent)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


def make_repo(root: Path, files: dict[str, dict[str, bytes]]) -> Path:
    """A bare repository with one annotated tag per entry: tag -> {path: bytes}."""
    repo = pygit2.init_repository(str(root), bare=True)
    sig = pygit2.Signature("kvdiff test", "test@example.invalid", 0, 0)
    parents: list = []
    for tag, contents in files.items():
        index = pygit2.Index()
        for path, data in contents.items():
            index.add(pygit2.IndexEntry(path, repo.create_blob(data), pygit2.GIT_FILEMODE_BLOB))
        tree = index.write_tree(repo)
        commit = repo.create_commit(None, sig, sig, f"release {tag}", tree, parents)
        parents = [commit]
        repo.create_tag(tag, commit, pygit2.GIT_OBJECT_COMMIT, sig, f"Linux {tag}")
    return root


# -- the golden files, against the source --------------------------------------------------


def test_the_default_golden_dir_is_the_checkouts_fixtures():
    # Golden files are not packaged: the default is relative, resolved where kvdiff runs.
    assert default_expected_dir() == Path("fixtures/expected")
    assert (FIXTURES.parent / default_expected_dir()).resolve() == EXPECTED.resolve()


def test_golden_tags_are_the_corpus_tags():
    assert golden_tags(EXPECTED, "try_to_unmap_one") == list(TAGS)
    assert golden_tags(EXPECTED, "do_swap_page") == ["v2.6.35", "v5.1", "v5.10.37"]


@pytest.mark.parametrize("tag", TAGS)
def test_golden_matches_a_fresh_analysis_of_the_corpus(corpus: Path, manifest, tag: str):
    data = (corpus / tag / "mm" / "rmap.c").read_bytes()
    source = SourceFile(tag, "mm/rmap.c", manifest.blob(tag, "mm/rmap.c"), "corpus", data)
    analysis = analyze_source(source, RULES)
    golden = load_golden(EXPECTED / "try_to_unmap_one" / f"{tag}.json")
    assert golden == golden_from_analysis(RULES, analysis)
    lines = data.decode("utf-8", errors="replace").split("\n")
    for concept, entry in golden["concepts"].items():
        for hit in entry["hits"]:
            # The golden condition is the file's text at the recorded lines, verbatim.
            first = hit["condition"].split("\n", 1)[0]
            assert first in lines[hit["start_line"] - 1], (tag, concept)
            block = "\n".join(lines[hit["start_line"] - 1 : hit["end_line"]])
            assert hit["condition"] in block, (tag, concept)
    check = compare(tag, golden, analysis)
    assert [f.kind for f in check.findings] == ["ok"] * len(RULES.concepts)


def test_check_cli_on_corpus_passes_with_junit(corpus_repo_args: list[str], tmp_path: Path):
    junit = tmp_path / "check.xml"
    code, out, err = run("check", *corpus_repo_args, "--offline", "--junit", str(junit))
    assert code == 0, out + err
    assert "4 tag(s), 44 checks, 0 failure(s), 0 line drift(s)" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 44 and suite.get("failures") == "0"
    assert {(c.get("classname"), c.get("name")) for c in cases} == {
        (t, c) for t in TAGS for c in RULES.concept_ids
    }
    code, out, _ = run(
        "check", "--target", "do_swap_page", *corpus_repo_args, "--offline", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["failed"] is False and [t["tag"] for t in data["tags"]] == [
        "v2.6.35",
        "v5.1",
        "v5.10.37",
    ]


def test_check_from_the_stand_in_upstreams(git_daemon, tmp_path: Path):
    code, out, err = run(
        "check",
        *git_daemon.upstream_args(),
        "--cache",
        str(tmp_path / "cache.git"),
        "--quiet",
    )
    assert code == 0, out + err
    assert "44 checks, 0 failure(s)" in out


# -- drift on a mutated copy of the corpus -------------------------------------------------


def mutate_v5_1(data: bytes) -> bytes:
    text = data.decode("utf-8")
    # Change the anon condition.
    old = "\t\t} else if (PageAnon(page)) {\n"
    assert text.count(old) == 1
    text = text.replace(old, "\t\t} else if (PageAnon(page) && !PageKsm(page)) {\n")
    # Delete the young branch: lines 1480-1487 of v5.1.
    lines = text.split("\n")
    assert lines[1479].strip() == "if (!(flags & TTU_IGNORE_ACCESS)) {"
    assert lines[1486].strip() == "}"
    del lines[1479:1487]
    return "\n".join(lines).encode()


def test_mutated_source_fails_and_names_tag_and_concept(corpus: Path, tmp_path: Path):
    data = (corpus / "v5.1" / "mm" / "rmap.c").read_bytes()
    repo = make_repo(tmp_path / "mut.git", {"v5.1": {"mm/rmap.c": mutate_v5_1(data)}})
    junit = tmp_path / "j.xml"
    code, out, err = run(
        "check", "--tags", "v5.1", "--repo", str(repo), "--offline", "--junit", str(junit)
    )
    assert code == 1, out + err
    fails = [line for line in out.splitlines() if line.strip().startswith("FAIL")]
    # swapcache is the anon arm in 5.x, so its condition changed with it.
    assert len(fails) == 3
    assert any("anon" in f and "condition-changed" in f and "PageKsm" in f for f in fails)
    assert any("swapcache" in f and "condition-changed" in f for f in fails)
    assert any("young" in f and "concept-missing" in f for f in fails)
    # The branches after the deleted one moved up 8 lines: drift, reported, not failing.
    assert "drift hwpoison" in " ".join(out.split()) and "1514-1527 -> 1506-1519" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    failed = [
        (c.get("classname"), c.get("name"), c.find("failure").get("type"))
        for c in suite.findall("testcase")
        if c.find("failure") is not None
    ]
    assert sorted(failed) == [
        ("v5.1", "anon", "condition-changed"),
        ("v5.1", "swapcache", "condition-changed"),
        ("v5.1", "young", "concept-missing"),
    ]
    assert suite.get("tests") == "11" and suite.get("failures") == "3"

    code, out, _ = run("check", "--tags", "v5.1", "--repo", str(repo), "--offline", "--json")
    assert code == 1
    kinds = {f["concept"]: f["kind"] for f in json.loads(out)["tags"][0]["findings"]}
    assert kinds["anon"] == "condition-changed" and kinds["young"] == "concept-missing"
    assert kinds["lazyfree"] == "line-drift" and kinds["mlock"] == "ok"


def test_missing_function(corpus: Path, tmp_path: Path):
    data = (corpus / "v5.10.37" / "mm" / "rmap.c").read_bytes()
    renamed = data.replace(b"static bool try_to_unmap_one(", b"static bool try_to_unmap_page(")
    repo = make_repo(tmp_path / "m.git", {"v5.10.37": {"mm/rmap.c": renamed}})
    code, out, err = run("check", "--tags", "v5.10.37", "--repo", str(repo), "--offline")
    assert code == 1, err
    assert out.count("function-missing") == 11
    assert "closest: " in out and "try_to_unmap_page" in out


def test_parse_errors_are_reported_never_crash(corpus: Path, tmp_path: Path):
    text = (corpus / "v5.1" / "mm" / "rmap.c").read_text()
    anchor = "\t\t\t/* MADV_FREE page check */\n"
    assert text.count(anchor) == 1
    # A stray statement tree-sitter recovers from: reported, the concepts only drift a line.
    mild = text.replace(anchor, anchor + "\t\t\t@@ = = );\n").encode()
    # An unbalanced `else {{ weird(`: the anon arm no longer parses.
    severe = text.replace(anchor, anchor + "\t\t\t} else {{ weird(\n").encode()
    for name, data, want_code in (("mild", mild, 0), ("severe", severe, 1)):
        repo = make_repo(tmp_path / f"{name}.git", {"v5.1": {"mm/rmap.c": data}})
        code, out, err = run("check", "--tags", "v5.1", "--repo", str(repo), "--offline", "--json")
        assert code == want_code, err
        (tag,) = json.loads(out)["tags"]
        assert tag["errors"] and tag["errors"][0][0] == 1587
        kinds = {f["concept"]: f["kind"] for f in tag["findings"]}
        assert kinds["young"] == kinds["migration"] == "ok"
        if name == "mild":
            assert kinds["anon"] == kinds["lazyfree"] == "line-drift"
        else:
            assert kinds["anon"] == kinds["lazyfree"] == "parse-error"


def test_update_is_deterministic(corpus_repo_args: list[str], tmp_path: Path):
    outs = []
    for name in ("a", "b"):
        code, out, err = run(
            "check",
            *corpus_repo_args,
            "--offline",
            "--update",
            "--tags",
            "v2.6.35,v5.1",
            "--expected",
            str(tmp_path / name),
        )
        assert code == 0, err
        outs.append(
            [
                (tmp_path / name / "try_to_unmap_one" / f"{t}.json").read_bytes()
                for t in ("v2.6.35", "v5.1")
            ]
        )
    assert outs[0] == outs[1]
    assert outs[0][1] == (EXPECTED / "try_to_unmap_one" / "v5.1.json").read_bytes()


def test_bad_input_exits_2_with_one_line(tmp_path: Path):
    empty = tmp_path / "none"
    code, _, err = run("check", "--expected", str(empty), "--offline")
    assert code == 2 and err.startswith("kvdiff: error: no golden files") and err.count("\n") == 1
    code, _, err = run("check", "--target", "nope", "--offline")
    assert code == 2 and "no rule set for nope" in err
    bad = tmp_path / "bad.toml"
    bad.write_text("[meta\n")
    code, _, err = run("check", "--rules", str(bad), "--offline")
    assert code == 2 and "not valid TOML" in err


# -- the comparison itself, on synthetic input ----------------------------------------------


def synthetic(tag: str, name: str = "rules_folio.c"):
    data = (FIXTURES / "c" / name).read_bytes()
    return analyze_source(SourceFile(tag, "mm/rmap.c", "0" * 40, "test", data), RULES)


def test_compare_tells_drift_kinds_apart():
    now = synthetic("v6.1")
    golden = golden_from_analysis(RULES, now)
    kinds = {f.concept: f.kind for f in compare("v6.1", golden, now).findings}
    # young is gone at v6.1 and the rules' history says so (013339df116c, v5.11-rc1)
    assert set(kinds.values()) == {"ok"}
    # Claimed to be 5.10.3, before the 5.10.y backport, young is absent where the rules expect
    # it: drift even against a golden file that recorded the absence.
    old = synthetic("v5.10.3")
    old_kinds = {f.concept: f.kind for f in compare("v5.10.3", golden, old).findings}
    assert old_kinds["young"] == "concept-missing"

    g = json.loads(json.dumps(golden))
    g["concepts"]["migration"] = {
        "state": "present",
        "note": "",
        "hits": [
            {"function": "try_to_unmap_one", "start_line": 30, "end_line": 40, "condition": "x"}
        ],
    }
    g["concepts"]["young"] = {
        "state": "present",
        "note": "",
        "hits": [
            {
                "function": "try_to_unmap_one",
                "start_line": 5,
                "end_line": 6,
                "condition": "ptep_clear_flush_young_notify(vma, address, pte)",
            }
        ],
    }
    g["concepts"]["file"] = {"state": "expected-absent", "note": "", "hits": []}
    g["concepts"]["lazyfree"]["hits"].append(dict(g["concepts"]["lazyfree"]["hits"][0]))
    g["concepts"]["anon"]["state"] = "unexpected"
    del g["concepts"]["gup"]
    g["concepts"]["bogus"] = {"state": "absent", "note": "", "hits": []}
    kinds = {f.concept: f.kind for f in compare("v6.1", g, now).findings}
    assert kinds == {
        "mlock": "ok",
        "young": "concept-missing",
        "gup": "not-in-golden",
        "device_migration": "ok",
        "hwpoison": "ok",
        "guest_unused": "ok",
        "migration": "moved",
        "anon": "state-changed",
        "lazyfree": "hits-changed",
        "swapcache": "ok",
        "file": "unexpected",
        "bogus": "not-in-rules",
    }
    # Function missing: every concept of the golden file fails that way.
    missing = compare("v6.1", golden, None, "function try_to_unmap_one not found")
    assert {f.kind for f in missing.findings} == {"function-missing"}


def test_states_the_rules_contradict_fail_even_when_the_golden_recorded_them():
    # An unreviewed `--update` must not bless them: v2.6-shaped code claimed to be v5.1 has a gup
    # check the rules declare absent from v2.6.35 on, and no file arm nobody declared absent.
    data = (FIXTURES / "c" / "rules_old.c").read_bytes()
    now = analyze_source(SourceFile("v5.1", "mm/rmap.c", "0" * 40, "test", data), RULES)
    golden = golden_from_analysis(RULES, now)
    assert golden["concepts"]["gup"]["state"] == "unexpected"
    findings = {f.concept: f for f in compare("v5.1", golden, now).findings}
    assert findings["gup"].kind == "unexpected" and findings["gup"].failed
    message = finding_message(findings["gup"])
    assert "485" not in message and "18-21" in message
    assert findings["file"].kind == "concept-missing" and findings["file"].failed
    assert findings["mlock"].kind == "ok"
