"""try_to_migrate_one() has its own rule set (analyze/rules/try_to_migrate_one.toml), and a
function with no rule set is looked for where the rule sets point (analyze/locate.py).

The expected lines were read in the kernel-wild trees (read in place at test time, via the
stand-in repository make-upstream builds; never copied).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from kvdiff.analyzers.analyze.locate import locate_function, naming_rule_sets
from kvdiff.main import cli


@pytest.fixture(scope="module")
def wild_repo(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    env = os.environ.get("KVDIFF_WILD")
    wild = Path(env) if env else corpus.parent / "kernel-wild"
    if not (wild / "make-upstream").is_file():
        if os.environ.get("KVDIFF_CORPUS") or env:
            pytest.fail(f"kernel-wild not usable at {wild} (no make-upstream)", pytrace=False)
        pytest.skip(f"no kernel-wild at {wild}: set KVDIFF_WILD")
    dest = tmp_path_factory.mktemp("wild")
    subprocess.run([str(wild / "make-upstream"), str(wild), str(dest)], check=True,
                   capture_output=True)  # fmt: skip
    cache = tmp_path_factory.mktemp("cache")
    return ["--repo", str(dest / "wild.git"), "--cache", str(cache / "c.git"), "--offline"]


def _branches(tag: str, function: str, args: list[str]) -> dict:
    result = CliRunner().invoke(cli, ["branches", tag, function, "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _lines(doc: dict) -> dict[str, list[int]]:
    """Concept -> the first lines of its hits."""
    return {
        c: [h["start_line"] for h in v["hits"]] for c, v in doc["concepts"].items() if v["hits"]
    }


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("tag", "expected", "absent"),
    [
        # 5.14.2 rmap.c: 1806 `if (is_zone_device_page(page)) {` (readable migration entry),
        # 1840 `} else if (PageHWPoison(page)) {`, 1852 `} else if (pte_unused(pteval) &&
        # !userfaultfd_armed(vma)) {`, 1867 `} else {` (make_*_migration_entry).
        (
            "v5.14.2",
            {
                "device_migration": [1806],
                "hwpoison": [1840],
                "guest_unused": [1852],
                "migration": [1867],
            },
            "anon_exclusive",
        ),  # fmt: skip
        # 6.1.20: 1997 `if (folio_is_device_private(folio)) {`; 2076 `if (anon_exclusive &&
        # page_try_share_anon_rmap(subpage)) {` restores the PTE, ret = false; break.
        (
            "v6.1.20",
            {
                "device_migration": [1997],
                "hwpoison": [2034],
                "guest_unused": [2044],
                "migration": [2059],
                "anon_exclusive": [2076],
            },
            None,
        ),  # fmt: skip
        # 6.18.2: no device-private arm; 2470 `if (PageHWPoison(subpage)) {`.
        (
            "v6.18.2",
            {
                "hwpoison": [2470],
                "guest_unused": [2482],
                "migration": [2495],
                "anon_exclusive": [2525],
            },
            "device_migration",
        ),  # fmt: skip
    ],
)
def test_try_to_migrate_one_concepts(wild_repo, tag: str, expected: dict, absent) -> None:
    doc = _branches(tag, "try_to_migrate_one", wild_repo)
    assert doc["path"] == "mm/rmap.c"
    assert _lines(doc) == expected
    if absent:
        assert doc["concepts"][absent]["state"] == "expected-absent"


@pytest.mark.corpus
def test_branches_text_without_file(wild_repo) -> None:
    result = CliRunner().invoke(cli, ["branches", "v5.17-rc5", "try_to_migrate_one", *wild_repo])
    assert result.exit_code == 0, result.output
    # 5.17-rc5 rmap.c:1838 `if (is_zone_device_page(page)) {`.
    assert "1838-1876    if is_zone_device_page(page)  [device_migration]" in result.stdout


@pytest.mark.corpus
def test_function_without_rule_set_is_found_in_the_named_directory(wild_repo) -> None:
    # do_swap_page.toml names migration_entry_wait (mm/memory.c); 5.14.2 defines it in
    # mm/migrate.c:321, the same directory.
    result = CliRunner().invoke(cli, ["branches", "v5.14.2", "migration_entry_wait", *wild_repo])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("migration_entry_wait() in mm/migrate.c at v5.14.2")
    # Named by try_to_unmap_one.toml, defined in neither mm/rmap.c nor another mm/*.c: the
    # error says where kvdiff looked.
    result = CliRunner().invoke(cli, ["branches", "v5.14.2", "swap_duplicate", *wild_repo])
    assert result.exit_code == 2
    assert "try_to_unmap_one (mm/rmap.c)" in result.stderr and "C files of mm/" in result.stderr
    assert "Traceback" not in result.output


def test_locate_reads_only_what_it_needs() -> None:
    assert ("mm/rmap.c", "try_to_unmap_one") in naming_rule_sets("try_to_migrate_one")
    files = {"mm/memory.c": b"int x;", "mm/a.c": b"/* foo( */", "mm/b.c": b"void foo(void) {}"}
    read_log: list[str] = []

    def read(path: str) -> bytes:
        read_log.append(path)
        if path not in files:
            raise FileNotFoundError(path)
        return files[path]

    def listing(folder: str) -> list[str]:
        return sorted(p.split("/")[1] for p in files if p.startswith(folder + "/"))

    # migration_entry_wait is named by do_swap_page.toml (mm/memory.c).
    files["mm/b.c"] = b"void migration_entry_wait(void) { }"
    assert locate_function("migration_entry_wait", "t", read, listing) == "mm/b.c"
    assert read_log[0] == "mm/memory.c"
    with pytest.raises(Exception, match="no rule set names no_such"):
        locate_function("no_such", "t", read, listing)
