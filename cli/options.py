"""The source options every command that reads kernel sources accepts, as one decorator."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import click
from kvdiff.analyzers.source.config import build_source_config
from kvdiff.analyzers.versions import expand_tags, tag_patterns

from .completion import complete_tag_list

if TYPE_CHECKING:
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
    return _source_options(command, pass_config=False)


def source_config_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`source_options` passing the ``SourceConfig`` as ``config`` instead of ``sources``:
    for a command that opens the repositories only when it needs to (a warm ``kvdiff history``
    opens none, and so does not import libgit2)."""
    return _source_options(command, pass_config=True)


def _source_options(command: Callable[..., Any], pass_config: bool) -> Callable[..., Any]:
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
        if pass_config:
            return command(*args, config=config, **kwargs)
        from kvdiff.analyzers.source.repo import Sources

        return command(*args, sources=Sources(config), **kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def stacked(*options: Callable[..., Any]) -> Callable[..., Any]:
    """Several click options as one decorator, in the order given (as --help lists them)."""

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


_GLOBS = "globs like 'v5.*' match the tags of --repo, the cache and (online) the upstreams."


def tags_option(
    help_text: str, name: str = "tag_options", globs: str = _GLOBS
) -> Callable[..., Any]:
    """``--tags``, the same on every command: repeatable, each a comma list of tags and globs
    (``v5.1,v5.10.*``), completed from the cache."""
    return click.option(
        "--tags",
        name,
        multiple=True,
        metavar="TAG,GLOB…",
        help=f"{help_text} A comma list (repeatable); {globs}",
        shell_complete=complete_tag_list,
    )


def resolve_tags(values: Iterable[str], sources: Sources) -> tuple[str, ...]:
    """The tags ``--tags`` (or TAG arguments) name, in the order given: a plain tag as it is (it
    is fetched when missing), a glob expanded over the tags of the ``--repo`` clones, the cache
    and, unless ``--offline``, the upstreams' tag lists (asked only when there is a glob).
    ``()`` when nothing was given: the command's default."""
    patterns = tag_patterns(tuple(values))
    offline = sources.config.offline or not sources.config.upstreams

    def known() -> list[str]:
        return [*sources.available_tags(), *sources.upstream_tags()]

    where = "tags of --repo clones and the cache" + ("" if offline else " and upstream listings")
    return expand_tags(patterns, known, where)
