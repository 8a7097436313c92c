"""The site in a real browser: headless Chromium loads pages from file://, screenshots them, and
the rendered DOM holds the annotation cards. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO_ROOT
from kvdiff.analyzers.present.annotations import load_annotations
from kvdiff.main import cli
from test_report import _Parser

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
SHOTS = REPO_ROOT / "test-output" / "screenshots"
ROWS = 700  # rows of the screenshot decoded (the top of the page is what a reader sees first)


def _chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed (CI installs the Debian package chromium)")
    pytest.skip("chromium is not installed: apt-get install -y chromium")


def _browser(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    cmd = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)


def _png_pixels(data: bytes, rows: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first ``rows`` unfiltered RGB(A) rows of an 8-bit PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = bpp = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and colour in (2, 6)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    out = []
    for y in range(min(rows, height)):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif ftype == 4:
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        out.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i : i + 3]) for r in out for i in range(0, stride, bpp)]


@pytest.fixture(scope="module")
def site(corpus_repo_args: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "site"
    cache = tmp_path_factory.mktemp("cache") / "c.git"
    result = CliRunner().invoke(
        cli, ["report", *corpus_repo_args, "--cache", str(cache), "--out", str(out), "--history"]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("page", ["index.html", "diff-v2.6.35--v5.1.html", "history.html"])
def test_page_is_not_blank(site: Path, tmp_path: Path, page: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / page.replace(".html", ".png")
    shot.unlink(missing_ok=True)
    _browser(
        tmp_path, site.joinpath(page).as_uri(), f"--screenshot={shot}", "--window-size=1280,2000"
    )
    width, height, pixels = _png_pixels(shot.read_bytes(), ROWS)
    assert (width, height) == (1280, 2000)
    counts: dict[bytes, int] = {}
    for px in pixels:
        counts[px] = counts.get(px, 0) + 1
    background, most = max(counts.items(), key=lambda kv: kv[1])
    print(f"{page}: {len(counts)} colours, {1 - most / len(pixels):.1%} non-background")
    assert len(counts) > 50
    assert 1 - most / len(pixels) > 0.03


def test_diff_page_dom_shows_the_annotation_cards(site: Path, tmp_path: Path) -> None:
    a, b = "v2.6.35", "v5.1"
    dom = _browser(tmp_path, site.joinpath(f"diff-{a}--{b}.html").as_uri(), "--dump-dom").stdout
    assert 'id="panel-anon"' in dom and 'id="panel-migration"' in dom
    annotations = load_annotations("try_to_unmap_one")
    assert annotations.source, "no annotation file for try_to_unmap_one: the cards cannot render"
    parser = _Parser()
    parser.feed(dom)
    text = parser.page.all_text
    shown = 0
    for concept in ("anon", "migration"):
        for tag in (a, b):
            card = annotations.card(concept, tag, "en")
            if card is None:
                continue
            assert card.writes in text, (concept, tag)
            assert card.when in text and card.callers in text, (concept, tag)
            shown += 1
    assert shown >= 3
    assert len(parser.page.find("dl", **{"class": "card"})) >= shown
