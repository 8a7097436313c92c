"""Terminal output shared by the commands: colour decisions and a pager, as git does them."""

from __future__ import annotations

import os
import shutil
import sys

import click

COLOR_CHOICES = ("auto", "always", "never")


def use_color(choice: str) -> bool:
    """--color=always|never win; auto colours a terminal unless NO_COLOR is set (no-color.org)
    or TERM is dumb."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def terminal_width(default: int = 160) -> int:
    if not sys.stdout.isatty():
        return default
    return shutil.get_terminal_size((default, 24)).columns


def emit(text: str, pager: bool = True, color: bool = False) -> None:
    """Print ``text``; on a terminal, through $KVDIFF_PAGER / $PAGER (``less -FRX``-like: quits
    at once when the text fits, keeps colours) when it is longer than the screen."""
    if not text.endswith("\n"):
        text += "\n"
    rows = shutil.get_terminal_size((80, 24)).lines
    if pager and sys.stdout.isatty() and sys.stdin.isatty() and text.count("\n") > rows - 1:
        pager_cmd = os.environ.get("KVDIFF_PAGER") or os.environ.get("PAGER")
        if pager_cmd != "cat":
            os.environ.setdefault("LESS", "FRX")
            if os.environ.get("KVDIFF_PAGER"):
                os.environ["PAGER"] = os.environ["KVDIFF_PAGER"]
            click.echo_via_pager(text, color=color)
            return
    click.echo(text, nl=False, color=color)  # click strips ANSI off a pipe unless told
