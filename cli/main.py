"""The ``kvdiff`` command group. Each subcommand lives in its own module.

Subcommands are imported on first use: ``kvdiff show`` should not pay for importing jinja2, the
model and the site builder, and a warm ``kvdiff history`` is mostly start-up time.
"""

from __future__ import annotations

import importlib
import sys

import click
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.jobs.collector import collection_paused

# name -> "module:attribute"; order is the order ``kvdiff --help`` lists them in.
_COMMANDS = {
    "fetch": "kvdiff.fetch:fetch",
    "show": "kvdiff.show:show",
    "diff": "kvdiff.diff:diff",
    "branches": "kvdiff.branches:branches",
    "check": "kvdiff.check:check",
    "model": "kvdiff.model:model",
    "report": "kvdiff.report:report",
    "history": "kvdiff.history:history",
}


class KvdiffGroup(click.Group):
    """Loads subcommands lazily; turns KvdiffError into one stderr line and exit 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        # A command's modules are objects for the life of the process: no collection scans
        # them on the way in (see analyzers/jobs/collector.py).
        with collection_paused():
            return getattr(importlib.import_module(module), attribute)

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise  # bare `kvdiff`: the help, as click prints it
        except click.UsageError as exc:
            _usage_exit(exc, info_name)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            _usage_exit(exc, f"{ctx.command_path} {ctx.invoked_subcommand or ''}".strip())
        except KvdiffError as exc:
            click.echo(f"kvdiff: error: {exc.message}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo(
                "kvdiff: interrupted; the cache is left consistent, rerun to continue", err=True
            )
            sys.exit(130)


def _usage_exit(exc: click.UsageError, command: str | None) -> None:
    """A usage error (unknown option, missing or bad argument) as one line, exit 2."""
    from kvdiff.analyzers.present.usage import usage_error_line

    click.echo(usage_error_line(exc, command), err=True)
    sys.exit(2)


@click.group(
    cls=KvdiffGroup, name="kvdiff", context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="kvdiff")
def cli() -> None:
    """Show how a Linux kernel function changed across releases."""


def main() -> None:
    cli()
