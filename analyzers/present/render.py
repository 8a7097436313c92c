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


def render_pages(site: Site) -> dict[str, str]:
    """File name -> content of every file of the site (HTML pages and static assets)."""
    env = environment()
    ctx = {"site": site, "t": site.strings, "nav": site.nav, "lang": site.lang}
    out: dict[str, str] = {}
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
    return out


def write_site(site: Site, out_dir: Path) -> tuple[Path, ...]:
    """Write every file of the site under ``out_dir``; returns the paths written, sorted."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KvdiffError(
            f"cannot create output directory {out_dir}: {exc.strerror}; choose another --out"
        ) from None
    written = []
    for name, text in sorted(render_pages(site).items()):
        path = out_dir / name
        try:
            with path.open("w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        except OSError as exc:
            raise KvdiffError(
                f"cannot write {path}: {exc.strerror}; check permissions or choose another --out"
            ) from None
        written.append(path)
    return tuple(written)
