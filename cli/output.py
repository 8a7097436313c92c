"""Terminal output shared by the commands: colour decisions and a pager, as git does them."""

from __future__ import annotations

import os
import sys

import click

# shlex, shutil and subprocess are imported where a terminal or a pager needs them: most runs
# print to a pipe, and a warm history costs less than importing them.

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
    import shutil

    return shutil.get_terminal_size((default, 24)).columns


def pager_command(env: dict[str, str] | None = None) -> str | None:
    """The pager to use, as git chooses it: ``$KVDIFF_PAGER``, else ``$PAGER``, else ``less``;
    an empty value or ``cat`` means no pager."""
    env = os.environ if env is None else env
    for var in ("KVDIFF_PAGER", "PAGER"):
        if var in env:
            command = env[var].strip()
            break
    else:
        command = "less"
    return None if command in ("", "cat") else command


def _run_pager(command: str, text: str) -> bool:
    """Pipe ``text`` into ``command`` (through the shell, as git does, with ``LESS=FRX``
    unless set: quit when it fits, keep colours, leave the screen as it was). False when the
    pager could not be started, so the caller prints the text itself."""
    import shlex
    import shutil
    import subprocess

    try:
        program = shlex.split(command)[0]
    except (ValueError, IndexError):
        return False
    if shutil.which(program) is None:
        return False
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")  # lv, as git sets it too: keep colours
    data = text.encode(sys.stdout.encoding or "utf-8", "replace")
    with subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env) as proc:
        try:
            assert proc.stdin is not None
            proc.stdin.write(data)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the reader quit early (q in less): not an error
        try:
            proc.wait()
        except KeyboardInterrupt:
            proc.wait()  # the pager handles Ctrl-C itself; wait until it has restored the tty
    return True


def _rows() -> int:
    import shutil

    return shutil.get_terminal_size((80, 24)).lines


def emit(text: str, pager: bool = True, color: bool | None = None) -> None:
    """Print ``text``; on a terminal, through the pager (:func:`pager_command`) when it is
    longer than the screen, as git does. ``--no-pager`` or a pipe prints directly."""
    if not text.endswith("\n"):
        text += "\n"
    command = pager_command() if pager and sys.stdout.isatty() else None
    if command is not None and text.count("\n") > _rows() - 1:
        sys.stdout.flush()
        if _run_pager(command, text):
            return
    click.echo(text, nl=False, color=color)  # click strips ANSI off a pipe unless told
