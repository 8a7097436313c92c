"""``python -m kvdiff``: the same as the ``kvdiff`` script."""

from kvdiff.main import cli

cli(prog_name="kvdiff")
