"""Shell completion callbacks (click ``shell_complete``): tags from the cache, scenario names,
function names that have a rule set.

Completion runs on every <Tab>: it must be quick, never touch the network, and never fail
loudly, so every callback reads only local state and returns nothing when that state is unusable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

# Loaded on a <Tab> only: every command imports this module for its option declarations.
if TYPE_CHECKING:
    from click.shell_completion import CompletionItem


def _items(candidates: Iterable[str], incomplete: str, prefix: str = "") -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(prefix + c) for c in candidates if c.startswith(incomplete)]


def _param(ctx: click.Context, name: str, default=None):  # noqa: ANN001, ANN202
    """A value given earlier on the command line (completion parses it resiliently)."""
    value = ctx.params.get(name)
    return default if value is None else value


def cached_tags(ctx: click.Context) -> list[str]:
    """Tags the cache and the ``--repo`` clones on the command line hold, in version order;
    offline, read-only. An unusable cache gives no tags rather than an error."""
    from kvdiff.analyzers.errors import KvdiffError
    from kvdiff.analyzers.source.config import build_source_config
    from kvdiff.analyzers.source.repo import Sources

    try:
        config = build_source_config(
            cache=_param(ctx, "cache"),
            repos=_param(ctx, "repos", ()),
            offline=True,
            quiet=True,
        )
        return Sources(config).available_tags()
    except (KvdiffError, OSError, ValueError):
        return []


def complete_tag(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """One TAG argument: the cached tags that start with what is typed."""
    return _items(cached_tags(ctx), incomplete)


def complete_tag_list(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """A ``--tags`` value, a comma list: complete its last item, keep the items before it."""
    head, sep, last = incomplete.rpartition(",")
    prefix = head + sep
    done = set(head.split(",")) if sep else set()
    return _items((t for t in cached_tags(ctx) if t not in done), last, prefix)


def complete_scenario(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    from kvdiff.analyzers.model.names import SCENARIO_NAMES

    return _items(SCENARIO_NAMES, incomplete)


def complete_function(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Function names with a shipped rule set (any other function works too, it just is not
    known in advance without reading a file)."""
    from kvdiff.analyzers.analyze.ruleset import available_rule_sets

    return _items(available_rule_sets(), incomplete)
