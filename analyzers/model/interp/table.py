"""Load the declarative helper table (``analyzers/model/helpers.toml``, package data)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from kvdiff.analyzers.errors import KvdiffError

KINDS = frozenset(
    {
        "field", "set_field", "state", "const", "identity", "is_enabled", "config", "macro",
        "fallible", "entry", "swp_entry", "entry_offset_bits", "entry_to_pte", "pte_to_entry",
        "entry_part",
        "pte_bit", "pte_set_bits", "pte_pfn", "pte_read", "pte_get_clear", "pte_test_clear",
        "pte_write", "find_pte", "walk_done", "bug_on", "warn", "debug", "opaque", "effect",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Helper:
    name: str
    kind: str
    spec: Mapping[str, object]

    def get(self, key: str, default: object = None) -> object:
        return self.spec.get(key, default)


@dataclass(frozen=True)
class Constant:
    value: int
    cite: str


@dataclass(frozen=True)
class ConfigAssumption:
    value: bool
    assume: str


@dataclass(frozen=True)
class HelperTable:
    helpers: Mapping[str, Helper]
    constants: Mapping[str, Constant]
    config: Mapping[str, ConfigAssumption]
    parameters: Mapping[str, str]  # declared type -> role (page, vma, address, flags)

    def helper(self, name: str) -> Helper | None:
        return self.helpers.get(name)


def _parse(raw: Mapping[str, object], origin: str) -> HelperTable:
    helpers = {}
    for name, spec in dict(raw.get("helper", {})).items():
        kind = spec.get("kind")
        if kind not in KINDS:
            raise KvdiffError(f"{origin}: helper {name} has unknown kind {kind!r}")
        helpers[name] = Helper(name, kind, dict(spec))
    constants = {
        name: Constant(int(c["value"]), str(c.get("cite", "")))
        for name, c in dict(raw.get("constants", {})).items()
    }
    config = {
        name: ConfigAssumption(bool(c["value"]), str(c.get("assume", "")))
        for name, c in dict(raw.get("config", {})).items()
    }
    return HelperTable(helpers, constants, config, dict(raw.get("parameters", {})))


@cache
def load_table() -> HelperTable:
    """The table shipped with the package."""
    text = resources.files("kvdiff.analyzers.model").joinpath("helpers.toml").read_text()
    return _parse(tomllib.loads(text), "helpers.toml")


def table_from_text(text: str, origin: str = "<table>") -> HelperTable:
    return _parse(tomllib.loads(text), origin)
