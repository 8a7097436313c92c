"""The model's packaged tables (``headers.toml``, ``callers.toml``) and the files they name.

Kept apart from the modules that evaluate them (``tagfacts``, ``callers``), so that a run whose
outcomes come from the result cache can still say which files the facts are read from (to make
them available in one batch) without loading the preprocessor and the caller walker.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources

RMAP = "mm/rmap.c"
RMAP_H = "include/linux/rmap.h"


def _table(name: str) -> Mapping[str, object]:
    return tomllib.loads(resources.files("kvdiff.analyzers.model").joinpath(name).read_text())


@cache
def header_data() -> Mapping[str, object]:
    """model/headers.toml (package data)."""
    return _table("headers.toml")


@cache
def callers_table() -> Mapping[str, object]:
    """model/callers.toml (package data)."""
    return _table("callers.toml")


def header_paths() -> tuple[str, ...]:
    """The headers the facts of a tag are read from."""
    p = header_data()["paths"]
    return tuple(dict.fromkeys([*p["linux"], *p["arch_roots"], *p["arch_optional"], p["version"]]))


def caller_paths() -> tuple[str, ...]:
    """The files ``callers.find_callers()`` may read."""
    kinds = callers_table()["kinds"].values()
    return tuple(dict.fromkeys([k["file"] for k in kinds] + ["mm/Makefile", RMAP, RMAP_H]))


def fact_paths() -> tuple[str, ...]:
    """The files the facts of any tag are read from: headers and callers (for prefetching)."""
    return tuple(dict.fromkeys(header_paths() + caller_paths()))
