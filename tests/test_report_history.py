"""`kvdiff report --history`: the timeline page on the corpus and on a synthetic repository whose
versions start at tags the report does not show (their pages are made on demand)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TAGS
from kvdiff.analyzers.jobs.history import build_history
from kvdiff.analyzers.source.repo import SourceConfig, Sources
from test_history import TAG_FILES, make_repo
from test_report import Page, check_links, parse_html, run_report


def history_rows(page: Page) -> list[dict[str, str]]:
    return [a for t, a in page.elements if t == "tr" and "data-index" in a]


def row_elements(page: Page, index: int) -> list[tuple[str, dict[str, str]]]:
    """The elements of history row ``index`` (from its <tr> to the next one)."""
    start = next(
        i for i, (t, a) in enumerate(page.elements) if t == "tr" and a.get("id") == f"v{index}"
    )
    out = []
    for t, a in page.elements[start + 1 :]:
        if t == "tr":
            break
        out.append((t, a))
    return out


def changes(page: Page, index: int) -> dict[str, str]:
    return {
        a["data-concept"]: a["data-change"]
        for t, a in row_elements(page, index)
        if t == "li" and "data-change" in a
    }


def first_tag_link(page: Page, index: int) -> str | None:
    links = [
        a["href"] for t, a in row_elements(page, index) if t == "a" and a.get("class") == "tag"
    ]
    assert len(links) <= 1
    return links[0] if links else None


@pytest.fixture(scope="module")
def history_site(corpus_repo_args: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hsite") / "site"
    cache = tmp_path_factory.mktemp("hcache") / "c.git"
    code, output = run_report(
        *corpus_repo_args, "--cache", str(cache), "--out", str(out), "--history"
    )
    assert code == 0, output
    return out


def test_history_page_on_the_corpus(history_site: Path) -> None:
    page = parse_html(history_site / "history.html")
    found = history_rows(page)
    assert [r["data-first"] for r in found] == list(TAGS)
    assert [r["data-index"] for r in found] == ["1", "2", "3", "4"]
    assert all(r["data-state"] == "present" and r["data-count"] == "1" for r in found)
    for i, tag in enumerate(TAGS, 1):
        href = first_tag_link(page, i)
        assert href is not None and href.startswith(f"tag-{tag}.html#L")
        target, anchor = href.split("#")
        assert anchor in parse_html(history_site / target).ids
    assert changes(page, 2)["migration"] == "appeared"
    assert changes(page, 4)["young"] == "vanished"
    assert "migration" not in changes(page, 1)
    # Linked from every page's navigation and from the index's page list.
    index = parse_html(history_site / "index.html")
    assert sum(1 for a in index.find("a") if a.get("href") == "history.html") == 2
    assert len(parse_html(history_site / "tag-v5.1.html").find("a", href="history.html")) == 1
    assert check_links(history_site) > 500


def test_history_rows_match_build_history(history_site: Path, corpus_repo_args: list[str]) -> None:
    repos = tuple(Path(p) for p in corpus_repo_args[1::2])
    cache = history_site.parent.parent / "ref-cache"
    sources = Sources(SourceConfig(cache=cache / "c.git", upstreams=(), repos=repos, offline=True))
    timeline = build_history(sources, "try_to_unmap_one", "mm/rmap.c")
    page = parse_html(history_site / "history.html")
    text = page.all_text
    for v in timeline.versions:
        assert first_tag_link(page, v.index) == f"tag-{v.first_tag}.html#L{v.start_line}"
        assert f"+{v.lines_added}" in text and f"−{v.lines_removed}" in text
        assert changes(page, v.index) == {c.concept: c.kind for c in v.concept_changes}


def test_two_history_runs_are_byte_identical(
    history_site: Path, corpus_repo_args: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "again"
    code, output = run_report(
        *corpus_repo_args, "--cache", str(tmp_path / "c.git"), "--out", str(out), "--history"
    )
    assert code == 0, output
    first = {p.name: p.read_bytes() for p in history_site.iterdir()}
    second = {p.name: p.read_bytes() for p in out.iterdir()}
    assert first == second


def test_korean_history_page(corpus_repo_args: list[str], tmp_path: Path) -> None:
    out = tmp_path / "ko"
    code, output = run_report(
        *corpus_repo_args,
        "--cache",
        str(tmp_path / "c.git"),
        "--out",
        str(out),
        "--lang",
        "ko",
        "--history",
    )
    assert code == 0, output
    text = parse_html(out / "history.html").all_text
    for korean in ("변경 이력", "개념 변화", "새로 생김", "사라짐", "태그 1개"):
        assert korean in text
    for english in ("Concept changes", "appeared", "vanished", "1 tag"):
        assert english not in text


# -- a synthetic repository: versions that start at tags the report does not show -------------


@pytest.fixture(scope="module")
def synth_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("hsynth")
    repo = make_repo(tmp / "synth.git", TAG_FILES)
    out = tmp / "site"
    code, output = run_report(
        "--repo",
        str(repo),
        "--cache",
        str(tmp / "cache" / "linux.git"),
        "--offline",
        "--tags",
        "v2.6.9,v3.0",
        "--out",
        str(out),
        "--history",
    )
    assert code == 0, output
    return out


def test_on_demand_tag_pages_for_versions_outside_the_report(synth_site: Path) -> None:
    page = parse_html(synth_site / "history.html")
    found = history_rows(page)
    assert [(r["data-first"], r["data-last"], r["data-state"]) for r in found] == [
        ("v2.6.9", "v2.6.11", "present"),
        ("v2.6.12-rc1", "v2.6.12", "present"),
        ("v2.6.13", "v2.6.13", "no-function"),
        ("v2.6.14", "v2.6.14", "present"),
        ("v3.0", "v3.0", "present"),
        ("v3.1", "v3.1", "no-file"),
        ("v3.2", "v3.2", "present"),
        ("v5.10.4", "v5.10.37", "present"),
    ]
    on_demand = {"v2.6.12-rc1", "v2.6.14", "v3.2", "v5.10.4"}
    for i, row in enumerate(found, 1):
        href = first_tag_link(page, i)
        if row["data-state"] != "present":
            assert href is None
            continue
        assert href is not None
        target, anchor = href.split("#")
        assert target == f"tag-{row['data-first']}.html"
        tag_page = parse_html(synth_site / target)
        assert anchor in tag_page.ids
        note = "is not one of this report's tags"
        assert (note in tag_page.all_text) == (row["data-first"] in on_demand), target
    assert "the file does not define the function" in page.all_text
    assert "the file does not exist" in page.all_text
    # Made on demand, but not listed as report tags: no nav entry, no timeline entry.
    index = parse_html(synth_site / "index.html")
    hrefs = {a["href"].split("#")[0] for a in index.find("a") if "href" in a}
    assert "tag-v2.6.12-rc1.html" not in hrefs and "tag-v3.0.html" in hrefs
    names = {p.name for p in synth_site.glob("tag-*.html")}
    assert names == {f"tag-{t}.html" for t in ("v2.6.9", "v3.0", *on_demand)}
    # The on-demand page is the ordinary tag page: the function's lines and its concepts.
    rc1 = parse_html(synth_site / "tag-v2.6.12-rc1.html")
    titles = " ".join(r.get("title", "") for r in rc1.find("tr"))
    assert "migration" in titles
    assert changes(page, 2)["migration"] == "appeared"
    assert changes(page, 5)["young"] == "vanished"
    check_links(synth_site)
