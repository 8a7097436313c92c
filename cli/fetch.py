"""`kvdiff fetch TAG...`: make tags available in the cache, one report line per tag."""

from __future__ import annotations

import click
from kvdiff.analyzers.source.progress import human_bytes
from kvdiff.analyzers.source.repo import Sources, TagInfo

from .options import source_options


def _describe(info: TagInfo, repos: set[str]) -> str:
    if info.origin in repos:
        return f"{info.tag}: available in --repo {info.origin}"
    if info.fetched:
        return (
            f"{info.tag}: fetched from {info.origin} "
            f"({info.received_objects} objects, {human_bytes(info.received_bytes)} received)"
        )
    return f"{info.tag}: already cached (from {info.origin})"


@click.command()
@click.argument("tags", nargs=-1, required=True)
@source_options
def fetch(tags: tuple[str, ...], sources: Sources) -> None:
    """Make each TAG available: shallow (depth 1), one tag at a time, from the first upstream
    that has it."""
    repos = {str(p) for p in sources.config.repos}
    if sources.config.offline:
        # One error naming every missing tag beats failing on the first.
        infos = sources.ensure_all(tags)
        for info in infos:
            click.echo(_describe(info, repos))
        return
    for tag in dict.fromkeys(tags):
        click.echo(_describe(sources.ensure(tag), repos))
