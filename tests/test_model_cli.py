"""`kvdiff model`: scenario output, --matrix, --json, one-line errors, source lines via --repo.

The derived model reads the source at each tag, so every run here reads the stand-in upstreams
through --repo with --offline (never the network); --reference runs the hand models.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from kvdiff.analyzers.model import MODEL_TAGS, SCENARIOS
from kvdiff.main import cli


def _run(*args: str):
    return CliRunner().invoke(cli, ["model", *args])


@pytest.fixture
def src(corpus_repo_args: list[str], tmp_path) -> list[str]:
    return [*corpus_repo_args, "--offline", "--quiet", "--cache", str(tmp_path / "linux.git")]


@pytest.mark.parametrize("mode", ["derived", "reference"])
def test_matrix_text_and_json(src: list[str], mode: str) -> None:
    extra = ["--reference"] if mode == "reference" else src
    r = _run("--matrix", *extra)
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
    j1, j2 = _run("--matrix", "--json", *extra), _run("--matrix", "--json", *extra)
    assert j1.exit_code == 0 and j1.output == j2.output
    doc = json.loads(j1.output)
    assert list(doc) == ["outcomes", "schema_version"] and doc["schema_version"] == 1
    outcomes = doc["outcomes"]
    assert len(outcomes) == len(SCENARIOS) * len(MODEL_TAGS)
    assert list(outcomes[0]) == sorted(outcomes[0])


@pytest.mark.parametrize("mode", ["derived", "reference"])
def test_scenario_without_source(src: list[str], mode: str) -> None:
    extra = ["--reference"] if mode == "reference" else src
    r = _run("v2.6.7", "--scenario", "gup-pinned", "--no-source", *extra)
    assert r.exit_code == 0, r.output
    assert "returns: SWAP_FAIL" in r.output
    assert "gup              mm/rmap.c:485   taken" in r.output
    assert "source of the branches" not in r.output
    r = _run("v2.6.7", "--scenario", "compaction-anon", "--no-source", *extra)
    assert r.exit_code == 0 and "not applicable" in r.output


def test_scenario_with_source_from_the_corpus(src: list[str]) -> None:
    args = ["v5.10.37", "--scenario", "reclaim-young", *src]
    r = _run(*args)
    assert r.exit_code == 0, r.output
    assert "anon             1617-1684  } else if (PageAnon(page)) {" in r.output
    j = _run(*args, "--json")
    doc = json.loads(j.output)
    # Only branches the rules label are listed: the taken `!(flags & TTU_IGNORE_MLOCK)` guard at
    # 1438 is not the mlock branch. anon and swapcache are the same 5.x branch (rmap.c:1617-1684).
    assert [s["start_line"] for s in doc["source"]] == [1617, 1617]
    # The lines that wrote the PTE, v5.10.37 mm/rmap.c: 1675 `swp_pte = swp_entry_to_pte(entry);`,
    # 1680 `set_pte_at(mm, address, pvmw.pte, swp_pte);` (the soft-dirty/uffd-wp `if` arms at
    # 1677/1679 belong to their own nested branches).
    writes = {w["line"]: w["text"] for w in doc["source"][0]["writes"]}
    assert writes[1675] == "swp_pte = swp_entry_to_pte(entry);"
    assert writes[1680] == "set_pte_at(mm, address, pvmw.pte, swp_pte);"
    assert doc["decoded_after"]["kind"] == "swap"


def test_bad_input_is_one_line_exit_2(src: list[str]) -> None:
    for args, needle in (
        (("v4.4", "--scenario", "reclaim-file", "--reference"), "v2.6.7, v2.6.35, v5.1, v5.10.37"),
        (("v4.4", "--scenario", "reclaim-file", *src), "v4.4"),
        (("--matrix", "--tags", "v5.1,v4.4", *src), "v4.4"),
        (("v5.1", "--scenario", "reclaim-file", "--tags", "v5.1"), "--tags goes with --matrix"),
        (("v5.1", "--scenario", "bogus"), "reclaim-anon-swapcache"),
        (("v5.1",), "--scenario"),
        ((), "--matrix"),
        (("v5.1", "--matrix"), "drop TAG"),
    ):
        r = _run(*args, "--no-source")
        assert r.exit_code == 2, (args, r.output)
        assert r.output.count("\n") == 1 and needle in r.output
        assert r.output.startswith("kvdiff: error: ")


def test_compaction_at_v2_6_35_points_at_the_lines_that_wrote_the_entry(
    corpus_repo_args: list[str], tmp_path
) -> None:
    """The issue's "done when": bits, decoding, and the v2.6.35 lines that wrote them.

    v2.6.35 mm/rmap.c: the PageAnon block (948-980) holds `else if (PAGE_MIGRATION)` (969-977),
    whose line 976 builds `make_migration_entry(page, pte_write(pteval))`; line 978, directly in
    the PageAnon block, writes it with `set_pte_at(..., swp_entry_to_pte(entry))`.
    Bits: MAX_SWAPFILES = 32 - 2 - 1 = 29 and SWP_MIGRATION_WRITE = 29 + 1 + 1 = 31
    (include/linux/swap.h:36-66); SWP_TYPE_BITS 5, SWP_OFFSET_SHIFT 9 (x86 pgtable_64.h:135-141):
    type at bits 1-5, offset = pfn 0x12345 from bit 9: (31 << 1) | (0x12345 << 9) = 0x2468a3e.
    """
    args = ["v2.6.35", "--scenario", "compaction-anon", *corpus_repo_args]
    args += ["--offline", "--quiet", "--cache", str(tmp_path / "linux.git")]
    r = _run(*args)
    assert r.exit_code == 0, r.output
    assert "after:   0x0000000002468a3e  migration(W, pfn 0x12345)" in r.output
    doc = json.loads(_run(*args, "--json").output)
    by_concept = {s["concept"]: s for s in doc["source"]}
    assert (by_concept["anon"]["start_line"], by_concept["anon"]["end_line"]) == (948, 980)
    assert (by_concept["migration"]["start_line"], by_concept["migration"]["end_line"]) == (
        969,
        977,
    )
    assert by_concept["migration"]["writes"] == [
        {"line": 976, "text": "entry = make_migration_entry(page, pte_write(pteval));"}
    ]
    assert {"line": 978, "text": "set_pte_at(mm, address, pte, swp_entry_to_pte(entry));"} in (
        by_concept["anon"]["writes"]
    )


def test_kconfig_option_changes_the_entry_numbers(src: list[str]) -> None:
    """`--kconfig` changes the swap type numbers, as Kconfig does.

    v5.1 include/linux/swap.h: MAX_SWAPFILES = (1 << 5) - SWP_DEVICE_NUM - SWP_MIGRATION_NUM -
    SWP_HWPOISON_NUM, SWP_MIGRATION_WRITE = MAX_SWAPFILES + SWP_HWPOISON_NUM + 1. All y:
    32 - 2 - 2 - 1 = 27, write = 29. CONFIG_DEVICE_PRIVATE=n: 32 - 0 - 2 - 1 = 29, write = 31.
    x86_64 5.x (pgtable_64.h): type in bits 59-63, offset (the pfn) inverted from bit 9, so the
    low bits are ~0x12345 << 9 = ...fdb97400 either way and only the top five bits differ.
    """
    base = ["v5.1", "--scenario", "compaction-anon", "--no-source", "--json", *src]
    default = json.loads(_run(*base).output)
    assert default["pte_after"] == "0xeffffffffdb97400"  # 29 << 59 = 0xe8...
    no_device = json.loads(_run(*base, "--kconfig", "CONFIG_DEVICE_PRIVATE=n").output)
    assert no_device["pte_after"] == "0xfffffffffdb97400"  # 31 << 59 = 0xf8...
    assert no_device["config"]["CONFIG_DEVICE_PRIVATE"] == "n"
    assert no_device["decoded_after"]["kind"] == "migration"
    # Without CONFIG_MIGRATION no caller passes TTU_MIGRATION: the scenario says so.
    off = json.loads(_run(*base, "--kconfig", "CONFIG_MIGRATION=n").output)
    assert off["applicable"] is False and off["reason"]
    for bad, needle in (("CONFIG_FOO=y", "unknown model option"), ("CONFIG_MIGRATION", "NAME=y")):
        r = _run(*base, "--kconfig", bad)
        assert r.exit_code == 2 and needle in r.output and r.output.count("\n") == 1
    # The old spelling still works, and says on stderr that it is going away.
    old = _run(*base, "--config", "CONFIG_DEVICE_PRIVATE=n")
    assert old.exit_code == 0 and json.loads(old.stdout) == no_device
    assert old.stderr == (
        "kvdiff: warning: --config CONFIG_X=y|n is deprecated and will go away; "
        "use --kconfig CONFIG_X=y|n\n"
    )
    assert "--config" not in _run("--help").output  # hidden: --kconfig is the documented one
