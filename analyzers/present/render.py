"""Render a :class:`.site.views.Site` to files with jinja2 (autoescape on), deterministically.

Same site in, byte-identical files out: no timestamps, files written in a fixed order with "\\n"
newlines, and the static assets copied verbatim from the ``templates`` package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.present.site.views import Site
from kvdiff.analyzers.present.sitewriter import publish
from kvdiff.analyzers.present.textsafety import plain_html_text

STATIC = ("style.css", "site.js")


def environment() -> jinja2.Environment:
    root = resources.files("kvdiff.templates")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


class _UniqueNames(dict):
    """A dict that refuses a second page under one file name (one would silently replace the
    other)."""

    def __setitem__(self, name: str, text: str) -> None:
        if name in self:
            raise KvdiffError(f"two pages of the site would both be {name}; rename one of the tags")
        super().__setitem__(name, text)


def render_pages(site: Site) -> dict[str, str]:
    """File name -> content of every file of the site (HTML pages and static assets)."""
    env = environment()
    ctx = {"site": site, "t": site.strings, "nav": site.nav, "lang": site.lang}
    out = _UniqueNames()
    out["index.html"] = env.get_template("index.html.j2").render(page=site.index, **ctx)
    if site.question is not None:
        out[site.question.filename] = env.get_template("question.html.j2").render(
            page=site.question, **ctx
        )
    if site.history is not None:
        out[site.history.filename] = env.get_template("history.html.j2").render(
            page=site.history, **ctx
        )
    for page in site.tags:
        out[page.filename] = env.get_template("tag.html.j2").render(page=page, **ctx)
    for page in site.pairs:
        out[page.filename] = env.get_template("pair.html.j2").render(page=page, **ctx)
    root = resources.files("kvdiff.templates")
    for name in STATIC:
        out[name] = root.joinpath(name).read_text(encoding="utf-8")
    # Bidi controls outside code listings (titles, conditions, cards) become plain markers too.
    return {name: plain_html_text(text) for name, text in out.items()}


def write_site(site: Site, out_dir: Path, force: bool = False) -> tuple[Path, ...]:
    """Write every file of the site under ``out_dir`` atomically, touching only kvdiff's own
    files (see :mod:`analyzers.present.sitewriter`); returns the paths written, sorted."""
    return publish(render_pages(site), out_dir, force=force)
