"""`kvdiff report` on the real corpus: pages, links, concept panels, model cells, determinism."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from conftest import TAGS
from kvdiff.analyzers.analyze.analysis import Analysis, analyze_source, load_rule_set
from kvdiff.analyzers.present.site.xref import ELIXIR
from kvdiff.analyzers.source.repo import SourceFile
from kvdiff.main import cli

PAIRS = list(zip(TAGS, TAGS[1:], strict=False))


@dataclass
class Page:
    """What the tests need of an HTML page, from the standard library's parser."""

    elements: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)

    def find(self, tag: str | None = None, **attrs: str) -> list[dict[str, str]]:
        out = []
        for t, a in self.elements:
            if tag is not None and t != tag:
                continue
            if all(a.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(a)
        return out

    def with_class(self, cls: str) -> list[tuple[str, dict[str, str]]]:
        return [(t, a) for t, a in self.elements if cls in a.get("class", "").split()]

    @property
    def all_text(self) -> str:
        return "".join(self.text)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.page.elements.append((tag, a))
        if "id" in a:
            assert a["id"] not in self.page.ids, f"duplicate id {a['id']}"
            self.page.ids.add(a["id"])

    def handle_data(self, data: str) -> None:
        self.page.text.append(data)


def parse_html(path: Path) -> Page:
    parser = _Parser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.page


def check_links(out: Path) -> int:
    """Every relative href/src of every page names an existing file and, with #x, an id in it."""
    pages = {p.name: parse_html(p) for p in out.glob("*.html")}
    checked = 0
    for name, page in pages.items():
        for tag, attrs in page.elements:
            ref = attrs.get("href") or attrs.get("src")
            if ref is None or tag not in ("a", "link", "script", "img"):
                continue
            parts = urlsplit(ref)
            if "xr" in (attrs.get("class") or "").split() and ref.startswith(ELIXIR + "/v"):
                continue  # the one kind of outside link: code cross-links to Elixir at the tag
            assert not parts.scheme and not parts.netloc, f"{name}: non-local reference {ref}"
            target = parts.path or name
            assert (out / target).is_file(), f"{name}: {ref} names a missing file"
            if parts.fragment:
                assert parts.fragment in pages[target].ids, f"{name}: {ref} names a missing id"
            checked += 1
    return checked


def run_report(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["report", *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def site(corpus_repo_args: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    cache = tmp_path_factory.mktemp("cache") / "c.git"
    code, output = run_report(*corpus_repo_args, "--cache", str(cache), "--out", str(out))
    assert code == 0, output
    return out


@pytest.fixture(scope="module")
def analyses(corpus: Path, manifest) -> dict[str, Analysis]:
    rules = load_rule_set()
    out = {}
    for tag in TAGS:
        data = (corpus / tag / "mm" / "rmap.c").read_bytes()
        src = SourceFile(tag, "mm/rmap.c", manifest.blob(tag, "mm/rmap.c"), "corpus", data)
        out[tag] = analyze_source(src, rules)
    return out


def test_every_page_exists_and_every_link_resolves(site: Path) -> None:
    names = {p.name for p in site.iterdir()}
    expected = {"index.html", "style.css", "site.js"}
    expected |= {f"tag-{t}.html" for t in TAGS}
    expected |= {f"diff-{a}--{b}.html" for a, b in PAIRS}
    assert expected <= names
    assert "history.html" not in names  # only with --history
    assert check_links(site) > 500
    index = parse_html(site / "index.html")
    hrefs = {a["href"] for a in index.find("a") if "href" in a}
    assert expected - {"index.html", "style.css", "site.js"} <= {h.split("#")[0] for h in hrefs}


def test_timeline_shows_real_blob_ids_and_spans(site: Path, analyses: dict, manifest) -> None:
    text = parse_html(site / "index.html").all_text
    for tag in TAGS:
        a = analyses[tag]
        assert manifest.blob(tag, "mm/rmap.c") in text
        assert f"{a.start_line}–{a.end_line}" in text


def test_tag_pages_have_every_line_anchored_with_its_concepts(site: Path, analyses: dict) -> None:
    for tag in TAGS:
        a = analyses[tag]
        page = parse_html(site / f"tag-{tag}.html")
        for n in range(a.start_line, a.end_line + 1):
            assert f"L{n}" in page.ids
        line_concepts = a.line_concepts()
        rows = {r["id"]: r for r in page.find("tr") if r.get("id", "").startswith("L")}
        for n, concepts in line_concepts.items():
            if f"L{n}" in rows:
                for c in concepts:
                    assert c in rows[f"L{n}"]["title"], (tag, n, c)
        assert len(page.find("script")) == 1


def test_concept_matrix_matches_the_analysis(site: Path, analyses: dict) -> None:
    page = parse_html(site / "index.html")
    cells = {(c["data-concept"], c["data-tag"]): c for c in page.find("td") if "data-concept" in c}
    for tag, a in analyses.items():
        for status in a.concepts:
            cell = cells[(status.concept, tag)]
            assert f"state-{status.state}" in cell["class"].split(), (tag, status.concept)
    # v5.10.37 has no young check at all, v5.1 does.
    assert "state-present" in cells[("young", "v5.1")]["class"]
    assert "state-present" not in cells[("young", "v5.10.37")]["class"]


def _primary(analysis: Analysis, concept: str):
    hits = analysis.concept(concept).hits
    return next((h for h in hits if not h.moved), hits[0] if hits else None)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_concept_panels_hold_the_analyzers_line_ranges(
    site: Path, analyses: dict, a: str, b: str
) -> None:
    page = parse_html(site / f"diff-{a}--{b}.html")
    for concept in ("anon", "migration"):
        assert f"panel-{concept}" in page.ids
        idx = next(
            i for i, (t, at) in enumerate(page.elements) if at.get("id") == f"panel-{concept}"
        )
        following = [at for t, at in page.elements[idx:] if t == "div" and "data-state" in at][:2]
        assert [s["data-tag"] for s in following] == [a, b]
        for side in following:
            hit = _primary(analyses[side["data-tag"]], concept)
            if hit is None:
                assert "data-start" not in side
            else:
                assert (int(side["data-start"]), int(side["data-end"])) == (
                    hit.start_line,
                    hit.end_line,
                )


def test_migration_panel_says_it_appears_at_2_6_35(site: Path) -> None:
    text = parse_html(site / "diff-v2.6.7--v2.6.35.html").all_text
    assert "Absent at v2.6.7; appears at v2.6.35." in text


def test_model_cells_match_kvdiff_model_matrix(
    site: Path, corpus_repo_args: list[str], tmp_path: Path
) -> None:
    src = [*corpus_repo_args, "--offline", "--cache", str(tmp_path / "c.git")]
    result = CliRunner().invoke(cli, ["model", "--matrix", "--json", *src])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = data if isinstance(data, list) else data.get("outcomes") or data.get("matrix")
    assert rows, "kvdiff model --matrix --json gave no outcomes"
    page = parse_html(site / "index.html")
    cells = {
        (c["data-scenario"], c["data-tag"]): c for c in page.find("td") if "data-scenario" in c
    }
    seen = 0
    for o in rows:
        cell = cells[(o["scenario"], o["tag"])]
        if o["applicable"]:
            assert cell["data-kind"] == o["decoded_after"]["kind"]
            assert cell["data-ret"] == o["ret"]
            seen += 1
        else:
            assert cell["data-kind"] == ""
    assert seen >= 28


def test_pair_model_panel_matches_run_scenario(site: Path) -> None:
    from kvdiff.analyzers.model import run_scenario

    page = parse_html(site / "diff-v2.6.35--v5.1.html")
    for scenario in ("compaction-anon", "reclaim-anon-swapcache"):
        idx = next(
            i for i, (t, at) in enumerate(page.elements) if at.get("id") == f"model-{scenario}"
        )
        sides = [at for t, at in page.elements[idx:] if t == "div" and "data-kind" in at][:2]
        for side in sides:
            o = run_scenario(side["data-tag"], scenario)
            assert (side["data-kind"], side["data-ret"]) == (o.decoded_after.kind, o.ret)


def test_two_runs_are_byte_identical(
    site: Path, corpus_repo_args: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "again"
    code, output = run_report(
        *corpus_repo_args, "--cache", str(tmp_path / "c.git"), "--out", str(out)
    )
    assert code == 0, output
    first = {p.name: p.read_bytes() for p in site.iterdir()}
    second = {p.name: p.read_bytes() for p in out.iterdir()}
    assert first == second
    assert all(b"\r\n" not in v for v in first.values())


def test_korean_ui(corpus_repo_args: list[str], tmp_path: Path) -> None:
    out = tmp_path / "ko"
    code, output = run_report(
        *corpus_repo_args, "--cache", str(tmp_path / "c.git"), "--out", str(out), "--lang", "ko"
    )
    assert code == 0, output
    html = (out / "diff-v5.1--v5.10.37.html").read_text(encoding="utf-8")
    assert '<html lang="ko">' in html
    for korean in ("개요", "함수 전체 나란히 비교", "분기 나란히 보기"):
        assert korean in html
    for english in ("Side-by-side diff", "Branches side by side", "Overview"):
        assert english not in html
    assert check_links(out) > 0


def test_any_function_of_any_file(corpus_repo_args: list[str], tmp_path: Path) -> None:
    out = tmp_path / "other"
    code, output = run_report(
        *corpus_repo_args,
        "--cache",
        str(tmp_path / "c.git"),
        "--out",
        str(out),
        "--tags",
        "v2.6.35,v5.1,v5.10.37",
        "--function",
        "migrate_pages",
        "--file",
        "mm/migrate.c",
        "--pairs",
        "v2.6.35..v5.10.37",
    )
    assert code == 0, output
    assert (out / "diff-v2.6.35--v5.10.37.html").is_file()
    index = parse_html(out / "index.html").all_text
    assert "No rule set exists for migrate_pages()" in index
    assert "reference model covers try_to_unmap_one()" in index
    assert not parse_html(out / "tag-v5.1.html").with_class("trace-section")
    check_links(out)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--pairs", "v5.1"], "is not of the form A..B"),
        (["--pairs", "v5.1..v9.9"], "v9.9 is not one of the report's tags"),
        (["--function", "no_such_function"], "function no_such_function not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    corpus_repo_args: list[str], tmp_path: Path, args: list[str], needle: str
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "report",
            *corpus_repo_args,
            "--cache",
            str(tmp_path / "c"),
            "--out",
            str(tmp_path / "o"),
            *args,
        ],
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kvdiff: error: ") and needle in lines[0]


def test_hit_calls_are_the_calls_inside_the_branch(corpus: Path, analyses: dict) -> None:
    """ConceptHit.calls (what the panels' call facts use) holds exactly the functions called
    between the branch's first and last byte: not the next arm's condition on its last line."""
    from kvdiff.analyzers.parse.cparse import captures, parse_c

    checked = 0
    for tag, a in analyses.items():
        data = (corpus / tag / "mm" / "rmap.c").read_bytes()
        calls = captures(
            "(call_expression function: (identifier) @c)", parse_c(data).tree.root_node
        )
        branches = {(b.start_line, b.end_line, b.condition_normalized): b for b in a.tree.walk()}
        for status in a.concepts:
            for hit in status.hits:
                if hit.moved:
                    continue
                b = branches[(hit.start_line, hit.end_line, hit.condition_normalized)]
                inside = {
                    data[n.start_byte : n.end_byte].decode()
                    for n in calls["c"]
                    if b.start_byte <= n.start_byte < b.end_byte
                }
                assert hit.calls == tuple(sorted(inside)), (tag, status.concept)
                checked += 1
    assert checked >= 25
    migration = _primary(analyses["v5.1"], "migration")
    assert "make_migration_entry" in migration.calls
    assert "PageAnon" not in migration.calls  # `} else if (PageAnon(page))` ends the branch


def test_call_facts_come_from_the_branch_only(site: Path) -> None:
    html = (site / "diff-v2.6.35--v5.1.html").read_text(encoding="utf-8")
    facts = html[html.index('id="panel-migration"') :].split("</ul>", 1)[0]
    new_calls = facts.split("New calls: ", 1)[1].split(".</li>", 1)[0].split(", ")
    assert "arch_unmap_one" in new_calls and "set_pte_at" in new_calls
    assert "PageAnon" not in new_calls


def test_lang_takes_a_comma_list_of_known_languages() -> None:
    from kvdiff.analyzers.errors import KvdiffError
    from kvdiff.analyzers.jobs.report import ReportRequest

    both = ReportRequest.from_options(lang="ko,en")
    assert (both.lang, both.other_langs) == ("ko", ("en",))
    assert ReportRequest.from_options(lang="en").other_langs == ()
    with pytest.raises(KvdiffError, match="unknown language 'xx'.*--lang en,ko"):
        ReportRequest.from_options(lang="en,xx")
    result = CliRunner().invoke(cli, ["report", "--lang", "fr", "--offline"])
    assert result.exit_code != 0
    assert result.output.strip().startswith("kvdiff: error: unknown language 'fr'")
    assert len(result.output.strip().splitlines()) == 1
