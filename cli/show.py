"""`kvdiff show TAG [FUNCTION]`: a function with real line numbers, after one header line."""

from __future__ import annotations

import click
from kvdiff.analyzers.present.listing import (
    bidi_warning_line,
    error_warning,
    header_line,
    list_function,
    listing_json,
    numbered_lines,
)
from kvdiff.analyzers.present.schema import json_text
from kvdiff.analyzers.source.repo import Sources

from .completion import complete_function, complete_tag
from .options import source_options
from .output import emit


@click.command()
@click.argument("tag", shell_complete=complete_tag)
@click.argument("function", default="try_to_unmap_one", shell_complete=complete_function)
@click.option("--file", "path", default="mm/rmap.c", show_default=True, help="File at TAG.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see README).")
@click.option("--no-pager", is_flag=True, help="Never page long output.")
@source_options
def show(
    tag: str, function: str, path: str, as_json: bool, no_pager: bool, sources: Sources
) -> None:
    """Print FUNCTION (default try_to_unmap_one) as defined in --file at TAG."""
    listing = list_function(sources.read(tag, path), function)
    for warning in (error_warning(listing), bidi_warning_line(listing)):
        if warning:
            click.echo(f"kvdiff: warning: {warning}", err=True)
    if as_json:
        click.echo(json_text(listing_json(listing)), nl=False)
        return
    emit("\n".join([header_line(listing), *numbered_lines(listing)]), pager=not no_pager)
