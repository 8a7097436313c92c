"""Man pages in roff (``man 7 man``), generated from the click command tree.

One page for the program (``kvdiff.1``: the commands, environment, exit status, completion) and
one per command (``kvdiff-show.1`` …: synopsis, description, every visible option with click's
own help text and defaults), so the pages never drift from ``--help``. No dates or paths go in:
the same commands give the same bytes.
"""

from __future__ import annotations

import re

import click

_ENVIRONMENT = (
    ("KVDIFF_CACHE", "The cache repository, when --cache is not given."),
    (
        "KVDIFF_PAGER, PAGER",
        "The pager for long output on a terminal (default less; empty or cat: none).",
    ),
    ("LESS", "Set to FRX when unset, as git does: quit if one screen, keep colours."),
    ("NO_COLOR", "When set and not empty, --color=auto does not colour."),
    ("XDG_CACHE_HOME, XDG_CONFIG_HOME", "Where the default cache and kvdiff.toml live."),
    ("KVDIFF_CORPUS", "The kernel corpus the test suite reads (tests only)."),
)
_EXIT = (
    ("0", "Success."),
    ("1", "kvdiff check found drift."),
    (
        "2",
        "Bad input or an unusable environment, as one line: kvdiff: error: what; why; "
        "what to do. Usage errors too.",
    ),
    ("130", "Interrupted; the cache and the site are left consistent."),
)


def escape(text: str) -> str:
    """Text as roff: backslashes and hyphens escaped, no line starting with a control
    character (``.`` or ``'``), no blank lines (a paragraph break is ``.PP``)."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)
    lines = []
    for line in text.split("\n"):
        line = line.strip()
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line if line else ".PP")
    return "\n".join(lines)


def _bold(text: str) -> str:
    return f".B {escape(text)}"


def _paragraphs(help_text: str) -> str:
    """click help (blank-line paragraphs, ``\\b`` no-rewrap markers) as roff paragraphs."""
    paragraphs = re.split(r"\n\s*\n", (help_text or "").replace("\b", "").strip())
    return "\n".join(escape(" ".join(p.split())) for p in paragraphs if p.strip()).replace(
        "\n", "\n.PP\n"
    )


def _header(name: str, version: str) -> list[str]:
    return [f'.TH "{name.upper()}" 1 "" "kvdiff {version}" "kvdiff manual"']


def command_page(group: click.Group, name: str, version: str) -> str:
    """The page of one subcommand: NAME, SYNOPSIS, DESCRIPTION, OPTIONS, SEE ALSO."""
    parent = click.Context(group, info_name="kvdiff")
    command = group.get_command(parent, name)
    assert command is not None, name
    ctx = click.Context(command, info_name=name, parent=parent)
    lines = _header(f"kvdiff-{name}", version)
    lines += [".SH NAME", escape(f"kvdiff-{name} - {command.get_short_help_str(limit=200)}")]
    lines += [".SH SYNOPSIS", _bold(f"kvdiff {name}"), escape(" ".join(_usage(command, ctx)))]
    lines += [".SH DESCRIPTION", _paragraphs(command.help or "")]
    lines += [".SH OPTIONS"]
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
        if record is None:  # arguments (in the synopsis), hidden options
            continue
        opts, help_text = record
        lines += [".TP", _bold(opts), _paragraphs(help_text) or ".PP"]
    lines += [".SH SEE ALSO", escape("kvdiff(1)")]
    return "\n".join(lines) + "\n"


def _usage(command: click.Command, ctx: click.Context) -> list[str]:
    return command.collect_usage_pieces(ctx)


def program_page(group: click.Group, version: str) -> str:
    """``kvdiff.1``: what kvdiff is, its commands, environment, exit status and completion."""
    ctx = click.Context(group, info_name="kvdiff")
    lines = _header("kvdiff", version)
    lines += [".SH NAME", escape(f"kvdiff - {group.help}")]
    lines += [".SH SYNOPSIS", _bold("kvdiff"), escape("COMMAND [OPTIONS] [ARGS]...")]
    lines += [".SH COMMANDS"]
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        lines += [".TP", _bold(f"kvdiff {name}"), escape(command.get_short_help_str(limit=200))]
        lines += [escape(f"See kvdiff-{name}(1).")]
    lines += [".SH ENVIRONMENT"]
    for var, what in _ENVIRONMENT:
        lines += [".TP", _bold(var), escape(what)]
    lines += [".SH EXIT STATUS"]
    for code, what in _EXIT:
        lines += [".TP", _bold(code), escape(what)]
    lines += [
        ".SH SHELL COMPLETION",
        escape('bash: eval "$(_KVDIFF_COMPLETE=bash_source kvdiff)" in ~/.bashrc;'),
        escape("zsh: zsh_source; fish: fish_source. Tags complete from the cache."),
        ".SH SEE ALSO",
        escape(", ".join(f"kvdiff-{n}(1)" for n in group.list_commands(ctx))),
    ]
    return "\n".join(lines) + "\n"


def manpages(group: click.Group, version: str) -> dict[str, str]:
    """File name -> roff text, for the program and each command."""
    ctx = click.Context(group, info_name="kvdiff")
    pages = {"kvdiff.1": program_page(group, version)}
    for name in group.list_commands(ctx):
        pages[f"kvdiff-{name}.1"] = command_page(group, name, version)
    return pages
