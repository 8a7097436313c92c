"""Render a :class:`.site.views.Site` to files with jinja2 (autoescape on), deterministically.

Same site in, byte-identical files out: no timestamps, files written in a fixed order with "\\n"
newlines, and the static assets copied verbatim from the ``templates`` package.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import NamedTuple

import jinja2
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.present.model_text import model_text
from kvdiff.analyzers.present.site.rows import RowBuilder
from kvdiff.analyzers.present.site.views import Site
from kvdiff.analyzers.present.sitewriter import publish
from kvdiff.analyzers.present.textsafety import has_bidi_bytes, plain_html_text

STATIC = ("style.css", "site.js", "favicon.svg")


def environment(template_cache: Path | None = None) -> jinja2.Environment:
    """The templates' environment. With ``template_cache`` (a directory in kvdiff's cache),
    compiled templates are kept there between runs (jinja2's bytecode cache: an entry is used
    only while its template's source checksum matches); compiling them costs more than
    rendering a small site."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(template_cache),
    )


def _bytecode_cache(directory: Path | None) -> jinja2.BytecodeCache | None:
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only cache only costs speed
    return _QuietBytecodeCache(str(directory))


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """A bytecode cache that never fails a run: a damaged entry (truncated, garbage) reads as a
    miss and is compiled again, and a write failure (a full or read-only disk) is ignored."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - anything unreadable is a miss
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


class _UniqueNames(dict):
    """A dict that refuses a second page under one file name (one would silently replace the
    other)."""

    def __setitem__(self, name: str, text: object) -> None:
        if name in self:
            raise KvdiffError(f"two pages of the site would both be {name}; rename one of the tags")
        super().__setitem__(name, text)


def render_pages(site: Site, template_cache: Path | None = None) -> dict[str, str]:
    """File name -> content of every file of the site (HTML pages and static assets). With
    translations, each other language's pages are NAME.<lang>.html, linked among themselves,
    and every page of every language has a switch to the same page in the others.
    ``template_cache``: where compiled templates are kept (see :func:`environment`)."""
    # Bidi controls outside code listings (titles, conditions, cards) become plain markers too.
    return {name: plain_html_text(text) for name, text in _rendered(site, template_cache)}


def render_files(site: Site, template_cache: Path | None = None) -> dict[str, bytes]:
    """:func:`render_pages` as the UTF-8 bytes the site writer writes (and the site cache
    keeps): each page encoded once, and looked at for bidi controls in that form."""
    out = {}
    for name, text in _rendered(site, template_cache):
        data = text.encode("utf-8")
        out[name] = plain_html_text(text).encode("utf-8") if has_bidi_bytes(data) else data
    return out


def _rendered(site: Site, template_cache: Path | None) -> Iterator[tuple[str, str]]:
    """(file name, text) of every file of the site, a page at a time: the caller is done with a
    page's text (megabytes for a pair page, as UCS-2) before the next is rendered."""
    sites = (site, *site.translations)
    languages = (
        tuple(Language(s.lang, s.strings["lang_name"]) for s in sites) if len(sites) > 1 else ()
    )
    seen = _UniqueNames()  # name -> True: refuses a second file under one name
    for one in sites:
        pages: Iterable[tuple[str, str]] = _render_site(one, languages, template_cache)
        if languages:
            # The links between a language's pages need the names of all of them first.
            done = _UniqueNames()
            for name, html in pages:
                done[name] = html
            names = set(done)
            lang, primary = one.lang, site.lang
            pages = [
                (localized(name, lang, primary), _resolve_links(html, lang, primary, names))
                for name, html in done.items()
            ]
        for name, html in pages:
            seen[name] = True
            yield name, html
    for name in STATIC:
        seen[name] = True
        yield name, (templates_dir() / name).read_text(encoding="utf-8")


@cache
def templates_dir() -> Path:
    """The installed ``kvdiff.templates`` package's folder, from its import spec: where
    ``importlib.resources.files`` finds it, without the imports of its readers."""
    spec = importlib.util.find_spec("kvdiff.templates")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not locations:
        raise KvdiffError("kvdiff's templates are not installed; reinstall kvdiff")
    return Path(locations[0])


class Language(NamedTuple):
    """One language of a multilingual site: its code and its name in itself (render's own
    record: a tuple, which is quicker to define than a dataclass)."""

    code: str
    name: str


def localized(name: str, lang: str, primary: str) -> str:
    """A page's file name in ``lang``: the primary language keeps the plain names."""
    return name if lang == primary else f"{name.removesuffix('.html')}.{lang}.html"


# href="PAGE.html#x" (a link inside the site) or href="ko:PAGE.html#x" (the language switch).
_HREF = re.compile(r'href="(?:([a-z]{2}):)?([^"#:/]+\.html)(#[^"]*)?"')


def _resolve_links(html: str, lang: str, primary: str, names: set[str]) -> str:
    """Point a page's links at its own language's pages, and the switch at the others'."""

    def fix(m: re.Match[str]) -> str:
        target_lang, name, frag = m.group(1) or lang, m.group(2), m.group(3) or ""
        if name not in names:
            return m.group(0)
        return f'href="{localized(name, target_lang, primary)}{frag}"'

    return _HREF.sub(fix, html)


def _render_site(
    site: Site, languages: tuple[Language, ...], template_cache: Path | None = None
) -> Iterator[tuple[str, str]]:
    """The HTML pages of one language's site, (file name, text), one at a time."""
    env = environment(template_cache)
    words = model_text(site.lang)  # the model's sentences and PTE words in the site's language
    env.filters.update(mt=words.message, md=words.decoded, mk=words.kind)
    ctx = {"site": site, "t": site.strings, "nav": site.nav, "lang": site.lang}
    ctx["languages"] = languages
    ctx["rows"] = RowBuilder(site.strings)  # code and diff rows, each built once
    yield "index.html", env.get_template("index.html.j2").render(page=site.index, **ctx)
    if site.question is not None:
        question = env.get_template("question.html.j2")
        yield site.question.filename, question.render(page=site.question, **ctx)
    if site.history is not None:
        history = env.get_template("history.html.j2")
        yield site.history.filename, history.render(page=site.history, **ctx)
    for page in site.tags:
        yield page.filename, env.get_template("tag.html.j2").render(page=page, **ctx)
    for page in site.pairs:
        yield page.filename, env.get_template("pair.html.j2").render(page=page, **ctx)


def write_site(site: Site, out_dir: Path, force: bool = False) -> tuple[Path, ...]:
    """Write every file of the site under ``out_dir`` atomically, touching only kvdiff's own
    files (see :mod:`analyzers.present.sitewriter`); returns the paths written, sorted."""
    return publish(render_pages(site), out_dir, force=force)
