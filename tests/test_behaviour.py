"""``kvdiff history --behaviour``: per scenario, the tags at which the model's outcome changes.

What each change is was verified in the source (cited): the derived model runs the parsed
function at every tag, so these follow the code, not a table.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from kvdiff.analyzers.model.behaviour import Behaviour, scenario_timeline
from kvdiff.main import cli


def _history(args: list[str], *extra: str):
    result = CliRunner().invoke(cli, ["history", "--behaviour", "--no-result-cache", *args,
                                      "--offline", *extra])  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout


def _scenario(doc: dict, name: str) -> dict:
    return next(s for s in doc["behaviour"] if s["scenario"] == name)


@pytest.mark.corpus
def test_corpus_behaviour_changes(corpus_repo_args: list[str]) -> None:
    doc = json.loads(_history(corpus_repo_args, "--json"))
    assert doc["function"] == "try_to_unmap_one" and len(doc["versions"]) == 4
    # Migrating a swap-cache page: v2.6.35's PageAnon arm (rmap.c:948) tests PageSwapCache
    # (951) before `else if (PAGE_MIGRATION)` (969) and writes the real swap entry; v5.1 tests
    # TTU_MIGRATION first and writes a migration entry.
    m = _scenario(doc, "migrate-anon-swapcache")
    assert [(s["first_tag"], s["last_tag"], s["behaviour"]) for s in m["spans"]] == [
        ("v2.6.7", "v2.6.7", "not applicable"),
        ("v2.6.35", "v2.6.35", "swap entry, succeeds"),
        ("v5.1", "v5.10.37", "migration entry (write), succeeds"),
    ]
    assert m["changes"][1] == {"before_tag": "v2.6.35", "after_tag": "v5.1",
                               "before": "swap entry, succeeds",
                               "after": "migration entry (write), succeeds"}  # fmt: skip
    # The young-PTE bail-out: still at v5.1 (rmap.c:1481 ptep_clear_flush_young_notify), gone at
    # v5.10.37 (013339df116c backported to 5.10.y): reclaim of a young PTE now unmaps.
    y = _scenario(doc, "reclaim-young")
    assert [(s["last_tag"], s["behaviour"]) for s in y["spans"]] == [
        ("v5.1", "PTE kept, fails"),
        ("v5.10.37", "swap entry, succeeds"),
    ]
    assert "young" in y["spans"][0]["via"]
    # No migration before 2.6.35 in the corpus: the reason comes from the callers.
    assert "mm/migrate.c is not in the tree" in m["spans"][0]["detail"]


@pytest.mark.corpus
def test_corpus_behaviour_text_and_determinism(corpus_repo_args: list[str]) -> None:
    text = _history(corpus_repo_args)
    assert "behaviour of the derived model, per scenario (4 tags):" in text
    assert "reclaim-young: 1 change" in text
    assert "  v5.10.37           swap entry, succeeds via anon, swapcache" in text
    assert _history(corpus_repo_args) == text
    plain = CliRunner().invoke(cli, ["history", "--no-result-cache", *corpus_repo_args,
                                     "--offline"]).stdout  # fmt: skip
    assert text.startswith(plain) and "behaviour" not in plain


def test_spans_group_by_outcome_not_by_branch_labels() -> None:
    b = [
        Behaviour("v1", "PTE cleared, succeeds", (), "x"),
        Behaviour("v2", "PTE cleared, succeeds", ("file",), "x"),
        Behaviour("v3", "swap entry, succeeds", ("anon",), "y"),
        Behaviour("v4", "swap entry, succeeds", ("anon",), "y", "try_to_migrate_one"),
    ]
    t = scenario_timeline("s", b)
    assert [(s.first_tag, s.last_tag, s.via) for s in t.spans] == [
        ("v1", "v2", ("file",)),
        ("v3", "v3", ("anon",)),
        ("v4", "v4", ("anon",)),
    ]
    assert len(t.changes) == 2
