"""`kvdiff history [FUNCTION]`: a function's timeline across every available tag."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.jobs.history import (
    HistoryRequest,
    StoredOutput,
    run_history,
    stored_output,
)
from kvdiff.analyzers.versions import tag_patterns

from .completion import complete_function
from .options import source_config_options, stacked, tags_option
from .output import emit

if TYPE_CHECKING:
    from kvdiff.analyzers.source.types import SourceConfig

# The result cache and the rules: --result-cache, --no-result-cache, --rules.
_CACHE_OPTIONS = stacked(
    click.option(
        "--result-cache",
        "result_cache",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        metavar="DIR",
        help="Result cache directory (default: kvdiff-results/ inside the source cache).",
    ),
    click.option(
        "--no-result-cache", is_flag=True, help="Neither read nor write the result cache."
    ),
    click.option(
        "--rules",
        "rules_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        metavar="FILE",
        help="Rule set to apply (default: analyzers/analyze/rules/FUNCTION.toml, if any).",
    ),
)


@click.command()
@click.argument("function", default="try_to_unmap_one", shell_complete=complete_function)
@click.option(
    "--file", "path", default=None, help="File defining FUNCTION (default: its rule set's)."
)
@tags_option(
    "Only these tags.",
    name="pattern",
    globs="globs like 'v5.*' match the tags at hand (with --fetch, also the upstreams').",
)
@click.option(
    "--range", "tag_range", default=None, metavar="A..B", help="Only tags A..B (inclusive)."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see README).")
@click.option("--no-pager", is_flag=True, help="Never page long output.")
@click.option("--fetch", is_flag=True, help="Also fetch matching release tags the upstreams have.")
@_CACHE_OPTIONS
@click.option("--behaviour", is_flag=True, help="Also where the model's outcomes change.")
@source_config_options
def history(
    function: str,
    path: str | None,
    pattern: tuple[str, ...],
    tag_range: str | None,
    as_json: bool,
    no_pager: bool,
    fetch: bool,
    result_cache: Path | None,
    no_result_cache: bool,
    rules_file: Path | None,
    behaviour: bool,
    config: SourceConfig,
) -> None:
    """Group the tags by FUNCTION's content (default try_to_unmap_one) and show what changed."""
    _not_empty(("--range", tag_range))
    request = HistoryRequest(
        function=function,
        path=path,
        pattern=tag_patterns(pattern) or None,
        tag_range=tag_range,
        fetch=fetch,
        result_cache=result_cache,
        use_result_cache=not no_result_cache,
        rules_file=rules_file,
    )
    # A repeated run prints what it printed before: no repository is opened, nothing analysed.
    stored = None if behaviour else stored_output(request, config, as_json)
    if stored is not None and stored.text is not None:
        _print(stored.text, as_json, no_pager)
        return
    timeline, behaviours = _timeline(request, config, behaviour, stored)
    _echo(timeline, behaviours, as_json, no_pager)
    if timeline.unreadable:
        raise _unreadable_error(timeline.unreadable)


def _timeline(
    request: HistoryRequest, config: SourceConfig, behaviour: bool, stored: StoredOutput | None
):
    """The timeline and, with --behaviour, the model's behaviour at its tags (None without)."""
    if not behaviour:
        return run_history(request, config, stored=stored), None
    from kvdiff.analyzers.jobs.behaviour import behaviour_history
    from kvdiff.analyzers.source.repo import Sources

    sources = Sources(config)
    timeline = run_history(request, config, sources=sources)
    return timeline, behaviour_history(sources, timeline.tags)


def _echo(timeline, behaviours, as_json: bool, no_pager: bool) -> None:
    """The timeline, and with --behaviour the model's behaviour per scenario after it."""
    from kvdiff.analyzers.present.history import (
        format_behaviour,
        format_history,
        history_json,
        history_with_behaviour_json,
    )

    if as_json:
        text = history_json(timeline) if behaviours is None else \
            history_with_behaviour_json(timeline, behaviours)  # fmt: skip
    else:
        lines = format_history(timeline)
        if behaviours is not None:
            lines += ["", *format_behaviour(behaviours)]
        text = "\n".join(lines)
    _print(text, as_json, no_pager)


def _print(text: str, as_json: bool, no_pager: bool) -> None:
    if as_json:
        click.echo(text, nl=False)
    else:
        emit(text, pager=not no_pager)


def _not_empty(*options: tuple[str, str | None]) -> None:
    for option, value in options:
        if value is not None and not value.strip(" ,"):
            raise KvdiffError(f"{option} {value!r} names nothing; give a value or leave it out")


def _unreadable_error(unreadable: tuple[tuple[str, str], ...]) -> KvdiffError:
    """Tags the history had to leave out are an error after the output, never silent."""
    tags = " ".join(tag for tag, _ in unreadable)
    why = unreadable[0][1].split(";")[0]
    return KvdiffError(
        f"could not read {len(unreadable)} tag(s), left out above: {tags} ({why}); "
        f"run kvdiff fetch --repair {tags}"
    )
