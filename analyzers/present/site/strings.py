"""The site's words and names: UI strings per language, file names and anchors, small formats."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kvdiff.analyzers.errors import KvdiffError

if TYPE_CHECKING:
    from kvdiff.analyzers.analyze.resultcache import ResultCache

LANGS: tuple[str, ...] = ("en", "ko")
HISTORY_FILENAME = "history.html"


def load_strings(lang: str, cache: ResultCache | None = None) -> dict[str, str]:
    """UI strings for ``lang`` from ``analyzers/present/i18n/<lang>.toml`` (``cache``: see
    :func:`i18n_table`)."""
    if lang not in LANGS:
        raise KvdiffError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    return dict(i18n_table(lang, cache)["strings"])


# The UI strings and the model's words share the file: parsed once per run.
_TABLES: dict[str, Mapping[str, Any]] = {}


def i18n_table(lang: str, cache: ResultCache | None = None) -> Mapping[str, Any]:
    """``analyzers/present/i18n/<lang>.toml``, parsed (not to be changed): through ``cache``
    when one is given (the result cache: see :mod:`.tomlcache`), even when a call without one
    parsed it already, so that the next run finds the entry; else as the last call read it.
    The file is in the package's folder, found from this module as importlib.resources finds
    it, without its readers' imports."""
    table = _TABLES.get(lang) if cache is None else None
    if table is None:
        # Loaded here, not with the module: a report served from the site cache needs LANGS only.
        from kvdiff.analyzers.present.tomlcache import load_toml

        path = Path(__file__).parent.parent / "i18n" / f"{lang}.toml"
        table = _TABLES[lang] = load_toml(path.read_bytes().decode("utf-8"), cache)
    return table


def fmt(strings: Mapping[str, str], key: str, **kw: Any) -> str:
    return strings[key].format(**kw)


def hex64(value: int) -> str:
    return f"0x{value:016x}"


def state_label(strings: Mapping[str, str], state: str) -> str:
    return strings.get(f"state_{state.replace('-', '_')}", state)


def slug(text: str) -> str:
    """An id-safe form of a concept or scenario name (anchors inside a page)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


@cache  # every trace step's link names its tag's page
def page_slug(text: str) -> str:
    """A file-name form of a tag, one-to-one so that no two tags share a page: any other byte
    becomes ``_XX`` (hex; ``_`` itself too, so ``a/b`` and ``a_b`` differ), and so does a ``-`` at
    either end or next to another ``-``, which keeps the ``--`` of ``diff-A--B.html``
    unambiguous."""
    out = []
    for i, ch in enumerate(text):
        dash_ok = ch == "-" and 0 < i < len(text) - 1 and "-" not in (text[i - 1], text[i + 1])
        if dash_ok or (ch.isascii() and (ch.isalnum() or ch == ".")):
            out.append(ch)
        else:
            out.extend(f"_{b:02x}" for b in ch.encode("utf-8"))
    return "".join(out)


def tag_filename(tag: str) -> str:
    return f"tag-{page_slug(tag)}.html"


def pair_filename(a: str, b: str) -> str:
    return f"diff-{page_slug(a)}--{page_slug(b)}.html"


def trace_anchor(scenario: str) -> str:
    return f"trace-{slug(scenario)}"
