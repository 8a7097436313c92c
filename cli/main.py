"""The ``kvdiff`` command group. Each subcommand lives in its own module."""

from __future__ import annotations

import sys

import click

from analyzers.errors import KvdiffError

from . import branches, check, fetch, history, model, report, show


class KvdiffGroup(click.Group):
    """Turns KvdiffError into one line on stderr and exit code 2; never a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except KvdiffError as exc:
            click.echo(f"kvdiff: error: {exc.message}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo(
                "kvdiff: interrupted; the cache is left consistent, rerun to continue", err=True
            )
            sys.exit(130)


@click.group(cls=KvdiffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kvdiff")
def cli() -> None:
    """Show how a Linux kernel function changed across releases."""


for _module in (fetch, show, branches, check, model, report, history):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    cli()
