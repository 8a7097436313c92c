"""A one-line progress display on stderr for fetches (objects and bytes received)."""

from __future__ import annotations

import sys
from typing import TextIO

import pygit2


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
            f"\r{self.label}: {stats.received_objects}/{total} objects, "
            f"{human_bytes(stats.received_bytes)}"
        )
        self.stream.write(line + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """End the progress line so that what follows starts on a fresh line."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
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
        self.stream.write(f"\r{self.label}: {objects} objects, {human_bytes(received)}\x1b[K")
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False


def warn(message: str, stream: TextIO | None = None) -> None:
    """One ``kvdiff: warning: ...`` line on stderr (e.g. an unreachable upstream, skipped)."""
    stream = sys.stderr if stream is None else stream
    stream.write(f"kvdiff: warning: {message}\n")
    stream.flush()


def note(message: str, stream: TextIO | None = None) -> None:
    """One ``kvdiff: ...`` line on stderr (e.g. which fetch method an upstream allowed)."""
    stream = sys.stderr if stream is None else stream
    stream.write(f"kvdiff: {message}\n")
    stream.flush()
