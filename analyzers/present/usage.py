"""Command-line usage errors as the one ``kvdiff: error: what; why; what to do`` line.

click's own report is a usage dump over several lines ("Usage: ... Try '... -h' for help.
Error: ..."); kvdiff prints every error the same way, so a usage error is one line that names the
command, says what was wrong in click's words, and ends with where the usage is.
"""

from __future__ import annotations

import re

import click


def _sentence(text: str) -> str:
    """click's message as a clause: one line, lower-case start, no final full stop."""
    text = " ".join(text.split())
    text = re.sub(r"\.\s+(?=[A-Z])", "; ", text)  # "X. Did you mean Y?" -> "X; did you mean Y?"
    text = re.sub(r";\s+([A-Z])(?=[a-z])", lambda m: "; " + m.group(1).lower(), text)
    text = text.rstrip(".")
    if text[:1].isupper() and text[1:2].islower():
        text = text[0].lower() + text[1:]
    return text


def usage_error_line(
    exc: click.UsageError, command: str | None = None, program: str = "kvdiff"
) -> str:
    """``kvdiff: error: COMMAND: what went wrong; run `COMMAND --help` for its usage``.
    ``command`` is the command path when the exception carries no context."""
    if exc.ctx is not None:
        command = exc.ctx.command_path
    command = command or program
    what = _sentence(exc.format_message()) or "bad usage"
    if isinstance(exc, click.NoSuchOption):
        what = f"no such option {exc.option_name}"
        if exc.possibilities:
            *first, last = sorted(exc.possibilities)
            what += f" (did you mean {', '.join(first) + ' or ' if first else ''}{last}?)"
    return f"{program}: error: {command}: {what}; run `{command} --help` for its usage"


def deprecated_line(old: str, new: str, program: str = "kvdiff") -> str:
    """The stderr line for an option kept only as an alias of its new name."""
    return f"{program}: warning: {old} is deprecated and will go away; use {new}"
