"""Derived outcomes kept in the result cache: the same outcomes after the round trip, a
repeated matrix served from the cache, a damaged entry computed again."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from kvdiff.analyzers.jobs.modelcache import outcome_from_plain, outcome_plain
from kvdiff.analyzers.model.interp.run import derived_matrix
from kvdiff.analyzers.source.config import SourceConfig
from kvdiff.analyzers.source.repo import Sources
from kvdiff.main import cli


def matrix(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["model", "--matrix", "--json", *args])
    return result.exit_code, result.output


def model_entries(cache: Path) -> list[Path]:
    return [
        p for p in (cache / "kvdiff-results").rglob("*.json") if b'"outcomes"' in p.read_bytes()
    ]


def test_every_corpus_outcome_survives_the_round_trip(upstream_repos: Path, tmp_path: Path) -> None:
    repos = tuple(upstream_repos / f"{n}.git" for n in ("stable", "history"))
    sources = Sources(
        SourceConfig(cache=tmp_path / "c.git", upstreams=(), repos=repos, offline=True)
    )
    tags = ("v2.6.7", "v2.6.35", "v5.1", "v5.10.37")
    outcomes = derived_matrix(lambda tag: lambda p: sources.read(tag, p).data, tags)
    assert len(outcomes) >= 32
    for o in outcomes:
        again = outcome_from_plain(json.loads(json.dumps(outcome_plain(o))))
        assert again == o and again.to_json() == o.to_json()


def test_a_repeated_matrix_comes_from_the_cache(
    corpus_repo_args: list[str], tmp_path: Path
) -> None:
    cache = tmp_path / "c.git"
    args = [*corpus_repo_args, "--cache", str(cache)]
    code, first = matrix(*args)
    assert code == 0, first
    entries = model_entries(cache)
    assert len(entries) == 4  # one per tag
    code, second = matrix(*args)
    assert (code, second) == (0, first)
    # The entry is what the second run printed: a change made in it shows.
    doc = json.loads(entries[0].read_bytes())
    doc["payload"]["outcomes"][0]["next_fault"] = "from the cache"
    entries[0].write_text(json.dumps(doc))
    code, third = matrix(*args)
    assert code == 0 and "from the cache" in third
    # Damaged entries are computed again, and the output is the first run's.
    for entry in entries:
        entry.write_bytes(b"{broken")
    code, fourth = matrix(*args)
    assert (code, fourth) == (0, first)
    # Another kernel configuration is another entry.
    code, other = matrix(*args, "--config", "CONFIG_MIGRATION=n")
    assert code == 0 and other != first and len(model_entries(cache)) == 8


def test_a_cached_matrix_loads_neither_the_models_nor_the_parser(
    corpus_repo_args: list[str], tmp_path: Path
) -> None:
    import subprocess
    import sys

    from conftest import REPO_ROOT

    args = ["model", "--matrix", *corpus_repo_args, "--cache", str(tmp_path / "c"), "-q"]
    code = (
        "import sys; from kvdiff.main import cli\n"
        f"try: cli.main({args!r})\n"
        "except SystemExit as e: assert not e.code, e.code\n"
        "print(sorted(m for m in sys.modules if m.startswith(('kvdiff.analyzers.model.',"
        " 'kvdiff.analyzers.parse.', 'kvdiff.analyzers.analyze.analysis'))))"
    )
    runs = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        runs.append((proc.stdout.strip().splitlines()[-1], proc.stdout.rsplit("\n[", 1)[0]))
    assert "kvdiff.analyzers.model.interp.run" in runs[0][0]  # the first run ran the model
    assert runs[1][0] == str(
        [f"kvdiff.analyzers.model.{m}" for m in ("encoding", "names", "outcome", "tables")]
    )
    assert runs[1][1] == runs[0][1]  # the same matrix


def test_the_scenario_names_are_the_scenarios() -> None:
    from kvdiff.analyzers.model import names, scenarios, tables, tagfacts
    from kvdiff.analyzers.model.callers import CALLER_PATHS

    assert tuple(s.name for s in scenarios.SCENARIOS) == names.SCENARIO_NAMES
    assert tables.fact_paths() == tuple(dict.fromkeys(tagfacts.FACT_PATHS + CALLER_PATHS))
    assert "include/linux/swapops.h" in tables.fact_paths()
