"""The result cache's entry for a history's blob summaries: one file for all of them."""

from __future__ import annotations

import hashlib
from typing import Any

from kvdiff.analyzers.analyze.summaries import BlobSummary


class Bundle:
    """The stored blob summaries of one function and summarizer: by entry key, the summary
    with its text replaced by the text's digest, and the texts once each (most blobs share
    the function's text with others)."""

    def __init__(self, entries: dict[str, Any], texts: dict[str, str]) -> None:
        self.entries = entries
        self.texts = texts

    @classmethod
    def load(cls, payload: dict[str, Any] | None) -> Bundle:
        entries, texts = (payload or {}).get("entries"), (payload or {}).get("texts")
        if not isinstance(entries, dict) or not isinstance(texts, dict):
            return cls({}, {})  # absent or damaged: every blob is a miss, then rewritten
        return cls(entries, texts)

    def get(self, key: str) -> BlobSummary | None:
        """The summary stored under ``key``; None when absent or damaged (then rebuilt)."""
        doc = self.entries.get(key)
        try:
            text = self.texts[doc["text"]]
            summary = BlobSummary.from_json({**doc, "text": text})
        except (TypeError, ValueError, KeyError, AttributeError):
            return None  # a damaged entry is rebuilt, never trusted
        return summary if hashlib.sha256(text.encode()).hexdigest() == doc["text"] else None

    def add(self, key: str, summary: BlobSummary) -> None:
        doc = summary.to_json()
        digest = hashlib.sha256(summary.text.encode()).hexdigest()
        self.texts[digest] = summary.text
        self.entries[key] = {**doc, "text": digest}

    def to_json(self) -> dict[str, Any]:
        used = {doc.get("text") for doc in self.entries.values() if isinstance(doc, dict)}
        return {
            "entries": self.entries,
            "texts": {d: t for d, t in self.texts.items() if d in used},
        }
