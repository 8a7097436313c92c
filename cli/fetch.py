"""`kvdiff fetch TAG...`: make tags available in the cache, one report line per tag."""

from __future__ import annotations

import json

import click
from kvdiff.analyzers.source.progress import human_bytes
from kvdiff.analyzers.source.repo import DEFAULT_PATH, Sources, TagInfo

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
@click.option(
    "--file",
    "paths",
    multiple=True,
    metavar="PATH",
    help=f"Files to have at hand offline (repeatable; default {DEFAULT_PATH}).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: tags and fetches.")
@source_options
def fetch(tags: tuple[str, ...], paths: tuple[str, ...], as_json: bool, sources: Sources) -> None:
    """Make each TAG available, depth 1, from the first upstream that has it: all tags in one
    fetch per upstream (commits and the trees down to each PATH), then each PATH's file in one
    more. Servers without filters send full depth-1 snapshots."""
    repos = {str(p) for p in sources.config.repos}
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
    for info in infos:
        click.echo(_describe(info, repos))
