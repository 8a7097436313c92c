"""What ``kvdiff fetch`` prints: one line per tag, or one JSON document."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kvdiff.analyzers.present.schema import json_text
from kvdiff.analyzers.source.progress import human_bytes
from kvdiff.analyzers.source.types import TagInfo


def fetch_lines(infos: Sequence[TagInfo], log: Iterable, repos: Iterable[str]) -> list[str]:
    """One line per tag; a batch's figures (all its fetches: trees and blobs) go on the line
    of its first tag, the others name that tag. ``log`` is the network's fetch records."""
    repos = set(repos)
    totals: dict[str, list[int]] = {}
    for record in log:
        total = totals.setdefault(record.upstream, [0, 0])
        total[0] += record.objects
        total[1] += record.bytes
    first: dict[str, str] = {}
    lines = []
    for info in infos:
        if info.origin in repos:
            lines.append(f"{info.tag}: available in --repo {info.origin}")
        elif not info.fetched:
            lines.append(f"{info.tag}: already cached (from {info.origin})")
        elif info.origin in first:
            lines.append(
                f"{info.tag}: fetched from {info.origin} (in the fetch of {first[info.origin]})"
            )
        else:
            first[info.origin] = info.tag
            batch = sum(1 for i in infos if i.fetched and i.origin == info.origin)
            objects, received = totals.get(info.origin, [0, 0])
            lines.append(
                f"{info.tag}: fetched from {info.origin} ({info.mode}, {batch} tag(s): "
                f"{objects} objects, {human_bytes(received)} received)"
            )
    return lines


def fetch_json(infos: Sequence[TagInfo], log: Iterable) -> str:
    """``kvdiff fetch --json``: how each tag was had, and every fetch the run made."""
    doc = {
        "tags": [
            {"tag": i.tag, "origin": i.origin, "fetched": i.fetched, "mode": i.mode or None}
            for i in infos
        ],
        "fetches": [
            {
                "upstream": r.upstream,
                "phase": r.phase,
                "mode": r.mode,
                "tags": list(r.tags),
                "objects": r.objects,
                "bytes": r.bytes,
            }
            for r in log
        ],
    }
    return json_text(doc)
