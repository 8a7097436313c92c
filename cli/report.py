"""`kvdiff report`: write the annotated static site (thin: the work is in analyzers/)."""

from __future__ import annotations

from pathlib import Path

import click
from kvdiff.analyzers.jobs.report import DEFAULT_FUNCTION, ReportRequest, report_pages
from kvdiff.analyzers.present.site.strings import LANGS
from kvdiff.analyzers.present.sitewriter import publish
from kvdiff.analyzers.source.repo import Sources

from .options import source_options

_FORCE = click.option(
    "--force",
    is_flag=True,
    help="Write into a non-empty --out kvdiff did not make, replacing same-named files.",
)


_LANG = click.option(
    "--lang",
    default="en",
    show_default=True,
    metavar="LANG[,LANG]",
    help=f"Site language ({', '.join(LANGS)}); several (en,ko) make one site with a language "
    "switch, the first at index.html, the others at NAME.<lang>.html.",
)


@click.command()
@click.option(
    "--tags",
    "tag_options",
    multiple=True,
    metavar="TAG[,TAG…]",
    help="Tags to report on, oldest first (repeatable; default: v2.6.7 v2.6.35 v5.1 v5.10.37).",
)
@click.option("--function", "function", default=DEFAULT_FUNCTION, show_default=True)
@click.option(
    "--file",
    "path",
    default=None,
    metavar="PATH",
    help="File defining it (default: its rule set's, else mm/rmap.c).",
)
@click.option(
    "--out",
    "out",
    default="site",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the site into.",
)
@_LANG
@click.option(
    "--pairs",
    "pair_options",
    multiple=True,
    metavar="A..B",
    help="Extra diff pages beyond each consecutive pair (repeatable).",
)
@click.option(
    "--history",
    "with_history",
    is_flag=True,
    help="Add history.html: every distinct version of the function over all available tags.",
)
@_FORCE
@source_options
def report(
    tag_options: tuple[str, ...],
    function: str,
    path: str | None,
    out: Path,
    lang: str,
    pair_options: tuple[str, ...],
    with_history: bool,
    force: bool,
    sources: Sources,
) -> None:
    """Write the annotated static site (open OUT/index.html)."""
    request = ReportRequest.from_options(
        tag_options, function, path, pair_options, lang, with_history
    )
    pages, warnings = report_pages(request, sources)
    for warning in warnings:
        click.echo(f"kvdiff: warning: {warning}", err=True)
    written = publish(pages, out, force=force)
    click.echo(f"wrote {len(written)} files to {out}/ (open {out / 'index.html'})")
