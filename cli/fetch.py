"""`kvdiff fetch TAG...`: make tags available in the cache, one report line per tag."""

from __future__ import annotations

import click
from kvdiff.analyzers.present.fetch_view import fetch_json, fetch_lines
from kvdiff.analyzers.source.repair import repair as repair_cache
from kvdiff.analyzers.source.repo import DEFAULT_PATH, Sources

from .completion import complete_tag
from .options import resolve_tags, source_options, tags_option

_REPAIR = click.option(
    "--repair",
    is_flag=True,
    help="Check the cache, fix damaged files in place, re-fetch TAGs and the damaged tags.",
)


def _repair(sources: Sources, tags: tuple[str, ...]) -> None:
    fixed, infos = repair_cache(sources, tags)
    for item in fixed:
        click.echo(f"repaired: {item}")
    for info in infos:
        click.echo(f"{info.tag}: re-fetched from {info.origin}")
    if not fixed and not infos:
        click.echo(f"cache {sources.config.cache}: no damage found")


@click.command()
@click.argument("tags", nargs=-1, shell_complete=complete_tag)
@tags_option("More tags to fetch, as TAG arguments are.", name="tag_options")
@click.option(
    "--file",
    "paths",
    multiple=True,
    metavar="PATH",
    help=f"Files to have at hand offline (repeatable; default {DEFAULT_PATH}).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: tags and fetches.")
@_REPAIR
@source_options
def fetch(
    tags: tuple[str, ...],
    tag_options: tuple[str, ...],
    paths: tuple[str, ...],
    as_json: bool,
    repair: bool,
    sources: Sources,
) -> None:
    """Make each TAG available, depth 1, from the first upstream that has it: all tags in one
    fetch per upstream (commits and the trees down to each PATH), then each PATH's file in one
    more. A TAG may be a comma list or a glob ('v5.10.*', quoted), matched against the
    upstreams' tag lists and the cache. Servers without filters send full depth-1 snapshots."""
    if repair:
        _repair(sources, resolve_tags((*tags, *tag_options), sources))
        return
    if not tags and not tag_options:
        raise click.UsageError("give at least one TAG (or --repair)")
    wanted = resolve_tags((*tags, *tag_options), sources)
    infos = sources.ensure_all(wanted, paths or (DEFAULT_PATH,))
    if as_json:
        click.echo(fetch_json(infos, sources.net.log), nl=False)
        return
    repos = (str(p) for p in sources.config.repos)
    for line in fetch_lines(infos, sources.net.log, repos):
        click.echo(line)
