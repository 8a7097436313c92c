"""`kvdiff check`: compare the concept maps with the golden files, or for a tag without one with
the rules' history (exit 0/1/2)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from kvdiff.analyzers.compare import golden
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.jobs.checkcache import rules_ref, run_check_cached
from kvdiff.analyzers.present.check import check_json, check_junit, check_text
from kvdiff.analyzers.source.repo import Sources
from kvdiff.analyzers.versions import parse_version

if TYPE_CHECKING:  # imported when a tag is analysed: a cached check never loads the parser
    from kvdiff.analyzers.analyze.analysis import Analysis

from .completion import complete_function
from .options import resolve_tags, source_options, tags_option


@click.command()
@click.argument("function", required=False, shell_complete=complete_function)
@tags_option("Tags to check (default: those with a golden file).")
@click.option("--target", "target_option", default=None, hidden=True, help="Deprecated: FUNCTION.")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Rule file (default: analyzers/analyze/rules/FUNCTION.toml).",
)
@click.option(
    "--expected",
    "expected_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Golden directory (default: ./fixtures/expected, a kvdiff checkout's; not installed).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), default=None, help="JUnit XML."
)
@click.option("--update", is_flag=True, help="Rewrite the golden files (then review them!).")
@source_options
def check(
    function: str | None,
    tag_options: tuple[str, ...],
    target_option: str | None,
    rules_file: Path | None,
    expected_dir: Path | None,
    as_json: bool,
    junit: Path | None,
    update: bool,
    sources: Sources,
) -> None:
    """Re-analyse each tag and compare with its golden file, or, without one, with the rules'
    history (present, absent or moved at the tree's version): exit 0 clean, 1 drift, 2 bad input.

    FUNCTION names the rule set (default try_to_unmap_one: analyzers/analyze/rules/FUNCTION.toml).
    Default tags: those with a golden file for it. Line drift alone does not fail.
    """
    rules = rules_ref(sources, _target(function, target_option), rules_file)
    expected = expected_dir or golden.default_expected_dir()
    tags = _tags(tag_options, rules, expected, sources)
    if update:
        for path in golden.update(sources.read, rules.rules, tags, expected):
            click.echo(f"wrote {path} (review it against the source)")
        return
    result = run_check_cached(sources, rules, tags, expected, _definitions_warning, _warn)
    if junit is not None:
        try:
            junit.write_text(check_junit(result), encoding="utf-8")
        except OSError as exc:
            raise KvdiffError(f"cannot write {junit}: {exc.strerror}; check the path") from None
    if as_json:
        click.echo(check_json(result))
    else:
        click.echo(check_text(result), nl=False)
    sys.exit(1 if result.failed else 0)


def _target(function: str | None, target_option: str | None) -> str:
    """FUNCTION, or the old ``--target F`` spelling of it."""
    if function and target_option and function != target_option:
        raise KvdiffError(f"FUNCTION {function} and --target {target_option} disagree; give one")
    return function or target_option or "try_to_unmap_one"


def _definitions_warning(analysis: Analysis) -> str | None:
    from kvdiff.analyzers.present.branches_view import definitions_warning

    return definitions_warning(analysis)


def _warn(warning: str) -> None:
    click.echo(f"kvdiff: warning: {warning}", err=True)


def _tags(tag_options: tuple[str, ...], rules: Any, expected: Path, sources: Sources) -> list[str]:
    """The tags to check, made available in one batch (their trees, then the rule's file, and
    the Makefile of a tag not shaped like a version: it says which version the tree is)."""
    tags = list(resolve_tags(tag_options, sources)) or golden.golden_tags(expected, rules.target)
    if not tags:
        raise KvdiffError(
            f"no golden files for {rules.target} in {expected}; "
            "pass --tags (with --update to create them) or --expected DIR"
        )
    paths = [rules.path] + (["Makefile"] if any(parse_version(t) is None for t in tags) else [])
    sources.ensure_all(tags, paths)
    return tags
