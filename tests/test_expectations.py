"""Concept histories (rule ``[[history]]`` entries) and the version of a tree (its Makefile)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pygit2
import pytest
from click.testing import CliRunner
from kvdiff.analyzers.analyze.ruleset import load_rule_set, parse_rule_set
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.source.treeversion import makefile_version
from kvdiff.main import cli

RULES = load_rule_set()


def state(concept: str, version: str) -> str:
    epoch = RULES.concept(concept).expected_at(version)
    assert epoch is not None
    return epoch.state if epoch.state != "moved" else f"moved:{epoch.function}"


@pytest.mark.parametrize(
    ("concept", "version", "want"),
    [
        # 013339df116c: mainline from v5.11-rc1, 5.10.y from its backport in 5.10.4
        ("young", "v5.10", "present"),
        ("young", "v5.10.3", "present"),
        ("young", "v5.10.4", "absent"),
        ("young", "v5.10.107", "absent"),
        ("young", "v5.4.200", "present"),  # no backport listed for 5.4.y
        ("young", "v5.11-rc1", "absent"),
        ("young", "v5.11", "absent"),
        ("young", "v6.18.2", "absent"),
        ("gup", "v2.6.12", "present"),
        ("gup", "v2.6.13-rc1", "absent"),
        ("file", "v2.6.14.7", "absent"),
        ("file", "v2.6.15", "present"),
        ("migration", "v2.6.17", "absent"),
        ("migration", "v2.6.18-rc1", "present"),
        ("migration", "v5.13.19", "present"),
        ("migration", "v5.14-rc1", "moved:try_to_migrate_one"),
        ("device_migration", "v4.13", "absent"),
        ("device_migration", "v4.14", "present"),
        ("device_migration", "v5.19", "moved:try_to_migrate_one"),
        ("device_migration", "v6.14.3", "moved:try_to_migrate_one"),
        ("device_migration", "v6.15-rc1", "absent"),
        ("lazyfree", "v4.4.302", "absent"),
        ("lazyfree", "v4.5", "present"),
    ],
)
def test_history_ranges(concept: str, version: str, want: str):
    assert state(concept, version) == want


def test_placement_and_citations():
    mig = RULES.concept("migration")
    assert mig.expected_at("v4.2.8").outside == ()
    assert mig.expected_at("v4.9.118").outside == ("anon",)
    young = RULES.concept("young").expected_at("v5.10.107")
    assert young.cite("v5.10.107") == (
        'since v5.11-rc1 (013339df116c "mm/rmap: always do TTU_IGNORE_ACCESS") '
        "and in 5.10.y from its backport in v5.10.4"
    )
    assert "stable backports: v5.10.4" in young.cite("v6.1")
    first = RULES.concept("hwpoison").expected_at("v2.6.29")
    assert first.cite() == (
        'until v2.6.32-rc1 (888b9f7c5855 "HWPOISON: Handle hardware poisoned pages in '
        'try_to_unmap")'
    )
    # a tag that is no version: the ranges say nothing
    assert RULES.concept("young").expected_at("wild/anything") is None


def test_two_six_stable_series_count_three_numbers():
    rules = custom(
        HISTORY
        + '[[concept.anon.history]]\nstate = "absent"\nsince = "v2.6.33-rc1"\n'
        + 'stable = ["v2.6.32.5"]\n'
    )
    rule = rules.concept("anon")
    assert [rule.expected_at(v).state for v in ("v2.6.32.4", "v2.6.32.5", "v2.6.31.14")] == [
        "present",
        "absent",
        "present",
    ]
    assert rule.expected_at("v2.6.33").state == "absent"


META = '[meta]\nfunction = "f"\npath = "x.c"\n[concept.anon]\n[[concept.anon.match]]\n'
HISTORY = META + 'condition_calls = ["PageAnon"]\n[[concept.anon.history]]\nstate = "present"\n'


def custom(toml: str):
    return parse_rule_set(tomllib.loads(toml), source="test.toml", default_target="t")


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('[[concept.anon.history]]\nstate = "absent"\n', "needs since"),
        ('[[concept.anon.history]]\nstate = "gone"\nsince = "v5.1"\n', "'gone' is not one of"),
        ('[[concept.anon.history]]\nstate = "moved"\nsince = "v5.1"\n', "go together"),
        ('[[concept.anon.history]]\nstate = "absent"\nsince = "5.1"\n', "'5.1' is not a version"),
        ('[[concept.anon.history]]\nstate = "absent"\nsince = "v5.1"\nstable = ["x"]\n', "'x'"),
        ('[[concept.anon.history]]\nstate = "absent"\nsince = "v5.1"\nwhen = 1\n', "when"),
    ],
)
def test_bad_histories_are_one_line_errors(extra: str, words: str):
    with pytest.raises(KvdiffError) as exc:
        custom(HISTORY + extra)
    assert words in exc.value.message and "\n" not in exc.value.message


def test_history_order_and_form_are_checked():
    later = '[[concept.anon.history]]\nstate = "absent"\nsince = "v5.1"\n'
    earlier = '[[concept.anon.history]]\nstate = "present"\nsince = "v4.1"\n'
    with pytest.raises(KvdiffError, match="not after v5.1"):
        custom(HISTORY + later + earlier)
    first_since = META + '[[concept.anon.history]]\nstate = "present"\nsince = "v4.1"\n'
    with pytest.raises(KvdiffError, match="drop since"):
        custom(first_since)
    both = HISTORY.replace(
        "[[concept.anon.match]]", 'expected_absent = ["v2.6.7"]\n[[concept.anon.match]]'
    )
    with pytest.raises(KvdiffError, match="keep one of the two forms"):
        custom(both)


# -- which version is a tree --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("makefile", "version"),
    [
        (b"VERSION = 4\nPATCHLEVEL = 19\nSUBLEVEL = 110\nEXTRAVERSION =\nNAME = x\n", "v4.19.110"),
        (
            b"# SPDX-License-Identifier: GPL-2.0\nVERSION = 5\nPATCHLEVEL = 17\nSUBLEVEL = 0\n"
            b"EXTRAVERSION = -rc5\n",
            "v5.17-rc5",
        ),
        (b"VERSION = 2\nPATCHLEVEL = 6\nSUBLEVEL = 22\nEXTRAVERSION = .15\n", "v2.6.22.15"),
        (b"VERSION = 2\nPATCHLEVEL = 6\nSUBLEVEL = 16\nEXTRAVERSION = -rc3\n", "v2.6.16-rc3"),
        (b"VERSION = 4\nPATCHLEVEL = 18\nSUBLEVEL = 0\nEXTRAVERSION = -rt13\n", "v4.18"),
        (b"VERSION = 3\r\nPATCHLEVEL = 4\r\nSUBLEVEL = 5\r\nEXTRAVERSION =\r\n", "v3.4.5"),
        (b"VERSION = $(shell echo 5)\nPATCHLEVEL = 1\n", None),
        (b"all:\n\techo hi\n", None),
        (b"\n" * 10_000 + b"VERSION = 5\nPATCHLEVEL = 1\n", None),  # only the head is read
    ],
)
def test_makefile_version(makefile: bytes, version: str | None):
    assert makefile_version(makefile) == version


def test_a_tree_without_version_fails_check_with_one_reason(tmp_path: Path):
    repo = pygit2.init_repository(str(tmp_path / "r.git"), bare=True)
    sig = pygit2.Signature("t", "t@example.invalid", 0, 0)
    index = pygit2.Index()
    data = (Path(__file__).parent.parent / "fixtures" / "c" / "rules_folio.c").read_bytes()
    index.add(pygit2.IndexEntry("mm/rmap.c", repo.create_blob(data), pygit2.GIT_FILEMODE_BLOB))
    commit = repo.create_commit(None, sig, sig, "x", index.write_tree(repo), [])
    repo.create_tag("vendor/no-makefile", commit, pygit2.GIT_OBJECT_COMMIT, sig, "x")
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "--repo",
            str(tmp_path / "r.git"),
            "--offline",
            "--cache",
            str(tmp_path / "c"),
            "--expected",
            str(tmp_path / "none"),
            "--tags",
            "vendor/no-makefile",
            "--json",
        ],
    )
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    tag = doc["tags"][0]
    assert (tag["version"], tag["version_from"]) == (None, None)
    assert {f["kind"] for f in tag["findings"]} == {"version-unknown"}
    assert "no readable Makefile version" in tag["findings"][0]["message"]
