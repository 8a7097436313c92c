"""`kvdiff history [FUNCTION]`: a function's timeline across every available tag."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path

import click
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.jobs.behaviour import behaviour_history
from kvdiff.analyzers.jobs.history import HistoryRequest, run_history
from kvdiff.analyzers.present.history import (
    format_behaviour,
    format_history,
    history_json,
    history_with_behaviour_json,
)
from kvdiff.analyzers.source.repo import Sources

from .options import source_options


@click.command()
@click.argument("function", default="try_to_unmap_one")
@click.option(
    "--file", "path", default=None, help="File defining FUNCTION (default: its rule set's)."
)
@click.option("--tags", "pattern", default=None, metavar="GLOB", help="Only tags matching GLOB.")
@click.option(
    "--range", "tag_range", default=None, metavar="A..B", help="Only tags A..B (inclusive)."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see README).")
@click.option("--fetch", is_flag=True, help="Also fetch matching release tags the upstreams have.")
@click.option(
    "--result-cache",
    "result_cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Result cache directory (default: kvdiff-results/ inside the source cache).",
)
@click.option("--no-result-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Rule set to apply (default: analyzers/analyze/rules/FUNCTION.toml, if any).",
)
@click.option("--behaviour", is_flag=True, help="Also where the model's outcomes change.")
@source_options
def history(
    function: str,
    path: str | None,
    pattern: str | None,
    tag_range: str | None,
    as_json: bool,
    fetch: bool,
    result_cache: Path | None,
    no_result_cache: bool,
    rules_file: Path | None,
    behaviour: bool,
    sources: Sources,
) -> None:
    """Group the tags by FUNCTION's content (default try_to_unmap_one) and show what changed."""
    _not_empty(("--tags", pattern), ("--range", tag_range))
    request = HistoryRequest(
        function=function,
        path=path,
        pattern=pattern,
        tag_range=tag_range,
        fetch=fetch,
        result_cache=result_cache,
        use_result_cache=not no_result_cache,
        rules_file=rules_file,
    )
    timeline = run_history(request, sources, _progressbar)
    _echo(timeline, behaviour_history(sources, timeline.tags) if behaviour else None, as_json)
    if timeline.unreadable:
        raise _unreadable_error(timeline.unreadable)


def _echo(timeline, behaviours, as_json: bool) -> None:
    """The timeline, and with --behaviour the model's behaviour per scenario after it."""
    if as_json:
        text = history_json(timeline) if behaviours is None else \
            history_with_behaviour_json(timeline, behaviours)  # fmt: skip
        click.echo(text, nl=False)
        return
    click.echo("\n".join(format_history(timeline)))
    if behaviours is not None:
        click.echo("\n" + "\n".join(format_behaviour(behaviours)))


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


def _progressbar(tags: list[str]) -> AbstractContextManager[Iterable[str]]:
    return click.progressbar(
        tags, label=f"fetching {len(tags)} tags", file=click.get_text_stream("stderr")
    )
