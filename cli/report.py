"""`kvdiff report`: write the annotated static site (thin: the work is in analyzers/)."""

from __future__ import annotations

from pathlib import Path

import click
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.jobs.report import DEFAULT_FUNCTION, ReportRequest, report_pages
from kvdiff.analyzers.present.report_view import report_json, report_line
from kvdiff.analyzers.present.site.strings import LANGS
from kvdiff.analyzers.present.sitewriter import publish
from kvdiff.analyzers.source.repo import Sources

from .completion import complete_function
from .options import resolve_tags, source_options, tags_option

_OPTIONS = (
    click.option(
        "--file",
        "path",
        default=None,
        metavar="PATH",
        help="File defining it (default: its rule set's, else mm/rmap.c).",
    ),
    click.option(
        "--out",
        "out",
        default="site",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Directory to write the site into.",
    ),
    click.option(
        "--lang",
        default="en",
        show_default=True,
        metavar="LANG[,LANG]",
        help=f"Site language ({', '.join(LANGS)}); several (en,ko) make one site with a language "
        "switch, the first at index.html, the others at NAME.<lang>.html.",
    ),
    click.option(
        "--pairs",
        "pair_options",
        multiple=True,
        metavar="A..B",
        help="Extra diff pages beyond each consecutive pair (repeatable).",
    ),
    click.option(
        "--history",
        "with_history",
        is_flag=True,
        help="Add history.html: every distinct version of the function over all available tags.",
    ),
    click.option(
        "--force",
        is_flag=True,
        help="Write into a non-empty --out kvdiff did not make, replacing same-named files.",
    ),
    click.option("--json", "as_json", is_flag=True, help="Say what was written, as JSON (README)."),
)


def _report_options(command):  # noqa: ANN001, ANN202
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


@click.command()
@click.argument("function", required=False, shell_complete=complete_function)
@tags_option("Tags to report on, oldest first (default: v2.6.7,v2.6.35,v5.1,v5.10.37).")
@click.option(
    "--function", "function_option", default=None, hidden=True, help="Deprecated: FUNCTION."
)
@_report_options
@source_options
def report(
    function: str | None,
    tag_options: tuple[str, ...],
    function_option: str | None,
    path: str | None,
    out: Path,
    lang: str,
    pair_options: tuple[str, ...],
    with_history: bool,
    force: bool,
    as_json: bool,
    sources: Sources,
) -> None:
    """Write the annotated static site of FUNCTION (default try_to_unmap_one; open
    OUT/index.html)."""
    request = ReportRequest.from_options(
        resolve_tags(tag_options, sources),
        _function(function, function_option),
        path,
        pair_options,
        lang,
        with_history,
    )
    # --json describes the site it built, so it renders; otherwise a repeated report with
    # nothing changed is served from the site cache.
    pages, warnings, site = report_pages(request, sources, cached=not as_json)
    for warning in warnings:
        click.echo(f"kvdiff: warning: {warning}", err=True)
    written = publish(pages, out, force=force)
    if as_json:
        assert site is not None  # rendered, not cached
        click.echo(report_json(site, written, out), nl=False)
    else:
        click.echo(report_line(written, out))


def _function(argument: str | None, option: str | None) -> str:
    """FUNCTION, or the old ``--function F`` spelling of it (kept so scripts keep working)."""
    if argument and option and argument != option:
        raise KvdiffError(
            f"FUNCTION {argument} and --function {option} disagree; give FUNCTION only"
        )
    return argument or option or DEFAULT_FUNCTION
