"""The result cache's entry for a history's blob summaries: one file for all of them.

Hundreds of blobs share a few function texts and concept results, so each is stored once,
under its digest, and entries name them; read back, they are shared objects again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kvdiff.analyzers.analyze.summaries import BlobSummary


def _digest(value: Any) -> str:
    # repr of str/int/bool/None and lists of them is one text per value (JSON's values)
    return hashlib.sha256(repr(value).encode()).hexdigest()


class Bundle:
    """The stored blob summaries of one function and summarizer, by entry key."""

    def __init__(self, entries: dict[str, Any], parts: dict[str, Any]) -> None:
        self.entries = entries
        self.parts = parts  # digest -> a function text, or a summary's concepts as JSON
        self._decoded: dict[tuple[str, str], BlobSummary] = {}
        # id of a text or concepts object added -> (the object, its part's digest): summaries
        # of one history share those objects, and a text is tens of KiB to hash.
        self._added: dict[int, tuple[object, str]] = {}

    @classmethod
    def load(cls, payload: dict[str, Any] | None) -> Bundle:
        entries, parts = (payload or {}).get("entries"), (payload or {}).get("parts")
        if not isinstance(entries, dict) or not isinstance(parts, dict):
            return cls({}, {})  # absent or damaged: every blob is a miss, then rewritten
        return cls(entries, parts)

    def get(self, key: str) -> BlobSummary | None:
        """The summary stored under ``key``; None when absent or damaged (then rebuilt)."""
        doc = self.entries.get(key)
        try:
            shared = (doc["text"], doc["concepts"])
            if shared not in self._decoded:
                text, concepts = self.parts[shared[0]], self.parts.get(shared[1])
                if _digest(text) != shared[0] or _digest(concepts) != (shared[1] or _digest(None)):
                    return None  # a part that is not what its digest names
                whole = {**doc, "text": text, "concepts": concepts}
                self._decoded[shared] = BlobSummary.from_json(whole)
            lines = {k: doc[k] for k in ("found", "start_line", "end_line", "error_count")}
            summary = BlobSummary.from_json({**lines, "text": "", "concepts": None})
        except (TypeError, ValueError, KeyError, AttributeError):
            return None  # a damaged entry is rebuilt, never trusted
        base = self._decoded[shared]
        return replace(summary, text=base.text, concepts=base.concepts)

    def add(self, key: str, summary: BlobSummary) -> None:
        text = self._part(summary.text, lambda: summary.text)
        concepts = ""
        if summary.concepts is not None:
            concepts = self._part(summary.concepts, lambda: summary.to_json()["concepts"])
        self.entries[key] = {
            "found": summary.found,
            "start_line": summary.start_line,
            "end_line": summary.end_line,
            "text": text,
            "error_count": summary.error_count,
            "concepts": concepts,
        }

    def _part(self, value: object, as_json: Callable[[], Any]) -> str:
        """The digest of ``value``'s part (``as_json()``), stored once per distinct object."""
        known = self._added.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        part = as_json()
        digest = _digest(part)
        self.parts[digest] = part
        self._added[id(value)] = (value, digest)
        return digest

    def to_json(self) -> dict[str, Any]:
        used = set()
        for doc in self.entries.values():
            if isinstance(doc, dict):
                used.update((doc.get("text"), doc.get("concepts")))
        return {
            "entries": self.entries,
            "parts": {d: p for d, p in self.parts.items() if d in used},
        }
