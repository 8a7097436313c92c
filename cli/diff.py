"""`kvdiff diff A B [FUNCTION]`: a function at two tags, concept sections first, then whole."""

from __future__ import annotations

import click
from kvdiff.analyzers.jobs.diff import build_diff
from kvdiff.analyzers.present.diff_view import render_json, render_text
from kvdiff.analyzers.present.schema import json_text
from kvdiff.analyzers.source.repo import Sources

from .completion import complete_function, complete_tag
from .options import source_options
from .output import COLOR_CHOICES, emit, terminal_width, use_color

_OPTIONS = (
    click.option(
        "--file",
        "path",
        default=None,
        metavar="PATH",
        help="File defining FUNCTION (default: its rule set's, else mm/rmap.c).",
    ),
    click.option(
        "--unified",
        "layout",
        flag_value="unified",
        default=True,
        help="One column: old lines then new lines (default).",
    ),
    click.option(
        "--side-by-side", "-y", "layout", flag_value="split", help="Two columns, old | new."
    ),
    click.option(
        "--context",
        "-U",
        default=3,
        show_default=True,
        type=click.IntRange(0, 10000),
        help="Unchanged lines kept around each change.",
    ),
    click.option(
        "--width",
        "-W",
        type=click.IntRange(40, 1000),
        default=None,
        help="Side-by-side width (default: the terminal's, else 160).",
    ),
    click.option(
        "--color",
        "color",
        type=click.Choice(COLOR_CHOICES),
        default="auto",
        show_default=True,
        help="Colour; auto honours NO_COLOR and needs a terminal.",
    ),
    click.option("--no-pager", is_flag=True, help="Never page long output."),
    click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see README)."),
)


def _diff_options(command):
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


@click.command()
@click.argument("a", shell_complete=complete_tag)
@click.argument("b", shell_complete=complete_tag)
@click.argument("function", default="try_to_unmap_one", shell_complete=complete_function)
@_diff_options
@source_options
def diff(
    a: str,
    b: str,
    function: str,
    path: str | None,
    layout: str,
    context: int,
    width: int | None,
    color: str,
    no_pager: bool,
    as_json: bool,
    sources: Sources,
) -> None:
    """Diff FUNCTION (default try_to_unmap_one) between tags A and B."""
    result = build_diff(sources, a, b, function, path)
    if as_json:
        click.echo(json_text(render_json(result)), nl=False)
        return
    colored = use_color(color)
    text = render_text(result, layout, width or terminal_width(), colored, context)
    emit(text, pager=not no_pager, color=colored)
