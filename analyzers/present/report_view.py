"""What ``kvdiff report`` prints after writing the site: one line, or one JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kvdiff.analyzers.present.schema import json_text

if TYPE_CHECKING:  # only its data is read: a cached report never loads the page views
    from kvdiff.analyzers.present.site.views import Site


def report_line(written: Sequence[Path], out: Path) -> str:
    return f"wrote {len(written)} files to {out}/ (open {out / 'index.html'})"


def report_json(site: Site, written: Sequence[Path], out: Path) -> str:
    """``kvdiff report --json``: what the site covers and every file written (relative to
    ``out``, sorted)."""
    files = sorted(Path(p).relative_to(out).as_posix() for p in written)
    doc = {
        "out": str(out),
        "index": str(out / site.index.filename),
        "lang": site.lang,
        "langs": [site.lang, *(t.lang for t in site.translations)],
        "function": site.index.function,
        "path": site.index.path,
        "tags": [
            {
                "tag": e.tag,
                "origin": e.origin,
                "blob_id": e.blob_id,
                "start_line": e.start_line,
                "end_line": e.end_line,
                "page": e.href,
            }
            for e in site.index.timeline
        ],
        "pairs": [
            {
                "a": p.a,
                "b": p.b,
                "page": p.filename,
                "added": p.added,
                "removed": p.removed,
                "changed": p.changed,
            }
            for p in site.pairs
        ],
        "history": site.history.filename if site.history is not None else None,
        "files": files,
        "warnings": list(site.warnings),
    }
    return json_text(doc, ensure_ascii=False)
