"""Blob summaries: what a timeline needs from one blob, computed once per distinct blob.

Each distinct blob is summarised once (parse, find the function, apply the branch rules when a
rule set exists); the summary is reused by every tag sharing the blob, and across runs through
:class:`~.resultcache.ResultCache` (all of a function's in one entry, :mod:`.summarybundle`),
keyed by blob id, function and :func:`rule_digest` (the rule files, every engine module, the
kvdiff version). How the missing ones are computed, proven from an earlier blob where possible
and on every core, is :mod:`.tagwork` and :mod:`.blobwork`'s part.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily at run time: a fully cached run never loads the parser
    from kvdiff.analyzers.analyze.reuse import Anchor
    from kvdiff.analyzers.analyze.ruleset import RuleSet
    from kvdiff.analyzers.parse.cparse import ParsedFile
    from kvdiff.analyzers.parse.extract import FunctionDef

# Where a concept's branch sits in one version.
IN_TARGET = "target"
IN_SIBLING = "sibling"
NOWHERE = "none"


@dataclass(frozen=True)
class TagBlob:
    """Where the file lives at ``tag``: ``blob_id`` is None when the tag's tree lacks it."""

    tag: str
    origin: str
    blob_id: str | None


@dataclass(frozen=True)
class ConceptHitSummary:
    function: str
    condition: str  # whitespace-normalised condition text
    moved: bool


@dataclass(frozen=True)
class ConceptSummary:
    concept: str
    state: str  # "present" (in the function) | "moved" (only in a sibling) | "absent"
    hits: tuple[ConceptHitSummary, ...]

    @property
    def where(self) -> str:
        if any(not h.moved for h in self.hits):
            return IN_TARGET
        return IN_SIBLING if self.hits else NOWHERE

    @property
    def conditions(self) -> tuple[str, ...]:
        return tuple(h.condition for h in self.hits)


@dataclass(frozen=True)
class BlobSummary:
    """What the timeline needs from one blob; this is what the result cache stores."""

    found: bool
    start_line: int = 0
    end_line: int = 0
    text: str = ""  # the whole lines of the function's first definition
    error_count: int = 0
    concepts: tuple[ConceptSummary, ...] | None = None  # None: no rule set for the function

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest() if self.found else ""

    def to_json(self) -> dict[str, Any]:
        concepts = None
        if self.concepts is not None:
            concepts = [
                [c.concept, c.state, [[h.function, h.condition, h.moved] for h in c.hits]]
                for c in self.concepts
            ]
        return {
            "found": self.found,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "text": self.text,
            "error_count": self.error_count,
            "concepts": concepts,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> BlobSummary:
        """Decode a cached summary; raises (TypeError/ValueError/KeyError) on any malformed part."""
        ints = ("start_line", "end_line", "error_count")
        if not isinstance(doc["found"], bool) or not isinstance(doc["text"], str):
            raise TypeError("bad summary")
        if any(type(doc[k]) is not int for k in ints):
            raise TypeError("bad summary")
        concepts = None
        if doc["concepts"] is not None:
            concepts = tuple(_concept_from_json(item) for item in doc["concepts"])
        return cls(
            found=doc["found"],
            start_line=doc["start_line"],
            end_line=doc["end_line"],
            text=doc["text"],
            error_count=doc["error_count"],
            concepts=concepts,
        )


def _concept_from_json(item: Any) -> ConceptSummary:
    concept, state, hits = item
    if not isinstance(concept, str) or not isinstance(state, str):
        raise TypeError("bad concept")
    out = []
    for function, condition, moved in hits:
        if not (isinstance(function, str) and isinstance(condition, str)):
            raise TypeError("bad hit")
        if not isinstance(moved, bool):
            raise TypeError("bad hit")
        out.append(ConceptHitSummary(function, condition, moved))
    return ConceptSummary(concept, state, tuple(out))


class Summarizer:
    """Turns a blob's bytes into a :class:`BlobSummary` for one function, with or without rules.

    ``digest`` identifies everything the summary depends on besides the blob and the function
    (rule files, the engine's code, the kvdiff version); it is part of the result-cache key.
    """

    def __init__(self, function: str, rules: RuleSet | None, digest: str) -> None:
        self.function = function
        self.rules = rules
        self.digest = digest
        self._tag_classes: dict[str, str] = {}
        # function-content key -> (error count, concept summaries); lives for one run
        self._by_content: dict[str, RulesPart] = {}

    def tag_class(self, tag: str) -> str:
        """What, besides the blob, makes the analysis differ between tags.

        The rules' history says per tag whether a concept is expected, expected absent, or
        moved to a sibling function (looked for there only then), so one blob can analyse
        differently on either side of a change.
        """
        if self.rules is None:
            return ""
        if tag not in self._tag_classes:
            parts = []
            for rule in self.rules.concepts:
                epoch = rule.expected_at(tag)
                state = "?" if epoch is None else epoch.state
                parts.append(f"{rule.concept}:{state}>{epoch.function if epoch else ''}")
            self._tag_classes[tag] = ",".join(parts)
        return self._tag_classes[tag]

    @property
    def rule_set(self) -> str | None:
        return self.rules.target if self.rules is not None else None

    def summarize(self, tag: str, path: str, blob_id: str, origin: str, data: bytes) -> BlobSummary:
        """Summarise the function's first definition (the one the rules analyse)."""
        return self.summarize_anchored(tag, path, blob_id, origin, data)[0]

    def summarize_anchored(
        self, tag: str, path: str, blob_id: str, origin: str, data: bytes
    ) -> tuple[BlobSummary, Anchor]:
        """The summary, and the blob as an anchor later blobs may reuse it from (:mod:`.reuse`)."""
        summary, key, anchor = self.locate(tag, path, blob_id, origin, data)
        if key is not None:
            fn = anchor.first
            assert fn is not None
            summary = complete(summary, self.analyse(tag, path, blob_id, origin, anchor.parsed, fn))
            anchor.summary = summary  # reused summaries are complete ones too
        return summary, anchor

    def locate(
        self,
        tag: str,
        path: str,
        blob_id: str,
        origin: str,
        data: bytes,
        base: tuple[ParsedFile, Sequence[tuple[int, int, int]]] | None = None,
    ) -> tuple[BlobSummary, str | None, Anchor]:
        """Parse and find the function: its summary without the rules' part, the key of that
        part (None: the summary is complete), and the blob as an anchor. ``base``: a parsed
        file and the edits that turn it into ``data`` (an incremental parse, the same tree)."""
        # Imported here so that a fully cached run never loads the parser or the rule engine.
        from kvdiff.analyzers.analyze.reuse import make_anchor
        from kvdiff.analyzers.parse.cparse import parse_c, reparse
        from kvdiff.analyzers.parse.extract import find_functions

        parsed = parse_c(data) if base is None else reparse(data, *base)
        defs = find_functions(parsed, self.function)
        names = [self.function, *self._siblings(tag)]
        every = [*defs, *(d for name in names[1:] for d in find_functions(parsed, name))]
        key = None
        if not defs:
            summary = BlobSummary(found=False)
        elif self.rules is None:
            fn = defs[0]
            summary = _summary(data, fn.start_line, fn.end_line, len(fn.errors), None)
        else:
            fn = defs[0]
            # Most new blobs change the file elsewhere: the rules' part holds no line numbers,
            # so one computed for the same function text (and the same siblings the rules may
            # search at this tag) is reused and only the parse is paid again.
            key = self._content_key(tag, parsed, fn)
            summary = _summary(data, fn.start_line, fn.end_line, 0, None)
            if key in self._by_content:
                summary, key = complete(summary, self._by_content[key]), None
        anchor = make_anchor(parsed, summary, names, every, defs[0] if defs else None)
        return summary, key, anchor

    def analyse(
        self, tag: str, path: str, blob_id: str, origin: str, parsed: ParsedFile, fn: FunctionDef
    ) -> RulesPart:
        """The rules' part of a summary: the error count and each concept's hits."""
        from kvdiff.analyzers.analyze.analysis import analyze_parsed
        from kvdiff.analyzers.source.repo import SourceFile

        key = self._content_key(tag, parsed, fn)
        found = self._by_content.get(key)
        if found is None:
            src = SourceFile(tag=tag, path=path, blob_id=blob_id, origin=origin, data=parsed.data)
            analysis = analyze_parsed(src, parsed, self.rules, self.function)
            concepts = tuple(
                _concept_summary(
                    status.concept,
                    tuple(
                        ConceptHitSummary(h.function, h.condition_normalized, bool(h.moved))
                        for h in status.hits
                    ),
                )
                for status in analysis.concepts
            )
            found = self._by_content[key] = (len(analysis.errors), concepts)
        return found

    def _content_key(self, tag: str, parsed: ParsedFile, fn: FunctionDef) -> str:
        """What an analysis of ``fn`` depends on: its text, where its parse errors sit relative
        to it, and the sibling functions the rules may look in at this tag."""
        from kvdiff.analyzers.parse.extract import find_functions

        h = hashlib.sha256(self.tag_class(tag).encode())
        h.update(b"\0" + parsed.data[fn.start_byte : fn.end_byte])
        for e in fn.errors:
            h.update(
                f"\0{e.kind}{e.start_byte - fn.start_byte}:{e.end_byte - fn.start_byte}".encode()
            )
        for sibling in self._siblings(tag):
            defs = find_functions(parsed, sibling)
            h.update(b"\0" + (parsed.data[defs[0].start_byte : defs[0].end_byte] if defs else b"-"))
        return h.hexdigest()

    def _siblings(self, tag: str) -> list[str]:
        names = set()
        for rule in self.rules.concepts if self.rules is not None else ():
            moved = rule.moved_at(tag)
            if moved is not None:
                names.add(moved.function)
        return sorted(names)


RulesPart = tuple[int, tuple[ConceptSummary, ...]]  # error count, concept summaries


def complete(summary: BlobSummary, part: RulesPart) -> BlobSummary:
    """``summary`` (from :meth:`Summarizer.locate`) with the rules' part filled in."""
    return replace(summary, error_count=part[0], concepts=part[1])


def _summary(
    data: bytes,
    start_line: int,
    end_line: int,
    error_count: int,
    concepts: tuple[ConceptSummary, ...] | None,
) -> BlobSummary:
    # The function's content is its whole lines: the same slice whichever path found it.
    lines = data.split(b"\n")[start_line - 1 : end_line]
    return BlobSummary(
        found=True,
        start_line=start_line,
        end_line=end_line,
        text=b"\n".join(lines).decode("utf-8", errors="replace"),
        error_count=error_count,
        concepts=concepts,
    )


def _concept_summary(concept: str, hits: tuple[ConceptHitSummary, ...]) -> ConceptSummary:
    # The state is derived from where the hits are, not copied from the rule engine: its
    # "expected-absent" depends on the tag, while a summary is shared by every tag of a blob.
    where = ConceptSummary(concept, "", hits).where
    state = {IN_TARGET: "present", IN_SIBLING: "moved", NOWHERE: "absent"}[where]
    return ConceptSummary(concept, state, hits)


def engine_files() -> list[Path]:
    """Every file whose change could alter a blob summary: the parse and analyze stages (this
    summarizer included), their rule sets and the shared vocabulary. Derived from the stage
    folders, so moved or added modules still invalidate the result cache (tested)."""
    root = Path(__file__).resolve().parent.parent
    files = [
        *root.glob("parse/*.py"),
        *root.glob("analyze/*.py"),
        *root.glob("analyze/rules/*.toml"),
        root / "concepts.py",
        root / "versions.py",
    ]
    return sorted(files)


def _kvdiff_version() -> str:
    try:
        return metadata.version("kvdiff")
    except metadata.PackageNotFoundError:
        return "unknown"


def rule_digest(extra: Iterable[Path] = ()) -> str:
    """Hash of the rule files, the analysing code and the kvdiff version.

    Any change to what could alter a summary changes the digest, so stale cache entries are
    simply never looked up again.
    """
    h = hashlib.sha256(_kvdiff_version().encode())
    for path in [*engine_files(), *extra]:
        h.update(b"\0" + path.name.encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()


def make_summarizer(
    function: str, rules: RuleSet | None, rules_file: Path | None = None
) -> Summarizer:
    """A summarizer for ``function`` with ``rules`` (None: line changes only); ``rules_file`` is
    where they were loaded from when not from the packaged rule sets."""
    tag = "rules" if rules is not None else "no-rules"
    extra = [rules_file] if rules_file is not None and rules is not None else []
    return Summarizer(function, rules, f"{tag}:{rule_digest(extra)}")


@dataclass(frozen=True)
class BlobSummaries:
    """The summary of every tag whose tree has the file, and how much work they took."""

    by_tag: dict[str, BlobSummary]
    distinct: int  # distinct (blob, tag class) pairs
    analysed: int  # summaries computed in this run (the rest came from the result cache)
    cache_hits: int
