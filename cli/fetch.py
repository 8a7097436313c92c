"""`kvdiff fetch TAG...`: make tags available in the cache, one report line per tag."""

from __future__ import annotations

import json

import click
from kvdiff.analyzers.source.progress import human_bytes
from kvdiff.analyzers.source.repair import repair as repair_cache
from kvdiff.analyzers.source.repo import DEFAULT_PATH, Sources, TagInfo

from .options import source_options


def _describe(infos: list[TagInfo], sources: Sources) -> list[str]:
    """One line per tag; a batch's figures (all its fetches: trees and blobs) go on the line
    of its first tag, the others name that tag."""
    repos = {str(p) for p in sources.config.repos}
    totals: dict[str, list[int]] = {}
    for record in sources.net.log:
        total = totals.setdefault(record.upstream, [0, 0])
        total[0] += record.objects
        total[1] += record.bytes
    first: dict[str, str] = {}
    lines = []
    for info in infos:
        if info.origin in repos:
            lines.append(f"{info.tag}: available in --repo {info.origin}")
        elif not info.fetched:
            lines.append(f"{info.tag}: already cached (from {info.origin})")
        elif info.origin in first:
            lines.append(
                f"{info.tag}: fetched from {info.origin} (in the fetch of {first[info.origin]})"
            )
        else:
            first[info.origin] = info.tag
            batch = sum(1 for i in infos if i.fetched and i.origin == info.origin)
            objects, received = totals.get(info.origin, [0, 0])
            lines.append(
                f"{info.tag}: fetched from {info.origin} ({info.mode}, {batch} tag(s): "
                f"{objects} objects, {human_bytes(received)} received)"
            )
    return lines


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
@click.argument("tags", nargs=-1)
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
    tags: tuple[str, ...], paths: tuple[str, ...], as_json: bool, repair: bool, sources: Sources
) -> None:
    """Make each TAG available, depth 1, from the first upstream that has it: all tags in one
    fetch per upstream (commits and the trees down to each PATH), then each PATH's file in one
    more. Servers without filters send full depth-1 snapshots."""
    if repair:
        _repair(sources, tags)
        return
    if not tags:
        raise click.UsageError("give at least one TAG (or --repair)")
    infos = sources.ensure_all(tags, paths or (DEFAULT_PATH,))
    if as_json:
        doc = {
            "tags": [
                {"tag": i.tag, "origin": i.origin, "fetched": i.fetched, "mode": i.mode or None}
                for i in infos
            ],
            "fetches": [
                {"upstream": r.upstream, "phase": r.phase, "mode": r.mode, "tags": list(r.tags)}
                for r in sources.net.log
            ],
        }
        click.echo(json.dumps(doc, sort_keys=True, indent=1))
        return
    for line in _describe(infos, sources):
        click.echo(line)
