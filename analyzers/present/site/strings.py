"""The site's words and names: UI strings per language, file names and anchors, small formats."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

from kvdiff.analyzers.errors import KvdiffError

LANGS: tuple[str, ...] = ("en", "ko")
HISTORY_FILENAME = "history.html"


def load_strings(lang: str) -> dict[str, str]:
    """UI strings for ``lang`` from ``analyzers/present/i18n/<lang>.toml``."""
    if lang not in LANGS:
        raise KvdiffError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    data = resources.files("kvdiff.analyzers.present").joinpath("i18n", f"{lang}.toml").read_bytes()
    return dict(tomllib.loads(data.decode("utf-8"))["strings"])


def fmt(strings: Mapping[str, str], key: str, **kw: Any) -> str:
    return strings[key].format(**kw)


def hex64(value: int) -> str:
    return f"0x{value:016x}"


def state_label(strings: Mapping[str, str], state: str) -> str:
    return strings.get(f"state_{state.replace('-', '_')}", state)


def slug(text: str) -> str:
    """A file-name and id safe form of a tag or scenario name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def tag_filename(tag: str) -> str:
    return f"tag-{slug(tag)}.html"


def pair_filename(a: str, b: str) -> str:
    return f"diff-{slug(a)}--{slug(b)}.html"


def trace_anchor(scenario: str) -> str:
    return f"trace-{slug(scenario)}"
