"""The derived model reads the source, not the tag name: mutated copies of v5.1's mm/rmap.c.

At test time a git repository is built holding v5.1's corpus files under new tags, with
try_to_unmap_one() edited through its syntax tree (the corpus is read in place, never
committed to this project):
- ``v5.1-anon-first``: the migration arm and the PageAnon arm of the else-if chain swapped, so
  PageAnon is tested first, as v2.6.35 does: migrating a swap-cache page writes a swap entry;
- ``v5.1-no-young``: the ``if (!(flags & TTU_IGNORE_ACCESS))`` young check deleted, as
  v5.10.37 did: reclaim of a young PTE unmaps it.
The tags are read through ``--repo`` (kvdiff's own source layer). The header facts are v5.1's:
the copies' headers are v5.1's, byte for byte.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from kvdiff.analyzers.model import run_scenario
from kvdiff.analyzers.model.encoding import ModelConfig
from kvdiff.analyzers.model.interp.facts import tag_facts
from kvdiff.analyzers.model.interp.run import derived_outcome
from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import find_functions
from kvdiff.analyzers.source.repo import SourceConfig, Sources
from tree_sitter import Node

pytestmark = pytest.mark.corpus


def _ifs(node: Node):
    if node.type == "if_statement":
        yield node
    for c in node.children:
        yield from _ifs(c)


def _function(data: bytes) -> Node:
    return find_functions(parse_c(data), "try_to_unmap_one")[0].node


def swap_migration_and_anon(data: bytes) -> bytes:
    """Swap the (condition, body) of the migration arm and the PageAnon arm that follows it."""
    mig = next(
        n
        for n in _ifs(_function(data))
        if b"TTU_SPLIT_FREEZE))" in n.child_by_field_name("condition").text
    )
    anon = mig.child_by_field_name("alternative").named_children[-1]
    assert anon.child_by_field_name("condition").text == b"(PageAnon(page))"

    def span(n: Node) -> tuple[int, int]:
        return n.child_by_field_name("condition").start_byte, n.child_by_field_name(
            "consequence"
        ).end_byte

    (m0, m1), (a0, a1) = span(mig), span(anon)
    return data[:m0] + data[a0:a1] + data[m1:a0] + data[m0:m1] + data[a1:]


def delete_young_check(data: bytes) -> bytes:
    young = next(
        n
        for n in _ifs(_function(data))
        if n.child_by_field_name("condition").text == b"(!(flags & TTU_IGNORE_ACCESS))"
    )
    assert b"ptep_clear_flush_young_notify" in young.text
    return data[: young.start_byte] + data[young.end_byte :]


_ID = {"NAME": "t", "EMAIL": "t@example.invalid"}


def _git(repo: Path, *args: str) -> None:
    who = {f"GIT_{r}_{k}": v for r in ("AUTHOR", "COMMITTER") for k, v in _ID.items()}
    env = {**who, "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture(scope="module")
def mutated(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Sources:
    if shutil.which("git") is None:
        pytest.fail("git is not installed", pytrace=False)
    repo = tmp_path_factory.mktemp("mutated")
    _git(repo, "init", "-q")
    for tag, mutate in (
        ("v5.1-anon-first", swap_migration_and_anon),
        ("v5.1-no-young", delete_young_check),
    ):
        for f in (corpus / "v5.1").rglob("*"):
            if f.is_file():
                dest = repo / f.relative_to(corpus / "v5.1")
                dest.parent.mkdir(parents=True, exist_ok=True)
                data = f.read_bytes()
                dest.write_bytes(
                    mutate(data) if f.name == "rmap.c" and f.parent.name == "mm" else data
                )
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", tag)
        _git(repo, "tag", "-a", tag, "-m", tag)
    cache = tmp_path_factory.mktemp("cache") / "linux.git"
    return Sources(SourceConfig(cache=cache, upstreams=(), repos=(repo,), offline=True, quiet=True))


def _run(sources: Sources, tag: str, scenario: str):
    def read(path: str) -> bytes:
        return sources.read(tag, path).data

    config = ModelConfig()
    # The header facts are evaluated from the mutated tag's own headers (v5.1's bytes), under
    # the new tag name: nothing is looked up by tag.
    facts = tag_facts(read, tag, config)
    return derived_outcome(read, tag, scenario, config, facts=facts)


def test_anon_first_flips_migration_of_a_swapcache_page_to_a_swap_entry(mutated: Sources) -> None:
    assert run_scenario("v5.1", "migrate-anon-swapcache").decoded_after.kind == "migration"
    o = _run(mutated, "v5.1-anon-first", "migrate-anon-swapcache")
    assert o.undetermined == ""
    assert (o.decoded_after.text, o.ret) == ("swap(type 0, offset 0x1a2b)", "true")
    # The PageAnon arm is now tested (and taken) before the migration condition is reached.
    taken = [s.condition for s in o.trace if s.taken]
    assert "PageAnon(page)" in taken
    assert not any("TTU_SPLIT_FREEZE" in s.condition for s in o.trace)
    # Reclaim is unaffected by the swap: the migration condition was false there anyway.
    assert _run(mutated, "v5.1-anon-first", "reclaim-anon-swapcache").pte_after == (
        run_scenario("v5.1", "reclaim-anon-swapcache").pte_after
    )


def test_no_young_check_unmaps_a_young_pte(mutated: Sources) -> None:
    assert run_scenario("v5.1", "reclaim-young").ret == "false"
    o = _run(mutated, "v5.1-no-young", "reclaim-young")
    assert o.undetermined == ""
    assert (o.decoded_after.text, o.ret) == ("swap(type 0, offset 0x1a2b)", "true")
    assert not any("ptep_clear_flush_young_notify" in s.condition for s in o.trace)
