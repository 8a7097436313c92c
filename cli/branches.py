"""`kvdiff branches TAG [FUNCTION]`: the function's branch tree with concept labels."""

from __future__ import annotations

from pathlib import Path

import click
from kvdiff.analyzers.analyze.analysis import analyze_source
from kvdiff.analyzers.analyze.ruleset import resolve_rule_set
from kvdiff.analyzers.present.branches_view import (
    branches_json,
    branches_text,
    definitions_warning,
    parse_warning,
)
from kvdiff.analyzers.present.schema import json_text
from kvdiff.analyzers.source.repo import Sources

from .completion import complete_function, complete_tag
from .options import source_options


@click.command()
@click.argument("tag", shell_complete=complete_tag)
@click.argument("function", required=False, shell_complete=complete_function)
@click.option("--file", "path", default=None, help="File at TAG (default: the rule set's file).")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Rule file (default: analyzers/analyze/rules/<FUNCTION>.toml when there is one).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--definition",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Which definition to use when FUNCTION is defined several times (default: the first).",
)
@source_options
def branches(
    tag: str,
    function: str | None,
    path: str | None,
    rules_file: Path | None,
    as_json: bool,
    definition: int | None,
    sources: Sources,
) -> None:
    """Print FUNCTION's (default try_to_unmap_one) branch tree at TAG with real line numbers."""
    rules, function, path = resolve_rule_set(function, path, rules_file)
    analysis = analyze_source(sources.read(tag, path), rules, function, definition)
    for warning in (definitions_warning(analysis, "--definition N"), parse_warning(analysis)):
        if warning:
            click.echo(f"kvdiff: warning: {warning}", err=True)
    if as_json:
        click.echo(json_text(branches_json(analysis, rules)), nl=False)
    else:
        click.echo(branches_text(analysis, rules), nl=False)
