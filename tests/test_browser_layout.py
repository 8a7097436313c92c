"""The site as a reader sees it, in headless Chromium driven over the DevTools pipe (tests/cdp.py):
at 1400 px and 390 px, light and dark, no sideways page scroll, aligned diff columns, zero serious
or critical axe-core violations, code copied without its gutter, and Korean pages free of the
model's English. Screenshots go to test-output/screenshots/after/."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cdp import Browser, Page
from click.testing import CliRunner
from conftest import REPO_ROOT
from kvdiff.main import cli

pytestmark = pytest.mark.browser

SHOTS = REPO_ROOT / "test-output" / "screenshots" / "after"
AXE = Path(
    os.environ.get(
        "KVDIFF_AXE", REPO_ROOT / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
    )
)
PAGES = ("index.html", "tag-v2.6.35.html", "diff-v2.6.35--v5.1.html", "history.html")
WIDTHS = (1400, 390)
# Words of the model's output that are code, not prose, when they stand alone.
_CODE_TOKEN = re.compile(r"[_()./:>=!+*&\[\]0-9#-]|^[A-Z]+$")


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found:
        return found
    if _in_ci():
        pytest.fail("chromium is not installed (CI installs the Debian package chromium)")
    pytest.skip("chromium is not installed: apt-get install -y chromium")


@pytest.fixture(scope="module")
def sites(corpus_repo_args: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    cache = tmp_path_factory.mktemp("cache") / "c.git"
    out = {}
    for lang in ("en", "ko"):
        site = tmp_path_factory.mktemp(f"layout-{lang}") / "site"
        args = ["report", *corpus_repo_args, "--cache", str(cache), "--out", str(site)]
        result = CliRunner().invoke(cli, [*args, "--lang", lang, "--history"])
        assert result.exit_code == 0, result.output
        out[lang] = site
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with Browser(_chromium(), tmp_path_factory.mktemp("profile")) as b:
        yield b


def _axe_source() -> str:
    if AXE.is_file():
        return AXE.read_text(encoding="utf-8")
    if _in_ci():
        pytest.fail(f"axe-core is missing at {AXE} (.ci/run installs it with npm)")
    pytest.skip(
        f"axe-core is not installed: npm install --prefix {REPO_ROOT / '.ci/node'} axe-core@4"
    )


def _axe(page: Page, source: str) -> list[tuple[str, str, int, str]]:
    page.evaluate(source)
    found = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
        "v => [v.id, v.impact, v.nodes.length, v.nodes[0].target.join(' ')]))"
    )
    return [tuple(v) for v in found]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_page_fits_and_passes_axe(
    sites: dict[str, Path], browser: Browser, name: str, width: int, dark: bool
) -> None:
    source = _axe_source()
    page = browser.page(sites["en"].joinpath(name).as_uri(), width, dark)
    scheme = "dark" if dark else "light"
    page.screenshot(SHOTS / f"{name.removesuffix('.html')}-{width}-{scheme}.png")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name} at {width}px scrolls sideways: {scroll}px wide"
    bad = [v for v in _axe(page, source) if v[1] in ("serious", "critical")]
    assert not bad, f"{name} {width}px {scheme}: {bad}"


_ROWS = """
(() => {
  const rows = [...document.querySelectorAll('table.diff > tbody:not(.fold) > tr')];
  return rows.map(r => [...r.querySelectorAll(':scope > td')].map(c => {
    const b = c.getBoundingClientRect();
    return [c.className, Math.round(b.left), Math.round(b.top), Math.round(b.width),
            Math.round(b.height), getComputedStyle(c).display];
  }));
})()
"""


def test_diff_columns_align_side_by_side_and_unified(
    sites: dict[str, Path], browser: Browser
) -> None:
    url = sites["en"].joinpath("diff-v2.6.35--v5.1.html").as_uri()
    wide = browser.page(url, 1400).evaluate(_ROWS)
    assert len(wide) > 50
    columns: dict[int, set[tuple[int, int]]] = {0: set(), 1: set(), 2: set(), 3: set()}
    for cells in wide:
        assert len(cells) == 4
        tops = {c[2] for c in cells}
        heights = {c[4] for c in cells}
        assert len(tops) == 1 and len(heights) == 1, cells  # one row, one height, both sides
        for i, c in enumerate(cells):
            columns[i].add((c[1], c[3]))
    assert all(len(v) == 1 for v in columns.values()), columns  # every column at one x, one width

    narrow_page = browser.page(url, 390)
    narrow = narrow_page.evaluate(_ROWS)
    code_x = {c[1] for cells in narrow for c in cells if "src" in c[0] and c[5] != "none"}
    assert len(code_x) == 1, code_x  # one column of code, every line starting at the same x
    changed = [cells for cells in narrow if cells[1][5] != "none" and cells[3][5] != "none"]
    changed = [cells for cells in changed if "filler" not in cells[1][0] + cells[3][0]]
    assert changed and all(cells[3][2] > cells[1][2] for cells in changed)  # new below old
    # The layout switch: side by side on the phone, one column on the wide screen.
    narrow_page.evaluate("document.getElementById('view-split').click()")
    assert (
        narrow_page.evaluate(
            "getComputedStyle(document.querySelector('table.diff > tbody.block-change')).display"
        )
        == "table-row-group"
    )
    wide_page = browser.page(url, 1400)
    wide_page.evaluate("document.getElementById('view-unified').click()")
    assert (
        wide_page.evaluate(
            "getComputedStyle(document.querySelector('table.diff > tbody.block-change')).display"
        )
        == "grid"
    )


def test_copying_code_leaves_the_gutter_behind(sites: dict[str, Path], browser: Browser) -> None:
    page = browser.page(sites["en"].joinpath("tag-v2.6.35.html").as_uri(), 1400)
    copied = page.evaluate(
        """(() => {
          const rows = [...document.querySelectorAll('table.code tr.has-concept')].slice(0, 4);
          const range = document.createRange();
          range.setStartBefore(rows[0]);
          range.setEndAfter(rows[rows.length - 1]);
          getSelection().removeAllRanges();
          getSelection().addRange(range);
          return [getSelection().toString(), rows.map(r => r.querySelector('td.src').innerText),
                  rows.map(r => [...r.querySelectorAll('.cg')].map(c => c.dataset.c))];
        })()"""
    )
    text, code, chips = copied
    assert any(chips), "the selected rows carry no concept chip: the test would prove nothing"
    for line in code:
        assert line.strip() in text
    for name in {n for names in chips for n in names}:
        if name not in " ".join(code):
            assert name not in text, (name, text)
    assert "●" not in text
    assert not re.search(r"^\s*\d{3,4}\s*$", text, re.M), text  # no line-number-only lines


def _model_texts(site: Path) -> list[str]:
    texts = []
    for page in sorted(site.glob("*.html")):
        html = page.read_text(encoding="utf-8")
        for m in re.finditer(r'class="[^"]*\bmt\b[^"]*">(.*?)</(?:span|small|dd|li)>', html, re.S):
            texts.append(re.sub(r"<[^>]+>", "", m.group(1)))
    return texts


def _code_words(site: Path) -> set[str]:
    """Every identifier and keyword of the source shown on the site (code, not prose)."""
    words: set[str] = set()
    for page in site.glob("tag-*.html"):
        for m in re.finditer(r'<td class="src"><code>(.*?)</code>', page.read_text("utf-8")):
            line = re.sub(r'<span class="t-[cs]">.*?</span>', "", m.group(1))  # no comments
            words.update(re.findall(r"[A-Za-z_]\w*", re.sub(r"<[^>]+>", "", line)))
    return words


def _prose_words(text: str, code: set[str]) -> list[str]:
    words = []
    for token in text.split():
        token = token.strip(",;:.()“”\"'")
        if len(token) < 4 or not token.isascii() or not token.isalpha() or token in code:
            continue
        if not _CODE_TOKEN.search(token):
            words.append(token)
    return words


def test_korean_pages_carry_none_of_the_models_english(sites: dict[str, Path]) -> None:
    english = _model_texts(sites["en"])
    korean = _model_texts(sites["ko"])
    assert len(english) == len(korean) > 50
    code = _code_words(sites["en"])
    assert {"goto", "page", "swap_duplicate"} <= code
    english_words = {w for text in english for w in _prose_words(text, code)}
    assert {"fault", "mapped", "present", "cleared"} <= english_words  # the check can fail
    leftovers = {w for text in korean for w in _prose_words(text, code)} & english_words
    assert not leftovers, sorted(leftovers)
    # The outcome words of the index's model matrix are Korean too.
    index = sites["ko"].joinpath("index.html").read_text(encoding="utf-8")
    kinds = re.findall(r'<span class="kind mt">([^<]*)</span>', index)
    assert kinds and not set(kinds) & {"swap", "migration", "present", "none"}, kinds


def test_every_page_has_a_description_an_icon_and_labelled_scroll_regions(
    sites: dict[str, Path],
) -> None:
    for lang, site in sites.items():
        assert site.joinpath("favicon.svg").is_file()
        for page in site.glob("*.html"):
            html = page.read_text(encoding="utf-8")
            assert '<meta name="description" content="' in html, page
            assert '<link rel="icon" href="favicon.svg"' in html, page
            for tag in re.findall(r'<div class="scroll"[^>]*>', html):
                assert 'tabindex="0"' in tag and 'role="region"' in tag and "aria-label=" in tag
            assert not re.search(r"<span[^>]*aria-label=", html), page
            # Line-number links are out of the tab order: a page has few tab stops.
            stops = len(re.findall(r"<a (?![^>]*tabindex=\"-1\")", html))
            assert stops < 150, (lang, page.name, stops)
    ko_index = sites["ko"].joinpath("index.html").read_text(encoding="utf-8")
    assert "(없음(" not in ko_index and "이유(주석)" not in ko_index
    question = sites["ko"].joinpath("question.html").read_text(encoding="utf-8")
    title = re.search(r"<h1>([^<]*)</h1>", question).group(1)
    assert f'aria-current="page">{title}</a>' in question  # one title for the question


_XREF = re.compile(r'<a class="xr( ext)?" href="([^"]*)"[^>]*>([^<]*)</a>')


def test_cross_links_in_the_code_resolve(sites: dict[str, Path], browser: Browser) -> None:
    site = sites["en"]
    ids = {
        p.name: set(re.findall(r' id="([^"]+)"', p.read_text("utf-8"))) for p in site.glob("*.html")
    }
    kinds: dict[str, int] = {"label": 0, "definition": 0, "external": 0}
    for page in sorted(site.glob("*.html")):
        html = page.read_text("utf-8")
        for ext, href, name in _XREF.findall(html):
            if href.startswith("https://elixir.bootlin.com/linux/"):
                kinds["external" if ext else "definition"] += 1  # ident search / file:line
                assert re.fullmatch(
                    r"https://elixir\.bootlin\.com/linux/v[\d.]+/"
                    r"(C/ident/\w+|source/mm/rmap\.c#L\d+)",
                    href,
                ), href
                continue
            target, _, frag = href.partition("#")
            assert frag in ids[target or page.name], (page.name, href, name)
            kinds["label"] += 1  # the corpus functions' own calls are defined elsewhere in rmap.c
    assert all(kinds.values()), kinds
    # goto out_unmap lands on the label's line; a call of a function this file defines lands on
    # its definition (the function shown on the page, or a sibling excerpt).
    tag = site.joinpath("tag-v2.6.35.html").read_text("utf-8")
    rows = dict(
        re.findall(r'<tr id="(L\d+)"[^>]*>.*?<td class="src"><code>(.*?)</code>', tag, re.S)
    )
    gotos = [h for _, h, n in _XREF.findall(tag) if n == "out_unmap"]
    assert gotos and all(re.sub(r"<[^>]+>", "", rows[h[1:]]).strip() == "out_unmap:" for h in gotos)
    # In the browser, following a goto on the diff page shows the label's row.
    url = site.joinpath("diff-v2.6.35--v5.1.html").as_uri()
    page = browser.page(url, 1400)
    moved = page.evaluate(
        """(() => { const a = document.querySelector('a.xr[href^="#A"]');
          a.click(); const row = document.getElementById(a.getAttribute('href').slice(1));
          const b = row.getBoundingClientRect();
          return [location.hash, a.textContent, row.nextElementSibling.textContent.trim(),
                  b.top >= 0 && b.bottom <= innerHeight]; })()"""
    )
    assert moved[0].startswith("#A") and moved[2].startswith(moved[1] + ":") and moved[3], moved


@pytest.fixture(scope="module")
def bilingual(corpus_repo_args: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("layout-both") / "site"
    args = ["report", *corpus_repo_args, "--cache", str(tmp_path_factory.mktemp("c") / "c.git")]
    result = CliRunner().invoke(cli, [*args, "--out", str(site), "--lang", "en,ko", "--history"])
    assert result.exit_code == 0, result.output
    return site


def test_one_site_in_both_languages_with_a_switch_on_every_page(
    bilingual: Path, sites: dict[str, Path], browser: Browser
) -> None:
    from test_report import check_links

    english = sorted(p.name for p in sites["en"].glob("*.html"))
    korean = sorted(p.name for p in bilingual.glob("*.ko.html"))
    assert korean == sorted(n.removesuffix(".html") + ".ko.html" for n in english)
    assert check_links(bilingual) > 0  # every link of both languages names a file and an id
    for name in english:
        en_html = bilingual.joinpath(name).read_text("utf-8")
        ko_name = name.removesuffix(".html") + ".ko.html"
        ko_html = bilingual.joinpath(ko_name).read_text("utf-8")
        assert f'<a href="{ko_name}" hreflang="ko" lang="ko">한국어</a>' in en_html, name
        assert f'<a href="{name}" hreflang="en" lang="en">English</a>' in ko_html, name
        assert '<html lang="ko">' in ko_html
        # Korean pages link to Korean pages only (the switch aside).
        for href in re.findall(r'<a href="([^"#]+\.html)', ko_html):
            assert href.endswith(".ko.html") or href == name, (ko_name, href)
    # The same page in the other language, both ways, in the browser.
    page = browser.page(bilingual.joinpath("tag-v5.1.html").as_uri(), 390)
    page.evaluate("setTimeout(() => document.querySelector('nav.langs a[hreflang=ko]').click())")
    browser.wait_event("Page.loadEventFired", page.session)  # the page the click opened
    where = page.evaluate("[location.pathname.split('/').pop(), document.documentElement.lang]")
    assert where == ["tag-v5.1.ko.html", "ko"], where
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= 390, scroll
    bad = [v for v in _axe(page, _axe_source()) if v[1] in ("serious", "critical")]
    assert not bad, bad  # the Korean page, with its switch, at 390 px
    # A single-language site has no switch at all.
    assert 'nav class="langs"' not in sites["en"].joinpath("index.html").read_text("utf-8")


def _polite(text: str) -> list[str]:
    """Sentence endings of 합니다체 / 해요체 (the site writes 한다체, like the cards)."""
    found = re.findall(r"\w*(?:습니다|까요|세요|[어아해]요|에요|예요)(?![가-힣])", text)
    for m in re.finditer(r"(\w*)([가-힣])니다(?![가-힣])", text):
        if (ord(m.group(2)) - 0xAC00) % 28 == 17:  # a syllable ending in ㅂ + 니다: 합니다, 줍니다
            found.append(m.group(0))
    return found


def test_the_korean_site_writes_in_one_register(sites: dict[str, Path]) -> None:
    assert _polite("페이지입니다. 그대로 둡니다. 남을까요?") == [
        "남을까요",
        "페이지입니다",
        "둡니다",
    ]
    assert not _polite("페이지가 아니다. 그대로 둔다. 남을까?")
    for page in sorted(sites["ko"].glob("*.html")):
        text = re.sub(r"<[^>]+>", " ", page.read_text("utf-8"))
        assert not _polite(text), (page.name, _polite(text)[:5])
