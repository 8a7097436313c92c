"""`kvdiff show TAG [FUNCTION]`: a function with real line numbers, after one header line."""

from __future__ import annotations

import json

import click
from kvdiff.analyzers.present.listing import (
    bidi_warning_line,
    error_warning,
    header_line,
    list_function,
    listing_json,
    numbered_lines,
)
from kvdiff.analyzers.source.repo import Sources

from .options import source_options


@click.command()
@click.argument("tag")
@click.argument("function", default="try_to_unmap_one")
@click.option("--file", "path", default="mm/rmap.c", show_default=True, help="File at TAG.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see README).")
@source_options
def show(tag: str, function: str, path: str, as_json: bool, sources: Sources) -> None:
    """Print FUNCTION (default try_to_unmap_one) as defined in --file at TAG."""
    listing = list_function(sources.read(tag, path), function)
    for warning in (error_warning(listing), bidi_warning_line(listing)):
        if warning:
            click.echo(f"kvdiff: warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(listing_json(listing), sort_keys=True, indent=2))
        return
    click.echo(header_line(listing))
    click.echo("\n".join(numbered_lines(listing)))
