"""Parsed TOML kept in the result cache: the same document (values, types, key order) as
tomllib gives, a damaged entry is a miss, a document JSON cannot carry exactly is not kept."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from kvdiff.analyzers.analyze.resultcache import ResultCache
from kvdiff.analyzers.present.annotations import ANNOTATIONS_DIR, load_annotations
from kvdiff.analyzers.present.tomlcache import load_toml


def entries(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.json"))


def test_the_annotations_come_back_as_tomllib_parses_them(tmp_path: Path) -> None:
    text = (ANNOTATIONS_DIR / "try_to_unmap_one.toml").read_text(encoding="utf-8")
    cache = ResultCache(tmp_path)
    fresh = load_toml(text, cache)
    [entry] = entries(tmp_path)
    again = load_toml(text, cache)
    assert cache.hits == 1
    assert again == fresh == tomllib.loads(text)
    assert repr(again) == repr(fresh)  # key order and types too
    assert load_annotations(cache=cache) == load_annotations()
    entry.write_bytes(entry.read_bytes()[:-20])  # cut off: parsed again, kept again
    assert load_toml(text, cache) == fresh
    assert load_toml(text, cache) == fresh and cache.hits == 3  # load_annotations hit too


def test_what_json_cannot_carry_is_not_kept(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    text = 'when = 1979-05-27\nx = "y"\n'
    assert load_toml(text, cache) == tomllib.loads(text)
    assert entries(tmp_path) == []
    with pytest.raises(tomllib.TOMLDecodeError):
        load_toml("x = = 1", cache)
