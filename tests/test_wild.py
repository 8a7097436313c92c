"""The wild dev set: 19 real mm/rmap.c trees (2.6.9 .. 6.18, vendor, Android, RT and distro forks).

Detection is checked against my judgement of each tree (``wildset.JUDGED``, read from the code),
through the version tags and through the vendor-style tags of the repository make-upstream
builds; ``kvdiff check`` runs on it without golden files; and trees mutated at test time from a
real file fail with a message that names the concept, the expectation and its commit.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pygit2
import pytest
import wildset
from click.testing import CliRunner
from kvdiff.main import cli

TREES = tuple(wildset.JUDGED)


@pytest.fixture(scope="session")
def wild(corpus: Path) -> Path:
    """../shared/kernel-wild (or $KVDIFF_WILD), next to the corpus; GPL input, read in place."""
    env = os.environ.get("KVDIFF_WILD")
    path = Path(env) if env else corpus.parent / "kernel-wild"
    if not (path / "MANIFEST.tsv").is_file() or not os.access(path / "make-upstream", os.X_OK):
        if env or os.environ.get("KVDIFF_CORPUS"):
            pytest.fail(
                f"the wild dev set at {path} is unusable (no MANIFEST.tsv or make-upstream)"
            )
        pytest.skip("no wild dev set: set KVDIFF_WILD or place it at ../shared/kernel-wild")
    return path


@pytest.fixture(scope="session")
def wild_repo(wild: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("wild")
    subprocess.run(
        [str(wild / "make-upstream"), str(wild), str(dest)], check=True, capture_output=True
    )
    return dest / "wild.git"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


def check_json(repo: Path, tmp_path: Path, *tags: str, extra: tuple[str, ...] = ()) -> dict:
    args = [
        "check",
        "--repo",
        str(repo),
        "--offline",
        "--cache",
        str(tmp_path / "cache"),
        "--expected",
        str(tmp_path / "no-goldens"),
        "--json",
        *extra,
    ]
    for tag in tags:
        args += ["--tags", tag]
    code, out, err = run(*args)
    doc = json.loads(out)
    assert code == (1 if doc["failed"] else 0), err
    return doc


def failures(doc: dict) -> set[tuple[str, str, str]]:
    return {
        (t["tag"], f["concept"], f["kind"])
        for t in doc["tags"]
        for f in t["findings"]
        if f["failed"]
    }


# -- detection against my judgement, tree by tree -------------------------------------------


@pytest.mark.parametrize("tree", TREES)
@pytest.mark.parametrize("concept", wildset.RULES.concept_ids)
def test_detection_matches_my_judgement(wild: Path, tree: str, concept: str):
    want = wildset.judged(tree)[concept]
    got = wildset.detected(wildset.analysis(wild, tree), concept)
    assert wildset.agrees(want, got), f"{tree} {concept}: judged {want}, kvdiff says {got}"


@pytest.mark.parametrize("tree", TREES)
def test_every_judged_state_is_what_the_rules_expect(wild: Path, tree: str):
    """The rules' history agrees with my reading: no concept is unexpected or lost where I
    judged it absent or present."""
    a = wildset.analysis(wild, tree)
    wrong = {s.concept: s.state for s in a.concepts if s.state in ("absent", "unexpected")}
    assert wrong == {}


# -- kvdiff check without golden files, through both kinds of tag -----------------------------


def test_check_without_goldens_passes_on_the_version_tags(wild: Path, wild_repo: Path, tmp_path):
    tags = [wildset.manifest(wild)[t][0] for t in TREES]
    doc = check_json(wild_repo, tmp_path, ",".join(tags))
    assert [t["tag"] for t in doc["tags"]] == tags
    assert {t["version_from"] for t in doc["tags"]} == {"tag"}
    assert {t["checked_against"] for t in doc["tags"]} == {"rules"}
    assert failures(doc) == set()


def test_vendor_tags_use_the_makefile_version(wild: Path, wild_repo: Path, tmp_path: Path):
    doc = check_json(wild_repo, tmp_path, "wild/*")
    by_tag = {t["tag"]: t for t in doc["tags"]}
    assert sorted(by_tag) == sorted(f"wild/{t}" for t in TREES)
    for tree in TREES:
        entry = by_tag[f"wild/{tree}"]
        assert entry["version_from"] == "Makefile"
        assert entry["version"] == "v" + wildset.manifest(wild)[tree][1]
    # the same verdicts as through the version tags: gup is expected-absent, not drift
    assert failures(doc) == set()
    oppo = by_tag["wild/oppo-msm-4.19.110"]["findings"]
    gup = next(f for f in oppo if f["concept"] == "gup")
    assert gup["kind"] == "ok" and "c475a8ab625d" in gup["message"]


def test_check_text_says_which_version_was_used(wild_repo: Path, tmp_path: Path):
    code, out, _ = run(
        "check",
        "--repo",
        str(wild_repo),
        "--offline",
        "--cache",
        str(tmp_path / "c"),
        "--expected",
        str(tmp_path / "none"),
        "--tags",
        "wild/rockchip-5.10.107",
    )
    assert code == 0
    assert out.startswith(
        "wild/rockchip-5.10.107: try_to_unmap_one lines 1387-1736 "
        "(version v5.10.107 from Makefile; checked against the rules' history)\n"
    )
    # the 5.10.y backport of 013339df116c, and the spans reported without judging them
    assert "young              absent as expected (since v5.11-rc1 (013339df116c" in out
    assert "and in 5.10.y from its backport in v5.10.4" in out
    assert "ok    migration          try_to_unmap_one 1612-1641" in out


def test_branches_on_a_repo_branch_says_the_makefile_version(wild: Path, wild_repo: Path, tmp_path):
    clone = tmp_path / "vendor"
    pygit2.clone_repository(str(wild_repo), str(clone))  # HEAD: the newest tree (6.18.2)
    code, out, _ = run(
        "branches",
        "--repo",
        str(clone),
        "--offline",
        "--cache",
        str(tmp_path / "c"),
        "--json",
        "HEAD",
    )
    assert code == 0
    doc = json.loads(out)
    assert (doc["version"], doc["version_from"]) == ("v6.18.2", "Makefile")
    assert doc["concepts"]["device_migration"]["state"] == "expected-absent"
    code, out, _ = run(
        "branches", "--repo", str(clone), "--offline", "--cache", str(tmp_path / "c"), "master"
    )
    assert code == 0 and "(version v6.18.2 from Makefile)" in out.splitlines()[0]


def test_glob_matching_nothing_is_one_line_error(wild_repo: Path, tmp_path: Path):
    code, _, err = run(
        "check",
        "--repo",
        str(wild_repo),
        "--offline",
        "--cache",
        str(tmp_path / "c"),
        "--tags",
        "v9.*",
    )
    assert code == 2 and "matches no tag" in err and err.count("\n") == 1


# -- mutated trees fail with a precise message -------------------------------------------------


MAKEFILE_5_1 = b"VERSION = 5\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION =\n"


def make_repo(root: Path, trees: dict[str, dict[str, bytes]]) -> Path:
    repo = pygit2.init_repository(str(root), bare=True)
    sig = pygit2.Signature("kvdiff test", "test@example.invalid", 0, 0)
    for tag, files in trees.items():
        index = pygit2.Index()
        for path, data in files.items():
            index.add(pygit2.IndexEntry(path, repo.create_blob(data), pygit2.GIT_FILEMODE_BLOB))
        commit = repo.create_commit(None, sig, sig, tag, index.write_tree(repo), [])
        repo.create_tag(tag, commit, pygit2.GIT_OBJECT_COMMIT, sig, tag)
    return root


def migration_inside_anon(text: str) -> str:
    """v5.1's `else if (IS_ENABLED(CONFIG_MIGRATION) && …) {…} else if (PageAnon(page)) {`
    rewritten so that the migration branch is the first statement of the PageAnon arm."""
    head, anon = "} else if (IS_ENABLED(CONFIG_MIGRATION) &&\n", "} else if (PageAnon(page)) {"
    i = text.index(head)
    j = text.index(anon, i)
    inner = text[i + len("} else ") : j]  # "if (…) { body\n\t\t"
    return text[:i] + anon + "\n\t\t\t" + inner + "}\n" + text[j + len(anon) :]


def test_mutated_trees_fail_with_a_precise_message(corpus: Path, tmp_path: Path):
    text = (corpus / "v5.1" / "mm" / "rmap.c").read_text(encoding="utf-8")
    hwp = "PageHWPoison(page) && !(flags & TTU_IGNORE_HWPOISON)"
    assert text.count(hwp) == 1 and text.count("pte_unused(pteval)") == 1
    mutants = {
        "vendor/deleted": text.replace(hwp, "0"),
        "vendor/changed": text.replace("pte_unused(pteval)", "pte_special(pteval)"),
        "vendor/moved": migration_inside_anon(text),
    }
    trees = {tag: {"mm/rmap.c": t.encode(), "Makefile": MAKEFILE_5_1} for tag, t in mutants.items()}
    trees["v5.12"] = {"mm/rmap.c": text.encode()}  # v5.1's code claimed to be 5.12
    repo = make_repo(tmp_path / "mut.git", trees)
    doc = check_json(repo, tmp_path, "vendor/*", "v5.12")
    assert failures(doc) == {
        ("vendor/deleted", "hwpoison", "concept-missing"),
        ("vendor/changed", "guest_unused", "concept-missing"),
        ("vendor/moved", "migration", "misplaced"),
        ("v5.12", "young", "unexpected"),
    }
    messages = {(t["tag"], f["concept"]): f["message"] for t in doc["tags"] for f in t["findings"]}
    assert messages[("vendor/deleted", "hwpoison")] == (
        'not found; the rules say present since v2.6.32-rc1 (888b9f7c5855 "HWPOISON: Handle '
        'hardware poisoned pages in try_to_unmap")'
    )
    assert "45961722f8e3" in messages[("vendor/changed", "guest_unused")]
    moved = messages[("vendor/moved", "migration")]
    assert "sits inside the anon arm" in moved and "since v4.5-rc1" in moved
    assert moved.startswith("1543-")  # the moved branch's own lines, in the mutated file
    young = messages[("v5.12", "young")]
    assert young.startswith("found at try_to_unmap_one ") and "013339df116c" in young
    # the other concepts still pass: the mutation is reported where it is, nowhere else
    assert all(t["version"] == "v5.1" for t in doc["tags"] if t["tag"].startswith("vendor/"))


@pytest.mark.parametrize("workers", [2, 3])
def test_history_over_the_wild_trees_is_the_same_in_workers(
    wild_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """The 19 vendor, Android, RT and distribution trees, under version and vendor-style tags:
    resolved and summarised by workers taking the tags from both ends, the timeline is the one
    made in order, byte for byte."""
    import kvdiff.analyzers.analyze.blobwork as blobwork

    args = ["history", "--repo", str(wild_repo), "--offline", "--quiet", "--json"]
    args += ["--cache", str(tmp_path / "c.git"), "--no-result-cache"]
    monkeypatch.setattr(blobwork, "SEGMENT_MIN", 10**9)
    code, serial, err = run(*args)
    assert code == 0, err
    doc = json.loads(serial)
    assert doc["tag_count"] >= 19 and len(doc["versions"]) > 5
    monkeypatch.setattr(blobwork, "SEGMENT_MIN", 2)
    monkeypatch.setattr(blobwork, "_workers", lambda: workers)
    code, parallel, err = run(*args)
    assert code == 0, err
    assert parallel == serial
