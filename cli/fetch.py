"""`kvdiff fetch TAG...`: make tags available in the cache, one report line per tag."""

from __future__ import annotations

import click
from kvdiff.analyzers.source.progress import human_bytes
from kvdiff.analyzers.source.repair import repair as repair_cache
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
@click.argument("tags", nargs=-1)
@click.option(
    "--repair",
    is_flag=True,
    help="Check the cache, fix damaged files in place and re-fetch TAGs and damaged tags.",
)
@source_options
def fetch(tags: tuple[str, ...], repair: bool, sources: Sources) -> None:
    """Make each TAG available: shallow (depth 1), one tag at a time, from the first upstream
    that has it."""
    if repair:
        fixed, infos = repair_cache(sources, tags)
        for item in fixed:
            click.echo(f"repaired: {item}")
        for info in infos:
            click.echo(f"{info.tag}: re-fetched from {info.origin} ({info.received_objects} "
                       f"objects, {human_bytes(info.received_bytes)} received)")  # fmt: skip
        if not fixed and not infos:
            click.echo(f"cache {sources.config.cache}: no damage found")
        return
    if not tags:
        raise click.UsageError("give at least one TAG (or --repair)")
    repos = {str(p) for p in sources.config.repos}
    if sources.config.offline:
        # One error naming every missing tag beats failing on the first.
        infos = sources.ensure_all(tags)
        for info in infos:
            click.echo(_describe(info, repos))
        return
    for tag in dict.fromkeys(tags):
        click.echo(_describe(sources.ensure(tag), repos))
