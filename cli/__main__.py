"""``python -m cli``: the same as the ``kvdiff`` script."""

from cli.main import cli

cli(prog_name="kvdiff")
