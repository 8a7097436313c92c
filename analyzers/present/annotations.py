"""Authored annotations: the English and Korean words on each concept card, per version range.

The words live in ``analyzers/present/annotations/<target>.toml``; this module only loads and
checks them and answers "which text applies to this tag?". Computed facts (line numbers,
conditions) come from the analysis stage; these files hold what a reader needs that the
source cannot say itself.

A text's ``tags`` is a version range (see :func:`parse_tag_range`). Its optional ``cites`` and
``lacks`` name identifiers the prose says the target function uses (or no longer uses) at those
tags, and ``evidence`` entries do the same for other functions; the test suite checks them against
the real kernel corpus, so the prose cannot silently drift from the source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kvdiff.analyzers.concepts import BY_ID, CONCEPT_IDS
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.present.site.strings import LANGS
from kvdiff.analyzers.present.tomlcache import load_toml
from kvdiff.analyzers.versions import TagRange, parse_tag_range, parse_version, version_key

if TYPE_CHECKING:
    from kvdiff.analyzers.analyze.resultcache import ResultCache

# Packaged data: the annotation files are installed with kvdiff.analyzers.present, in its folder
# (found from this module, as importlib.resources finds it, without its readers' imports).
ANNOTATIONS_DIR = Path(__file__).parent / "annotations"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Localized:
    """One text in every language of the site."""

    en: str
    ko: str

    def get(self, lang: str) -> str:
        return self.ko if _check_lang(lang) == "ko" else self.en


@dataclass(frozen=True)
class Evidence:
    """Identifiers a piece of prose claims occur (``cites``) or do not occur (``lacks``) in
    ``function`` of ``path`` at every corpus tag in ``tags``."""

    tags: TagRange
    path: str
    function: str
    cites: tuple[str, ...]
    lacks: tuple[str, ...]


@dataclass(frozen=True)
class Text:
    """One authored card text for a concept over a version range."""

    concept: str
    tags: TagRange
    writes: Localized
    when: Localized
    callers: Localized
    absent: bool  # the concept has no branch at these tags; the text says what happens instead
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Change:
    """An authored explanation of what changed in a concept's branch from one tag to another."""

    concept: str
    from_tag: str
    to_tag: str
    text: Localized
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Card:
    """What the site prints on a concept's annotation card, in one language."""

    concept: str
    writes: str
    when: str
    callers: str
    absent: bool = False
    tags: str = ""  # the range the text was written for, e.g. "v5.1..v5.10.37"


@dataclass(frozen=True)
class Question:
    """The question an annotation file asks, in every language."""

    title: str
    paragraphs: tuple[str, ...]
    answer: str = ""  # the answer in one sentence, for the index


@dataclass(frozen=True)
class Annotations:
    """One function's annotation file, parsed."""

    target: str
    source: str  # where the words came from ("" when there is no annotation file)
    texts: tuple[Text, ...] = ()
    changes: tuple[Change, ...] = ()
    question_title: Localized | None = None
    question_body: Localized | None = None
    question_evidence: tuple[Evidence, ...] = ()
    question_answer: Localized | None = None

    def texts_for(self, concept: str, tag: str) -> tuple[Text, ...]:
        """All texts of ``concept`` whose range contains ``tag`` (file order)."""
        return tuple(t for t in self.texts if t.concept == concept and t.tags.matches(tag))

    def card(self, concept: str, tag: str, lang: str) -> Card | None:
        """The card for ``concept`` at ``tag``, or None when nothing was written for that tag.

        Ranges of one concept are meant not to overlap (the tests check the four target tags);
        should they, the first text in the file wins.
        """
        _check_lang(lang)
        found = self.texts_for(concept, tag)
        if not found:
            return None
        t = found[0]
        return Card(
            concept=concept,
            writes=t.writes.get(lang),
            when=t.when.get(lang),
            callers=t.callers.get(lang),
            absent=t.absent,
            tags=t.tags.spec,
        )

    def change(self, concept: str, tag_a: str, tag_b: str, lang: str) -> str | None:
        """The authored explanation of ``concept`` from ``tag_a`` to ``tag_b``; an entry written
        the other way round is used when there is none in the asked direction."""
        _check_lang(lang)
        for a, b in ((tag_a, tag_b), (tag_b, tag_a)):
            for c in self.changes:
                if c.concept == concept and c.from_tag == a and c.to_tag == b:
                    return c.text.get(lang)
        return None

    def question(self, lang: str) -> Question:
        """The study group's question and its answer; empty when none was written."""
        _check_lang(lang)
        if self.question_title is None or self.question_body is None:
            return Question(title="", paragraphs=())
        return Question(
            title=self.question_title.get(lang),
            paragraphs=_paragraphs(self.question_body.get(lang)),
            answer=self.question_answer.get(lang) if self.question_answer else "",
        )

    def all_evidence(self) -> tuple[tuple[str, Evidence], ...]:
        """Every evidence entry with a label saying which text it backs (for the tests)."""
        out: list[tuple[str, Evidence]] = []
        for t in self.texts:
            out += [(f"concept.{t.concept}.text[{t.tags.spec}]", e) for e in t.evidence]
        for c in self.changes:
            label = f"concept.{c.concept}.change[{c.from_tag}->{c.to_tag}]"
            out += [(label, e) for e in c.evidence]
        out += [("question", e) for e in self.question_evidence]
        return tuple(out)


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise KvdiffError(
            f"unknown annotation language {lang!r}: annotations are written in "
            f"{', '.join(LANGS)}; pass one of those"
        )
    return lang


def _paragraphs(body: str) -> tuple[str, ...]:
    """Blank-line separated paragraphs; line breaks inside a paragraph become spaces."""
    paras = []
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines:
            paras.append(" ".join(lines))
    return tuple(paras)


# --- loading ------------------------------------------------------------------------------------


class _Malformed(Exception):
    """A problem at a location in the annotation file; turned into one KvdiffError line."""


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{where} must be a table")
    return value


def _keys(table: Mapping[str, Any], where: str, required: set[str], optional: set[str]) -> None:
    # Unknown keys first: a misspelt key ("kr" for "ko") also shows up as a missing one.
    unknown = sorted(table.keys() - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise _Malformed(f"{where} has unknown key {unknown[0]!r} (allowed: {allowed})")
    missing = sorted(required - table.keys())
    if missing:
        raise _Malformed(f"{where} is missing {', '.join(missing)}")


def _localized(value: Any, where: str) -> Localized:
    table = _table(value, where)
    _keys(table, where, set(LANGS), set())
    for lang in LANGS:
        text = table[lang]
        if not isinstance(text, str) or not text.strip():
            raise _Malformed(f"{where}.{lang} must be non-empty text")
        if re.search(r"<[A-Za-z/!]", text):
            raise _Malformed(f"{where}.{lang} looks like HTML; annotations are plain text")
    return Localized(en=table["en"].strip(), ko=table["ko"].strip())


def _is_ident(value: Any) -> bool:
    return isinstance(value, str) and _IDENT.match(value) is not None


def _identifiers(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and _IDENT.match(v) for v in value
    ):
        raise _Malformed(f"{where} must be a list of C identifiers")
    return tuple(value)


def _range(value: Any, where: str) -> TagRange:
    if not isinstance(value, (str, list)):
        raise _Malformed(f"{where} must be a range string or a list of tags")
    try:
        return parse_tag_range(value)
    except ValueError as exc:
        raise _Malformed(f"{where}: {exc}") from None


def _evidence_list(
    value: Any, where: str, default_tags: TagRange | None, path: str, target: str
) -> list[Evidence]:
    if not isinstance(value, list):
        raise _Malformed(f"{where} must be an array of tables ([[...evidence]])")
    out = []
    for i, item in enumerate(value):
        w = f"{where}[{i}]"
        table = _table(item, w)
        required = set() if default_tags is not None else {"tags"}
        _keys(table, w, required, {"tags", "path", "function", "cites", "lacks"})
        tags = _range(table["tags"], f"{w}.tags") if "tags" in table else default_tags
        assert tags is not None
        out.append(
            Evidence(
                tags=tags,
                path=str(table.get("path", path)),
                function=str(table.get("function", target)),
                cites=_identifiers(table.get("cites", []), f"{w}.cites"),
                lacks=_identifiers(table.get("lacks", []), f"{w}.lacks"),
            )
        )
    return out


def _text(concept: str, i: int, value: Any, path: str, target: str) -> Text:
    where = f"concept.{concept}.text[{i}]"
    table = _table(value, where)
    _keys(
        table,
        where,
        {"tags", "writes", "when", "callers"},
        {"absent", "cites", "lacks", "evidence"},
    )
    tags = _range(table["tags"], f"{where}.tags")
    absent = table.get("absent", False)
    if not isinstance(absent, bool):
        raise _Malformed(f"{where}.absent must be true or false")
    evidence = []
    if "cites" in table or "lacks" in table:
        evidence.append(
            Evidence(
                tags=tags,
                path=path,
                function=target,
                cites=_identifiers(table.get("cites", []), f"{where}.cites"),
                lacks=_identifiers(table.get("lacks", []), f"{where}.lacks"),
            )
        )
    evidence += _evidence_list(table.get("evidence", []), f"{where}.evidence", tags, path, target)
    return Text(
        concept=concept,
        tags=tags,
        writes=_localized(table["writes"], f"{where}.writes"),
        when=_localized(table["when"], f"{where}.when"),
        callers=_localized(table["callers"], f"{where}.callers"),
        absent=absent,
        evidence=tuple(evidence),
    )


def _change(concept: str, i: int, value: Any, path: str, target: str) -> Change:
    where = f"concept.{concept}.change[{i}]"
    table = _table(value, where)
    _keys(table, where, {"from", "to", *LANGS}, {"evidence"})
    tags = []
    for key in ("from", "to"):
        tag = table[key]
        if not isinstance(tag, str) or parse_version(tag) is None:
            raise _Malformed(f"{where}.{key} must be a version tag like v5.1, not {tag!r}")
        tags.append(tag)
    if version_key(tags[0]) >= version_key(tags[1]):
        raise _Malformed(f"{where}: 'from' ({tags[0]}) must be before 'to' ({tags[1]})")
    text = _localized({lang: table[lang] for lang in LANGS}, where)
    evidence = _evidence_list(table.get("evidence", []), f"{where}.evidence", None, path, target)
    return Change(concept, tags[0], tags[1], text, tuple(evidence))


def parse_annotations(
    text: str, source: str, target: str, cache: ResultCache | None = None
) -> Annotations:
    """Build :class:`Annotations` from TOML text; any problem is one :class:`KvdiffError` line.
    ``cache``: where the parsed TOML is kept between runs (see :mod:`.tomlcache`)."""
    try:
        return _parse(text, source, target, cache)
    except _Malformed as exc:
        problem = f"is malformed: {exc}"
    except ValueError as exc:
        from tomllib import TOMLDecodeError  # what tomllib raises, if it parsed and raised

        if not isinstance(exc, TOMLDecodeError):
            raise
        problem = f"is not valid TOML ({exc})"
    raise KvdiffError(
        f"annotation file {source} {problem}; fix the file "
        "(schema: analyzers/present/annotations.py)"
    )


def _parse(text: str, source: str, target: str, cache: ResultCache | None) -> Annotations:
    doc = load_toml(text, cache)
    _keys(doc, "the file", {"meta"}, {"concept", "question"})
    meta = _table(doc["meta"], "[meta]")
    _keys(meta, "[meta]", {"target"}, {"path"})
    if meta["target"] != target:
        raise _Malformed(f"[meta] target is {meta['target']!r} but the file is for {target!r}")
    path = meta.get("path", "mm/rmap.c")
    if not isinstance(path, str) or not path:
        raise _Malformed("[meta] path must be a file path like mm/rmap.c")

    texts: list[Text] = []
    changes: list[Change] = []
    concepts = _table(doc.get("concept", {}), "[concept]")
    # Registry order, so the output does not depend on how the file happens to be arranged.
    for cid in sorted(concepts, key=lambda c: (CONCEPT_IDS.index(c) if c in BY_ID else -1, c)):
        if cid not in BY_ID:
            raise _Malformed(
                f"[concept.{cid}] is not a concept id (known: {', '.join(CONCEPT_IDS)})"
            )
        table = _table(concepts[cid], f"[concept.{cid}]")
        _keys(table, f"[concept.{cid}]", set(), {"text", "change"})
        for key in ("text", "change"):
            if not isinstance(table.get(key, []), list):
                raise _Malformed(f"concept.{cid}.{key} must be an array of tables ([[...]])")
        texts += [_text(cid, i, v, path, target) for i, v in enumerate(table.get("text", []))]
        changes += [_change(cid, i, v, path, target) for i, v in enumerate(table.get("change", []))]

    title = body = answer = None
    q_evidence: list[Evidence] = []
    if "question" in doc:
        q = _table(doc["question"], "[question]")
        _keys(q, "[question]", {"title", "body"}, {"evidence", "answer"})
        answer = _localized(q["answer"], "question.answer") if "answer" in q else None
        title = _localized(q["title"], "question.title")
        body = _localized(q["body"], "question.body")
        q_evidence = _evidence_list(q.get("evidence", []), "question.evidence", None, path, target)
    return Annotations(
        target=target,
        source=source,
        texts=tuple(texts),
        changes=tuple(changes),
        question_title=title,
        question_body=body,
        question_evidence=tuple(q_evidence),
        question_answer=answer,
    )


def load_annotations(
    target: str = "try_to_unmap_one",
    directory: Path | None = None,
    cache: ResultCache | None = None,
) -> Annotations:
    """Read ``<directory>/<target>.toml`` (default: the packaged annotations).

    A target nobody has written annotations for gets empty Annotations: the site then shows
    computed facts only. A file that exists but is malformed is a :class:`KvdiffError`.
    """
    if not _IDENT.match(target):
        raise KvdiffError(
            f"{target!r} is not a C function name, so it has no annotation file; "
            "pass the function's identifier"
        )
    file = (directory or ANNOTATIONS_DIR) / f"{target}.toml"
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return Annotations(target=target, source="")
    except OSError as exc:
        raise KvdiffError(
            f"cannot read annotation file {file}: {exc.strerror}; check its permissions"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KvdiffError(f"annotation file {file} is not UTF-8 text; save it as UTF-8") from None
    return parse_annotations(text, str(file), target, cache)
