"""The result cache's key covers the engine: its file list is derived, and any change to any
engine file (parse and analyze stages, rule sets, shared vocabulary) changes the digest."""

from __future__ import annotations

from pathlib import Path

import kvdiff.analyzers.analyze.summaries as summaries
import pytest

ANALYZERS = Path(summaries.__file__).resolve().parent.parent


def test_the_engine_file_list_is_every_parse_and_analyze_module() -> None:
    files = set(summaries.engine_files())
    expected = {
        *ANALYZERS.glob("parse/*.py"),
        *ANALYZERS.glob("analyze/*.py"),
        *ANALYZERS.glob("analyze/rules/*.toml"),
        ANALYZERS / "concepts.py",
        ANALYZERS / "versions.py",
    }
    assert files == expected
    names = {p.name for p in files}
    # the modules whose change alters a summary, wherever they moved
    for module in ("summaries.py", "analysis.py", "ruleset.py", "branches.py", "cparse.py"):
        assert module in names
    assert "try_to_unmap_one.toml" in names
    assert all(p.is_file() for p in files)


def test_a_change_in_any_engine_file_changes_the_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    base = summaries.rule_digest()
    real = Path.read_bytes
    seen = set()
    for target in summaries.engine_files():

        def edited(self: Path, target: Path = target) -> bytes:
            data = real(self)
            return data + b"\n# edited\n" if self == target else data

        monkeypatch.setattr(Path, "read_bytes", edited)
        digest = summaries.rule_digest()
        assert digest != base, f"editing {target.name} left the result-cache digest unchanged"
        seen.add(digest)
        monkeypatch.setattr(Path, "read_bytes", real)
    assert len(seen) == len(summaries.engine_files())
    assert summaries.rule_digest() == base


def test_an_extra_rules_file_joins_the_digest(tmp_path: Path) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text("a = 1\n")
    first = summaries.rule_digest([rules])
    rules.write_text("a = 2\n")
    assert summaries.rule_digest([rules]) != first != summaries.rule_digest()
