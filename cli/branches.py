"""`kvdiff branches TAG [FUNCTION]`: the function's branch tree with concept labels."""

from __future__ import annotations

import json
from pathlib import Path

import click

from analyzers.analysis import analyze_source
from analyzers.branches import render_text
from analyzers.ruleset import resolve_rule_set
from analyzers.source import Sources

from .options import source_options


@click.command()
@click.argument("tag")
@click.argument("function", required=False)
@click.option("--file", "path", default=None, help="File at TAG (default: the rule set's file).")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Rule file (default: analyzers/rules/<FUNCTION>.toml when there is one).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@source_options
def branches(
    tag: str,
    function: str | None,
    path: str | None,
    rules_file: Path | None,
    as_json: bool,
    sources: Sources,
) -> None:
    """Print FUNCTION's (default try_to_unmap_one) branch tree at TAG with real line numbers."""
    rules, function, path = resolve_rule_set(function, path, rules_file)
    analysis = analyze_source(sources.read(tag, path), rules, function)
    if analysis.errors:
        spans = ", ".join(f"{e.start_line}-{e.end_line}" for e in analysis.errors)
        click.echo(
            f"kvdiff: warning: tree-sitter could not parse lines {spans} of {function}; "
            "those lines are skipped",
            err=True,
        )
    if as_json:
        data = analysis.to_json()
        data["origin"] = analysis.origin
        data["rules"] = rules.target if rules.concepts else None
        data["tree"] = analysis.tree.to_json()
        click.echo(json.dumps(data, sort_keys=True, indent=2))
        return
    click.echo(
        f"{function}() in {path} at {tag} ({analysis.origin}, blob {analysis.blob_id[:12]}), "
        f"lines {analysis.start_line}-{analysis.end_line}"
    )
    click.echo(render_text(analysis.tree, analysis.branch_concepts()), nl=False)
    if rules.concepts:
        absent = [s for s in analysis.concepts if not any(not h.moved for h in s.hits)]
        for status in absent:
            where = f" in {status.hits[0].function}()" if status.hits else ""
            note = f": {status.note}" if status.note else ""
            click.echo(f"  {status.concept}: {status.state}{where}{note}")
