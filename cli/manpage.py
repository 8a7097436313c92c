"""``python -m kvdiff.manpage [DIR]``: write the man pages (kvdiff.1, kvdiff-COMMAND.1) into DIR
(default ``man/``), generated from the click commands. ``man -l DIR/kvdiff-diff.1`` reads one."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from kvdiff.analyzers.present.manpage import manpages

from .main import cli


def _version() -> str:
    try:
        return version("kvdiff")
    except PackageNotFoundError:  # pragma: no cover - run from a tree that is not installed
        return "unknown"


def write_manpages(out: Path) -> list[Path]:
    """Write every page into ``out`` (created if missing); the paths written, sorted."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(manpages(cli, _version()).items()):
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0].startswith("-")):
        print("usage: python -m kvdiff.manpage [DIR]  (default: man/)", file=sys.stderr)
        return 2
    out = Path(args[0] if args else "man")
    try:
        written = write_manpages(out)
    except OSError as exc:
        print(
            f"kvdiff: error: cannot write {out}: {exc.strerror}; pick another DIR", file=sys.stderr
        )
        return 2
    print(f"wrote {len(written)} man pages to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
