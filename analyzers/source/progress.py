"""A one-line progress display on stderr for fetches (objects and bytes received).

This module is the one place that writes progress. Only one progress line is on the screen at a
time (:data:`_ACTIVE`); any other line written to the terminal (a warning, a note, a command's
output) first clears it with :func:`clear_line`, then the progress line is redrawn below it, so
the two never overwrite each other. A drawn line is cut to the terminal's width: a line that
wraps cannot be taken back with a carriage return.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TextIO

import pygit2

_CLEAR = "\r\x1b[K"


class _Line:
    """The progress line now drawn on a stream, if any."""

    def __init__(self) -> None:
        self.stream: TextIO | None = None
        self.text = ""

    def draw(self, stream: TextIO, text: str) -> None:
        try:
            width = os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            width = 0
        if width <= 0:  # not a terminal, or one that does not know its size (0 columns)
            width = shutil.get_terminal_size((80, 24)).columns
        text = text if len(text) < width else text[: max(width - 2, 1)] + "…"
        stream.write(f"\r{text}\x1b[K")
        stream.flush()
        self.stream, self.text = stream, text

    def clear(self, forget: bool = True) -> TextIO | None:
        """Erase the line (if drawn); with ``forget``, it is not redrawn after other output."""
        stream = self.stream
        if stream is not None:
            stream.write(_CLEAR)
            stream.flush()
        if forget:
            self.stream, self.text = None, ""
        return stream

    def redraw(self) -> None:
        if self.stream is not None:
            self.stream.write(f"\r{self.text}\x1b[K")
            self.stream.flush()


_ACTIVE = _Line()


def clear_line() -> None:
    """Erase the progress line before writing something else to the terminal (it is redrawn
    by the next progress update)."""
    _ACTIVE.clear()


def _say(line: str, stream: TextIO) -> None:
    """Write one whole line to ``stream`` without mixing it with the progress line."""
    drawn = _ACTIVE.clear(forget=False)
    stream.write(line + "\n")
    stream.flush()
    if drawn is not None:
        _ACTIVE.redraw()


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover - the loop returns at MiB


def progress_enabled(quiet: bool, stream: TextIO | None = None) -> bool:
    """Progress only on an interactive terminal, and never with ``--quiet``."""
    stream = sys.stderr if stream is None else stream
    return not quiet and stream.isatty()


class FetchCallbacks(pygit2.RemoteCallbacks):
    """Remote callbacks that redraw one progress line while a pack is received."""

    def __init__(self, label: str, enabled: bool, stream: TextIO | None = None) -> None:
        super().__init__()
        self.label = label
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self._drawn = False

    def transfer_progress(self, stats: pygit2.remotes.TransferProgress) -> None:
        if not self.enabled:
            return
        total = stats.total_objects or 0
        line = (
            f"{self.label}: {stats.received_objects}/{total} objects, "
            f"{human_bytes(stats.received_bytes)}"
        )
        _ACTIVE.draw(self.stream, line)
        self._drawn = True

    def finish(self) -> None:
        """End the progress line so that what follows starts on a fresh line."""
        if self._drawn:
            _ACTIVE.clear()
            self._drawn = False


class PhaseProgress:
    """One redrawn stderr line for a phase of a batched fetch (tags, trees, blobs)."""

    def __init__(self, label: str, enabled: bool, stream: TextIO | None = None) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self._drawn = False

    def __call__(self, objects: int, received: int) -> None:
        if not self.enabled:
            return
        _ACTIVE.draw(self.stream, f"{self.label}: {objects} objects, {human_bytes(received)}")
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            _ACTIVE.clear()
            self._drawn = False


def warn(message: str, stream: TextIO | None = None) -> None:
    """One ``kvdiff: warning: ...`` line on stderr (e.g. an unreachable upstream, skipped)."""
    _say(f"kvdiff: warning: {message}", sys.stderr if stream is None else stream)


def note(message: str, stream: TextIO | None = None) -> None:
    """One ``kvdiff: ...`` line on stderr (e.g. which fetch method an upstream allowed)."""
    _say(f"kvdiff: {message}", sys.stderr if stream is None else stream)
