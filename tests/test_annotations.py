"""Authored annotations: the file's shape, the version-range logic, and the prose's honesty.

The last group reads the real kernel corpus: every identifier a text cites must occur in the
function it names at each tag the text covers (and every identifier it says is gone must not),
comments excluded, so the English and Korean cannot drift from the source.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kvdiff.analyzers.concepts import CONCEPT_IDS
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.parse.cparse import parse_c
from kvdiff.analyzers.parse.extract import find_functions
from kvdiff.analyzers.present.annotations import (
    ANNOTATIONS_DIR,
    Annotations,
    Card,
    Evidence,
    Localized,
    load_annotations,
    parse_annotations,
    parse_tag_range,
)
from kvdiff.analyzers.present.site.strings import LANGS

from tests.conftest import TAGS

TOML = ANNOTATIONS_DIR / "try_to_unmap_one.toml"
# The concepts and tag pairs for which the brief requires an authored change explanation.
REQUIRED_CHANGE_CONCEPTS = ("anon", "migration", "swapcache", "young", "mlock")
REQUIRED_PAIRS = (
    ("v2.6.7", "v2.6.35"),
    ("v2.6.35", "v5.1"),
    ("v5.1", "v5.10.37"),
    ("v2.6.35", "v5.10.37"),
)


@pytest.fixture(scope="module")
def ann() -> Annotations:
    return load_annotations("try_to_unmap_one")


def _all_localized(a: Annotations) -> list[tuple[str, Localized]]:
    out: list[tuple[str, Localized]] = []
    for t in a.texts:
        where = f"{t.concept}[{t.tags.spec}]"
        out += [(f"{where}.writes", t.writes), (f"{where}.when", t.when)]
        out.append((f"{where}.callers", t.callers))
    out += [(f"{c.concept}[{c.from_tag}->{c.to_tag}]", c.text) for c in a.changes]
    assert a.question_title is not None and a.question_body is not None
    out += [("question.title", a.question_title), ("question.body", a.question_body)]
    return out


# --- the file -----------------------------------------------------------------------------------


def test_file_parses_and_targets_try_to_unmap_one(ann: Annotations) -> None:
    assert ann.target == "try_to_unmap_one"
    assert ann.source == str(TOML)
    assert len(ann.texts) >= len(CONCEPT_IDS)
    assert len(ann.changes) >= len(REQUIRED_CHANGE_CONCEPTS) * len(REQUIRED_PAIRS)


def test_every_concept_key_is_a_registered_concept_id() -> None:
    doc = tomllib.loads(TOML.read_text(encoding="utf-8"))
    used = set(doc["concept"])
    assert used <= set(CONCEPT_IDS), sorted(used - set(CONCEPT_IDS))
    # and every registered concept has at least one card
    assert used == set(CONCEPT_IDS), sorted(set(CONCEPT_IDS) - used)


def test_every_text_has_non_empty_english_and_korean(ann: Annotations) -> None:
    for where, loc in _all_localized(ann):
        assert loc.en.strip(), where
        assert loc.ko.strip(), where
        assert loc.en != loc.ko, f"{where}: Korean is a copy of the English"
        # Korean text is actually Korean (Hangul syllables), not untranslated English.
        assert re.search(r"[\uac00-\ud7a3]", loc.ko), where
        assert not re.search(r"[\uac00-\ud7a3]", loc.en), where


def test_text_is_plain_no_html_no_markdown(ann: Annotations) -> None:
    for where, loc in _all_localized(ann):
        for lang in LANGS:
            text = loc.get(lang)
            assert not re.search(r"<[A-Za-z/!]", text), f"{where}.{lang} has HTML"
            assert "`" not in text and "**" not in text, f"{where}.{lang} has markdown"


@pytest.mark.parametrize("tag", TAGS)
def test_each_tag_selects_exactly_one_text_per_concept(ann: Annotations, tag: str) -> None:
    for concept in CONCEPT_IDS:
        found = ann.texts_for(concept, tag)
        assert len(found) == 1, (concept, tag, [t.tags.spec for t in found])
        for lang in LANGS:
            card = ann.card(concept, tag, lang)
            assert isinstance(card, Card) and card.concept == concept
            assert card.writes and card.when and card.callers
            assert card.tags == found[0].tags.spec


def test_cards_follow_the_source_per_version(ann: Annotations) -> None:
    # The traps the brief warns about, as the cards state them.
    young_new = ann.card("young", "v5.10.37", "en")
    assert young_new is not None and young_new.absent
    young_51 = ann.card("young", "v5.1", "en")
    assert young_51 is not None and not young_51.absent
    migration_old = ann.card("migration", "v2.6.7", "ko")
    assert migration_old is not None and migration_old.absent
    assert ann.card("gup", "v2.6.7", "en") == Card(
        "gup",
        ann.texts_for("gup", "v2.6.7")[0].writes.en,
        ann.texts_for("gup", "v2.6.7")[0].when.en,
        ann.texts_for("gup", "v2.6.7")[0].callers.en,
        False,
        "v2.6.7",
    )
    gup_new = ann.card("gup", "v5.1", "en")
    assert gup_new is not None and gup_new.absent
    mlock_35 = ann.card("mlock", "v2.6.35", "en")
    assert mlock_35 is not None and "SWAP_MLOCK" in mlock_35.writes
    # A tag the annotations were not written for, and a non-version ref, get no card.
    assert ann.card("migration", "v6.1", "en") is None
    assert ann.card("migration", "master", "en") is None


def test_required_change_entries_exist_in_both_languages(ann: Annotations) -> None:
    for concept in REQUIRED_CHANGE_CONCEPTS:
        for a, b in REQUIRED_PAIRS:
            en = ann.change(concept, a, b, "en")
            ko = ann.change(concept, a, b, "ko")
            assert en and ko, (concept, a, b)
            assert en != ko


def test_change_lookup(ann: Annotations) -> None:
    forward = ann.change("migration", "v2.6.35", "v5.1", "en")
    assert forward is not None and "PageAnon" in forward
    # asked the other way round, the authored entry is still found
    assert ann.change("migration", "v5.1", "v2.6.35", "en") == forward
    assert ann.change("migration", "v2.6.7", "v5.1", "en") is None
    assert ann.change("no-such-concept", "v2.6.35", "v5.1", "en") is None


def test_question_answers_in_both_languages(ann: Annotations) -> None:
    en, ko = ann.question("en"), ann.question("ko")
    assert en.title == "Why a swap entry after compaction?"
    assert ko.title and ko.title != en.title
    assert len(en.paragraphs) >= 4
    assert len(en.paragraphs) == len(ko.paragraphs)
    for p in en.paragraphs + ko.paragraphs:
        assert "\n" not in p and p == p.strip()
    for ident in ("SWP_MIGRATION_READ", "migration_entry_wait", "PageSwapCache", "PFN"):
        assert ident in " ".join(en.paragraphs), ident
        assert ident in " ".join(ko.paragraphs), ident


def test_unknown_language_is_a_one_line_error(ann: Annotations) -> None:
    with pytest.raises(KvdiffError) as exc:
        ann.card("anon", "v5.1", "fr")
    assert "\n" not in exc.value.message and "en, ko" in exc.value.message


# --- version ranges -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "inside", "outside"),
    [
        ("*", ["v2.6.7", "v5.10.37", "master"], []),
        (">=v5.1", ["v5.1", "v5.1.1", "v5.10.37", "v6.0"], ["v5.1-rc7", "v5.0", "v2.6.35", "main"]),
        (">v5.1", ["v5.1.1", "v5.10.37"], ["v5.1", "v5.0"]),
        ("<v2.6.16", ["v2.6.7", "v2.6.15.7", "v2.6.16-rc1"], ["v2.6.16", "v2.6.35", "v5.1"]),
        ("<=v2.6.35", ["v2.6.7", "v2.6.35"], ["v2.6.35.1", "v5.1"]),
        (
            "v2.6.35..v5.10.37",
            ["v2.6.35", "v2.6.39", "v3.0", "v5.1", "v5.10", "v5.10.37"],
            ["v2.6.34", "v2.6.7", "v5.10.38", "v5.11", "v6.0"],
        ),
        ("v5.1", ["v5.1"], ["v5.1.0", "v5.10", "v5.1-rc1"]),
        (["v2.6.7", "v5.1"], ["v2.6.7", "v5.1"], ["v2.6.35", "v5.10.37"]),
    ],
)
def test_tag_ranges_on_tricky_tags(spec: str | list[str], inside: list[str], outside: list[str]):
    r = parse_tag_range(spec)
    for tag in inside:
        assert r.matches(tag), (spec, tag)
    for tag in outside:
        assert not r.matches(tag), (spec, tag)


@pytest.mark.parametrize(
    "spec", ["", ">=five", "<", "v5.10..v5.1", "v5.1..main", "v1 v2", [], [""], "..v5.1"]
)
def test_malformed_ranges_are_rejected(spec: str | list[str]) -> None:
    with pytest.raises(ValueError):
        parse_tag_range(spec)


_versions = st.lists(st.integers(0, 40), min_size=2, max_size=4).map(
    lambda ns: "v" + ".".join(map(str, ns))
)


@given(_versions, _versions)
def test_ranges_partition_the_version_line(bound: str, tag: str) -> None:
    assert parse_tag_range(f">={bound}").matches(tag) != parse_tag_range(f"<{bound}").matches(tag)
    assert parse_tag_range(f"<={bound}").matches(tag) != parse_tag_range(f">{bound}").matches(tag)
    inclusive = parse_tag_range(f"{bound}..{bound}").matches(tag)
    assert inclusive == (
        parse_tag_range(f">={bound}").matches(tag) and not parse_tag_range(f">{bound}").matches(tag)
    )


# --- loading errors -----------------------------------------------------------------------------

_GOOD = """
[meta]
target = "f"

[[concept.anon.text]]
tags = "*"
writes.en = "w"
writes.ko = "쓴다"
when.en = "w"
when.ko = "때"
callers.en = "c"
callers.ko = "호출"
"""


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[meta\ntarget = 'f'", "not valid TOML"),
        (_GOOD.replace('target = "f"', 'target = "g"'), "target"),
        (_GOOD.replace("concept.anon", "concept.anonymous"), "not a concept id"),
        (_GOOD.replace('callers.ko = "호출"', ""), "callers is missing ko"),
        (_GOOD.replace('callers.ko = "호출"', 'callers.ko = "  "'), "non-empty"),
        (_GOOD.replace('callers.ko = "호출"', 'callers.kr = "호출"'), "unknown key 'kr'"),
        (_GOOD.replace('tags = "*"', 'tags = ">=v5.x"'), "tags"),
        (_GOOD.replace('tags = "*"', "tags = 5"), "tags"),
        (_GOOD.replace('writes.en = "w"', 'writes.en = "<b>w</b>"'), "HTML"),
        (_GOOD + 'cites = ["not an ident"]\n', "C identifiers"),
        (
            _GOOD + '[[concept.anon.change]]\nfrom = "v5.1"\nto = "v2.6.7"\nen = "a"\nko = "가"\n',
            "must be before",
        ),
        (_GOOD + "[question]\ntitle.en = 't'\ntitle.ko = '제목'\n", "question"),
        ("[concept.anon]\n", "missing meta"),
    ],
)
def test_malformed_file_is_one_kvdiff_error_line(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "f.toml").write_text(text, encoding="utf-8")
    with pytest.raises(KvdiffError) as exc:
        load_annotations("f", directory=tmp_path)
    message = exc.value.message
    assert "\n" not in message
    assert needle in message, message
    assert str(tmp_path / "f.toml") in message and "fix the file" in message


def test_good_minimal_file_loads(tmp_path: Path) -> None:
    (tmp_path / "f.toml").write_text(_GOOD, encoding="utf-8")
    a = load_annotations("f", directory=tmp_path)
    card = a.card("anon", "whatever-ref", "ko")
    assert card == Card("anon", "쓴다", "때", "호출", False, "*")
    assert a.card("file", "v5.1", "en") is None
    assert a.question("en").paragraphs == ()


def test_missing_file_gives_empty_annotations(tmp_path: Path) -> None:
    a = load_annotations("no_such_function", directory=tmp_path)
    assert a.texts == () and a.changes == () and a.source == ""
    assert a.card("anon", "v5.1", "en") is None
    assert a.change("anon", "v2.6.35", "v5.1", "en") is None
    assert a.question("ko").paragraphs == ()


def test_non_utf8_and_bad_target_names_are_errors(tmp_path: Path) -> None:
    (tmp_path / "f.toml").write_bytes(b"\xff\xfe[meta]")
    with pytest.raises(KvdiffError, match="not UTF-8"):
        load_annotations("f", directory=tmp_path)
    with pytest.raises(KvdiffError, match="not a C function name"):
        load_annotations("../etc/passwd", directory=tmp_path)


def test_parse_is_deterministic() -> None:
    text = TOML.read_text(encoding="utf-8")
    assert parse_annotations(text, "x", "try_to_unmap_one") == parse_annotations(
        text, "x", "try_to_unmap_one"
    )


# --- honesty against the real kernel source -----------------------------------------------------


def _strip_comments(data: bytes, node) -> str:  # type: ignore[no-untyped-def]
    """The node's source with comments blanked out, so a cited identifier must be real code."""
    start, end = node.start_byte, node.end_byte
    buf = bytearray(data[start:end])
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "comment":
            for i in range(n.start_byte - start, n.end_byte - start):
                buf[i] = 0x20
        else:
            stack.extend(n.children)
    return buf.decode("utf-8", errors="replace")


def _code(corpus: Path, tag: str, ev: Evidence, cache: dict) -> str:
    key = (tag, ev.path, ev.function)
    if key not in cache:
        file = corpus / tag / ev.path
        assert file.is_file(), f"cannot verify: the corpus has no {ev.path} at {tag}"
        parsed = parse_c(file.read_bytes())
        if ev.function == "*":
            cache[key] = _strip_comments(parsed.data, parsed.tree.root_node)
        else:
            defs = find_functions(parsed, ev.function)
            assert defs, f"cannot verify: no function {ev.function} in {ev.path} at {tag}"
            cache[key] = "\n".join(_strip_comments(parsed.data, d.node) for d in defs)
    return cache[key]


def test_cited_identifiers_occur_in_the_source_at_their_tags(
    corpus: Path, ann: Annotations
) -> None:
    cache: dict = {}
    problems: list[str] = []
    checks = 0
    for label, ev in ann.all_evidence():
        tags = [t for t in TAGS if ev.tags.matches(t)]
        assert tags, f"{label}: evidence covers none of the corpus tags"
        for tag in tags:
            code = _code(corpus, tag, ev, cache)
            for ident in ev.cites:
                checks += 1
                if not re.search(rf"\b{re.escape(ident)}\b", code):
                    problems.append(f"{label}: {ident} not in {ev.function} ({ev.path}) at {tag}")
            for ident in ev.lacks:
                checks += 1
                if re.search(rf"\b{re.escape(ident)}\b", code):
                    problems.append(f"{label}: {ident} IS in {ev.function} ({ev.path}) at {tag}")
    assert not problems, "\n".join(problems)
    assert checks > 300  # the check is not vacuous


def test_every_present_card_cites_the_target_function(ann: Annotations) -> None:
    # A card describing a branch must be backed by identifiers from try_to_unmap_one itself;
    # a card saying the branch is absent must name what is missing.
    for t in ann.texts:
        own = [e for e in t.evidence if e.function == "try_to_unmap_one"]
        if t.absent:
            assert any(e.lacks for e in own), f"{t.concept}[{t.tags.spec}] absent but lacks nothing"
        else:
            assert any(e.cites for e in own), f"{t.concept}[{t.tags.spec}] cites nothing"
