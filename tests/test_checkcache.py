"""`kvdiff check` through the result cache (jobs/checkcache.py): a cached check prints what a
fresh one prints (text, JSON, JUnit, warnings, exit code), against golden files and against the
rules' history; each input it reads is in the key; a damaged entry is a miss; a hit loads no
parser."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO_ROOT, TAGS
from kvdiff.analyzers.analyze.ruleset import load_rule_set
from kvdiff.analyzers.compare import golden
from kvdiff.analyzers.compare.check import TagCheck
from kvdiff.analyzers.jobs import checkcache
from kvdiff.analyzers.jobs.codedigest import code_digest, code_files
from kvdiff.analyzers.source.repo import Sources
from kvdiff.analyzers.source.types import SourceConfig
from test_check import make_repo, mutate_v5_1, run

EXPECTED = FIXTURES / "expected"


def entries(cache: Path, kind: str = "check") -> list[Path]:
    """The cache's entries of findings (``check``) or of rule sets (``digest``)."""
    found = sorted((cache / "kvdiff-results").glob("??/*.json"))
    return [p for p in found if f'"{kind}":'.encode() in p.read_bytes()]


def outputs(args: list[str], tmp_path: Path, cache: Path, fresh: bool) -> list[tuple]:
    """Text (with JUnit) and JSON of ``kvdiff check ARGS --cache CACHE``: exit code, stdout,
    stderr, JUnit; each from an empty cache when ``fresh``."""
    junit = tmp_path / "j.xml"
    got = []
    for extra in (["--junit", str(junit)], ["--json"]):
        if fresh:
            shutil.rmtree(cache, ignore_errors=True)
        got.append((*run("check", *args, "--cache", str(cache), *extra), junit.read_text()))
    return got


@pytest.fixture()
def mutated(corpus: Path, tmp_path: Path) -> Path:
    """v5.1 with a changed condition, a deleted branch and line drift; v5.10.37 unchanged."""
    v51 = mutate_v5_1((corpus / "v5.1" / "mm" / "rmap.c").read_bytes())
    v510 = (corpus / "v5.10.37" / "mm" / "rmap.c").read_bytes()
    return make_repo(
        tmp_path / "mut.git", {"v5.1": {"mm/rmap.c": v51}, "v5.10.37": {"mm/rmap.c": v510}}
    )


def test_a_cached_check_prints_what_a_fresh_one_prints(mutated: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    no_golden = tmp_path / "empty"  # every tag checked against the rules' history instead
    no_golden.mkdir()
    for expected in (EXPECTED, no_golden):
        args = ["--tags", "v5.1,v5.10.37", "--repo", str(mutated), "--offline"]
        args += ["--expected", str(expected)]
        fresh = outputs(args, tmp_path, cache, fresh=True)
        assert len(entries(cache)) == 2  # one per tag
        assert outputs(args, tmp_path, cache, fresh=False) == fresh
        assert fresh[0][0] == fresh[1][0] == 1  # v5.1's young branch is gone
        assert ("condition-changed" if expected == EXPECTED else '"rules"') in fresh[1][1]


def test_the_cache_gives_back_the_findings_type_for_type(mutated: Path, tmp_path: Path) -> None:
    rules = load_rule_set()
    sources = Sources(
        SourceConfig(cache=tmp_path / "c", upstreams=(), repos=(mutated,), offline=True, quiet=True)
    )
    for expected in (EXPECTED, tmp_path):
        direct = golden.run_check(sources.read, rules, ["v5.1", "v5.10.37"], expected)
        for _ in range(2):  # stored, then read back
            ref = checkcache.rules_ref(sources, "try_to_unmap_one", None)
            assert (ref.target, ref.path, ref.rules) == (rules.target, rules.path, rules)
            got = checkcache.run_check_cached(
                sources, ref, ["v5.1", "v5.10.37"], expected, lambda a: None, print
            )
            assert got == direct and repr(got) == repr(direct)
    facts = [f.facts for t in direct.tags for f in t.findings]
    assert any(isinstance(v, tuple) for fs in facts for _, v in fs)


def test_each_input_is_in_the_key(mutated: Path, tmp_path: Path) -> None:
    """Another golden file, another rule file, another source blob: another entry, and the
    check says what the new input gives, never what the cached one gave."""
    cache, expected = tmp_path / "cache", tmp_path / "expected"
    shutil.copytree(EXPECTED, expected)
    args = ["--tags", "v5.10.37", "--repo", str(mutated), "--offline", "--cache", str(cache)]
    args += ["--expected", str(expected), "--json"]
    code, out, _ = run("check", *args)
    assert code == 0 and len(entries(cache)) == 1
    path = expected / "try_to_unmap_one" / "v5.10.37.json"
    doc = json.loads(path.read_text())
    doc["concepts"]["mlock"]["hits"][0]["start_line"] += 1  # a golden file that drifted
    path.write_text(json.dumps(doc))
    code, drifted, _ = run("check", *args)
    assert code == 0 and drifted != out and '"line-drift"' in drifted
    assert len(entries(cache)) == 2
    rules = tmp_path / "rules.toml"
    rules.write_text(
        (REPO_ROOT / "analyzers/analyze/rules/try_to_unmap_one.toml").read_text() + "\n# x\n"
    )
    code, same, _ = run("check", *args, "--rules", str(rules))
    assert same == drifted and len(entries(cache)) == 3  # the rule set names its file
    other = repo_with_blob(tmp_path, mutated)
    args[args.index(str(mutated))] = str(other)
    code, moved, _ = run("check", *args)
    assert len(entries(cache)) == 4 and moved != drifted


def repo_with_blob(tmp_path: Path, mutated: Path) -> Path:
    """v5.10.37's file with a blank line on top: every line one further down."""
    import pygit2

    repo = pygit2.Repository(str(mutated))
    data = repo.revparse_single("v5.10.37").peel(pygit2.Commit).tree["mm/rmap.c"].data
    return make_repo(tmp_path / "other.git", {"v5.10.37": {"mm/rmap.c": b"\n" + data}})


def test_a_damaged_entry_is_checked_again(mutated: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = ["--tags", "v5.1", "--repo", str(mutated), "--offline", "--cache", str(cache)]
    fresh = run("check", *args, "--json")
    (entry,) = entries(cache)
    good = json.loads(entry.read_text())
    damaged = [
        b"",
        b"{not json",
        entry.read_bytes()[:-40],
        json.dumps({**good, "payload": {"check": {"tuple": "abc"}, "warning": None}}).encode(),
        json.dumps({**good, "payload": {"check": {"type": "TagCheck"}, "warning": None}}).encode(),
        json.dumps({**good, "payload": {"check": {"type": "Path"}, "warning": None}}).encode(),
        json.dumps({**good, "payload": {**good["payload"], "warning": 3}}).encode(),
    ]
    for garbage in damaged:
        entry.write_bytes(garbage)
        assert run("check", *args, "--json") == fresh
        assert json.loads(entry.read_text()) == good  # rewritten


def test_a_damaged_rule_set_entry_is_parsed_again(mutated: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = ["--tags", "v5.1", "--repo", str(mutated), "--offline", "--cache", str(cache)]
    fresh = run("check", *args)
    (entry,) = entries(cache, "digest")
    good = entry.read_bytes()
    doc = json.loads(good)
    for payload in ({}, {"target": 1, "path": "", "digest": ""}, {**doc["payload"], "x": ""}):
        entry.write_text(json.dumps({**doc, "payload": payload}))
        assert run("check", *args) == fresh
        assert entry.read_bytes() == good  # rewritten
    missing = run("check", *args, "--rules", str(tmp_path / "none.toml"))
    assert missing[0] == 2 and "cannot read rule file" in missing[2]


def test_the_packaged_rule_files_are_where_the_rule_sets_load_from(tmp_path: Path) -> None:
    from kvdiff.analyzers.analyze.ruleset import available_rule_sets, rules_dir

    sources = Sources(SourceConfig(cache=tmp_path / "c", upstreams=(), offline=True, quiet=True))
    for name in available_rule_sets():
        for _ in range(2):  # parsed, then from the cache
            ref = checkcache.rules_ref(sources, name, None)
            rules = load_rule_set(name)
            assert (ref.target, ref.path, ref.rules) == (rules.target, rules.path, rules)
            assert rules.source == str(rules_dir() / f"{name}.toml")


def test_the_codec_refuses_what_it_does_not_know() -> None:
    check = TagCheck("v5.1", (1, 2), (), ())
    assert checkcache.decode(checkcache.encode(check)) == check
    for value in (1.5, {"a": 1}, object(), Path("x")):
        with pytest.raises(TypeError):
            checkcache.encode(value)
    for data in ([1], {"tuple": 1}, {"type": "TagCheck", "tag": "x"}, {"list": [], "x": 1}):
        with pytest.raises((ValueError, TypeError)):
            checkcache.decode(data)


def test_a_hit_loads_no_parser(corpus_repo_args: list[str], tmp_path: Path) -> None:
    args = ["check", *corpus_repo_args, "--offline", "--cache", str(tmp_path / "c"), "-q"]
    code = (
        "import sys; from kvdiff.main import cli\n"
        f"try: cli.main({args!r})\n"
        "except SystemExit as e: assert e.code == 0, e.code\n"
        "print(sorted(m for m in sys.modules if m.startswith(('kvdiff.analyzers.parse.',"
        " 'kvdiff.analyzers.analyze.ruleset'))))"
    )
    loaded = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        loaded.append(proc.stdout.strip().splitlines()[-1])
    assert "kvdiff.analyzers.parse.branches" in loaded[0]  # the first run analysed
    assert loaded[1] == "[]"  # the second parsed neither C nor the rule set
    assert f"{len(TAGS)} tag(s)" in proc.stdout


def test_the_code_digest_covers_every_stage() -> None:
    files = code_files()
    stages = {f.split("/")[0] for f in files}
    assert {"parse", "analyze", "compare", "model", "present", "source", "jobs"} <= stages
    assert "analyze/rules/try_to_unmap_one.toml" in files and "concepts.py" in files
    assert not any("__pycache__" in f or f.endswith(".pyc") for f in files)
    assert len(code_digest()) == 64


def test_the_warning_of_a_function_defined_twice_comes_back(corpus: Path, tmp_path: Path) -> None:
    data = (corpus / "v5.10.37" / "mm" / "rmap.c").read_bytes()
    start = data.index(b"static bool try_to_unmap_one(")
    body = data[start : data.index(b"\n}\n", start) + 3]
    twice = data + b"\n#ifdef CONFIG_OTHER\n" + body + b"#endif\n"
    repo = make_repo(tmp_path / "twice.git", {"v5.10.37": {"mm/rmap.c": twice}})
    args = ["check", "--tags", "v5.10.37", "--repo", str(repo), "--offline"]
    args += ["--cache", str(tmp_path / "c")]
    fresh, cached = run(*args), run(*args)
    assert cached == fresh and len(entries(tmp_path / "c")) == 1
    assert "try_to_unmap_one is defined 2 times" in fresh[2]
