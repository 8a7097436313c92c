"""The source options every command that reads kernel sources accepts, as one decorator."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from kvdiff.analyzers.source.config import build_source_config
from kvdiff.analyzers.source.repo import Sources

# In the order --help lists them.
_OPTIONS = (
    click.option(
        "--upstream",
        "upstream_options",
        multiple=True,
        metavar="NAME=URL",
        help="Upstream to fetch tags from, in order (repeatable); a known name keeps its place.",
    ),
    click.option(
        "--cache",
        type=click.Path(file_okay=True, dir_okay=True, path_type=str),
        default=None,
        metavar="DIR",
        help="Bare cache repository (default $KVDIFF_CACHE, kvdiff.toml, "
        "or $XDG_CACHE_HOME/kvdiff/linux.git).",
    ),
    click.option(
        "--repo",
        "repos",
        multiple=True,
        type=click.Path(path_type=str),
        metavar="PATH",
        help="Existing local clone to read tags from, read-only (repeatable).",
    ),
    click.option("--offline", is_flag=True, help="Never use the network."),
    click.option("--quiet", "-q", is_flag=True, help="No progress output."),
    click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        metavar="SECONDS",
        help="Give up on an upstream silent this long (default 30, or timeout in kvdiff.toml).",
    ),
    click.option(
        "--max-file-size",
        default=None,
        metavar="SIZE",
        help="Refuse source files larger than this (default 16M; K/M/G suffixes).",
    ),
)


def source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--upstream/--cache/--repo/--offline/--quiet/--timeout`` and pass ``sources``.

    Use it under ``@click.command()``::

        @click.command()
        @click.argument("tag")
        @source_options
        def branches(tag: str, sources: Sources) -> None: ...
    """

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        upstream_options: tuple[str, ...],
        cache: str | None,
        repos: tuple[str, ...],
        offline: bool,
        quiet: bool,
        timeout: float | None,
        max_file_size: str | None,
        **kwargs: Any,
    ) -> Any:
        config = build_source_config(
            upstream_options=upstream_options,
            cache=cache,
            repos=repos,
            offline=offline,
            quiet=quiet,
            timeout=timeout,
            max_file_size=max_file_size,
        )
        return command(*args, sources=Sources(config), **kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper
