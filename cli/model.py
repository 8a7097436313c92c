"""`kvdiff model`: run the model of try_to_unmap_one, derived from the source at any tag.

``--reference`` runs the hand-written reference models instead (the four corpus tags only).
"""

from __future__ import annotations

import click
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.jobs.modelcache import derived_matrix_cached
from kvdiff.analyzers.model import MODEL_TARGET
from kvdiff.analyzers.model.encoding import KCONFIG_FIELDS, MODEL_TAGS, ModelConfig, check_tag
from kvdiff.analyzers.model.names import SCENARIO_NAMES
from kvdiff.analyzers.model.tables import fact_paths
from kvdiff.analyzers.present.model_view import (
    matrix_json_text,
    matrix_text,
    outcome_text,
    taken_source_lines,
    to_json_text,
)
from kvdiff.analyzers.present.usage import deprecated_line
from kvdiff.analyzers.source.repo import Sources

from .completion import complete_scenario, complete_tag
from .options import resolve_tags, source_options, tags_option


def _parse_kconfig(option: str) -> tuple[str, bool]:
    name, sep, value = option.partition("=")
    if not sep or value not in ("y", "n"):
        raise KvdiffError(
            f"--kconfig {option!r} is not NAME=y or NAME=n; "
            "write e.g. --kconfig CONFIG_MEMORY_FAILURE=n"
        )
    return name, value == "y"


def _kconfig(kconfig: tuple[str, ...], old: tuple[str, ...]) -> ModelConfig:
    """The kernel options the entry numbers assume; ``--config`` is the old spelling."""
    if old:
        click.echo(deprecated_line("--config CONFIG_X=y|n", "--kconfig CONFIG_X=y|n"), err=True)
    return ModelConfig.from_kconfig(dict(_parse_kconfig(o) for o in (*old, *kconfig)))


@click.command("model")
@click.argument("tag", required=False, shell_complete=complete_tag)
@click.option(
    "--scenario",
    metavar="NAME",
    help=f"One of: {', '.join(SCENARIO_NAMES)}.",
    shell_complete=complete_scenario,
)
@click.option("--matrix", "show_matrix", is_flag=True, help="Every scenario at every tag.")
@tags_option(f"Tags for --matrix (default: {','.join(MODEL_TAGS)}).", name="tags_option")
@click.option(
    "--reference",
    is_flag=True,
    help="Run the hand-written reference models (four tags) instead of the derived model.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON output (sorted keys).")
@click.option("--no-source", is_flag=True, help="Do not read the source for the branches taken.")
@click.option(
    "--kconfig",
    "kconfig_options",
    multiple=True,
    metavar="CONFIG_X=y|n",
    help=f"Kernel option the entry numbers assume (repeatable; all y by default): "
    f"{', '.join(KCONFIG_FIELDS)}.",
)
@click.option("--config", "config_options", multiple=True, hidden=True, help="Old --kconfig.")
@source_options
def model(
    tag: str | None,
    scenario: str | None,
    show_matrix: bool,
    tags_option: tuple[str, ...],
    reference: bool,
    as_json: bool,
    no_source: bool,
    kconfig_options: tuple[str, ...],
    config_options: tuple[str, ...],
    sources: Sources,
) -> None:
    """Run the model of try_to_unmap_one at TAG on a scenario, or print the --matrix."""
    config = _kconfig(kconfig_options, config_options)
    if show_matrix:
        if tag or scenario:
            raise KvdiffError("--matrix runs every tag and scenario; drop TAG and --scenario")
        tags = resolve_tags(tags_option, sources) or MODEL_TAGS
        outcomes = _matrix(sources, tags, reference, config)
        if as_json:
            click.echo(matrix_json_text([o.to_json() for o in outcomes]), nl=False)
        else:
            click.echo(matrix_text(outcomes), nl=False)
        return
    _check_single(tag, scenario, tags_option, reference)
    _print_outcome(_single(sources, tag, scenario, reference, config), sources, no_source, as_json)


def _single(sources: Sources, tag: str, scenario: str, reference: bool, config: ModelConfig):
    """One scenario at one tag. The models and the interpreter are imported here: the matrix
    from cached outcomes needs neither."""
    if reference:
        from kvdiff.analyzers.model.scenarios import run_scenario

        return run_scenario(tag, scenario, config)
    from kvdiff.analyzers.model.interp.run import derived_outcome

    sources.ensure_all([tag], _derived_paths())
    return derived_outcome(_reader_for(sources)(tag), tag, scenario, config)


def _check_single(tag: str | None, scenario: str | None, tags: tuple, reference: bool) -> None:
    if not tag:
        raise KvdiffError("no tag given: run `kvdiff model TAG --scenario NAME` or --matrix")
    if tags:
        raise KvdiffError("--tags goes with --matrix; for one tag pass TAG")
    if reference:
        check_tag(tag)
    if not scenario:
        raise KvdiffError(
            f"no scenario given: pass --scenario with one of {', '.join(SCENARIO_NAMES)}"
        )
    from kvdiff.analyzers.model.scenarios import get_scenario

    get_scenario(scenario)


def _reader_for(sources: Sources):
    """tag -> read(path) -> the file's bytes at that tag (the derived model's only input)."""

    def reader_for(tag: str):
        return lambda path: sources.read(tag, path).data

    return reader_for


def _matrix(sources: Sources, tags: tuple[str, ...], reference: bool, config: ModelConfig):
    if reference:
        from kvdiff.analyzers.model.scenarios import matrix

        for t in tags:
            check_tag(t)
        return tuple(o for o in matrix(config) if o.tag in tags)
    # One batch for every tag's files; outcomes from the result cache when a run made them.
    return derived_matrix_cached(sources, tags, config)


def _derived_paths() -> list[str]:
    return [MODEL_TARGET[1], *fact_paths()]


def _print_outcome(outcome, sources: Sources, no_source: bool, as_json: bool) -> None:
    from kvdiff.analyzers.analyze.analysis import analyze_source, load_rule_set
    from kvdiff.analyzers.analyze.ruleset import rules_for
    from kvdiff.analyzers.present.branches_view import definitions_warning

    source = None
    if not no_source and outcome.applicable:
        # The rules of the function that ran (try_to_migrate_one for migration from v5.14).
        rules = rules_for(outcome.function, None) if outcome.function else None
        rules = rules or load_rule_set()
        src = sources.read(outcome.tag, rules.path)
        analysis = analyze_source(src, rules)
        warning = definitions_warning(analysis)
        if warning:
            click.echo(f"kvdiff: warning: {warning}", err=True)
        source = taken_source_lines(outcome, analysis, src.data)
    if as_json:
        payload = outcome.to_json()
        if source is not None:
            payload["source"] = [s.to_json() for s in source]
        click.echo(to_json_text(payload), nl=False)
    else:
        click.echo(outcome_text(outcome, source), nl=False)
