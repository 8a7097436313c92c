"""Issue 13, hostile input through the real CLI: huge files, huge tags, empty tag lists, bytes
that are not UTF-8, and bidirectional control characters (Trojan Source)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from kvdiff.analyzers.versions import closest_tags, parse_version, sort_tags
from synthrepo import SIMPLE_C, make_repo, one_error_line, run

FILE = "src/target.c"
# Latin-1 bytes in a comment and a string (0xe9, 0xff are not UTF-8 here).
LATIN1_C = SIMPLE_C.replace(b"int ret = 0;", b"int ret = 0; /* caf\xe9 \xff */")
# Trojan Source: an RLO ... PDI pair inside a comment of the condition line.
BIDI_C = SIMPLE_C.replace(
    b"if (a > b)", "if (a > b /* \u202e } \u2066 if (admin) \u2069 */)".encode()
)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    filler = b"/* padding */\n" * 20000  # ~280 KB: over a small --max-file-size
    return make_repo(
        tmp_path / "src.git",
        {
            "v1.0": {FILE: SIMPLE_C, "big.c": SIMPLE_C + filler},
            "v1.1": {FILE: LATIN1_C},
            "v1.2": {FILE: BIDI_C},
        },
    )


def local(repo: Path, *args: str):
    return run(*args, "--repo", str(repo), "--cache", str(repo.parent / "c.git"), "--offline")


def test_size_limit_with_an_option_to_raise_it(repo: Path) -> None:
    line = one_error_line(
        local(repo, "show", "v1.0", "target_fn", "--file", "big.c", "--max-file-size", "100K")
    )
    assert "over the 102,400-byte limit" in line and "--max-file-size 1M" in line
    ok = local(repo, "show", "v1.0", "target_fn", "--file", "big.c", "--max-file-size", "1M")
    assert ok.exit_code == 0, ok.output
    line = one_error_line(local(repo, "show", "v1.0", "--max-file-size", "lots"))
    assert "is not a size" in line
    site = repo.parent / "site"
    line = one_error_line(
        local(repo, "report", "--tags", "v1.0", "--function", "target_fn", "--file", "big.c",
              "--max-file-size", "100K", "--out", str(site))
    )  # fmt: skip
    assert "over the" in line and not site.exists()
    line = one_error_line(
        local(repo, "history", "target_fn", "--file", "big.c", "--max-file-size", "100K")
    )  # history reads blobs by id: the same limit, the same line
    assert "big.c at v1.0 is" in line and "over the 102,400-byte limit" in line


def test_five_thousand_digit_tag(repo: Path) -> None:
    tag = "v5." + "1" * 5000
    assert parse_version(tag) is None  # not a version: no int() of 5,000 digits
    assert sort_tags([tag, "v5.1"]) == ["v5.1", tag]
    assert closest_tags(tag, ["v5.1", "v5.10"]) == []  # no ValueError; too unlike either
    line = one_error_line(local(repo, "show", tag))
    assert "not available offline" in line
    line = one_error_line(
        local(repo, "report", "--tags", f"v1.0,{tag}", "--function", "target_fn", "--file", FILE)
    )
    assert "not available offline" in line


@pytest.mark.parametrize("value", ["", ",", " , "])
def test_empty_tag_lists_are_errors(repo: Path, value: str) -> None:
    for args in (("report", "--tags", value), ("check", "--tags", value)):
        line = one_error_line(local(repo, *args))
        assert "--tags" in line and "names nothing" in line, args
    line = one_error_line(local(repo, "report", "--pairs", value))
    assert "--pairs" in line
    line = one_error_line(local(repo, "history", "target_fn", "--file", FILE, "--tags", value))
    assert "--tags" in line


def test_json_text_is_the_exact_bytes(repo: Path) -> None:
    result = local(repo, "show", "v1.1", "target_fn", "--file", FILE, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    d = data["definitions"][0]
    raw = LATIN1_C[d["start_byte"] : d["end_byte"]]
    assert d["text"].encode("utf-8", "surrogateescape") == raw
    assert base64.b64decode(d["text_base64"]) == raw
    assert "\ufffd" not in d["text"]
    clean = json.loads(local(repo, "show", "v1.0", "target_fn", "--file", FILE, "--json").stdout)
    assert "text_base64" not in clean["definitions"][0]  # only when the bytes are not UTF-8


def test_bad_bytes_visible_in_terminal_and_html(repo: Path) -> None:
    result = local(repo, "show", "v1.1", "target_fn", "--file", FILE)
    assert "caf\\xe9 \\xff" in result.stdout and "\ufffd" not in result.stdout
    site = repo.parent / "site"
    assert local(repo, "report", "--tags", "v1.0,v1.1", "--function", "target_fn",
                 "--file", FILE, "--out", str(site)).exit_code == 0  # fmt: skip
    html = (site / "tag-v1.1.html").read_text()
    assert html.count('class="bad-byte"') == 2


def test_bidi_controls_are_made_visible(repo: Path) -> None:
    result = local(repo, "show", "v1.2", "target_fn", "--file", FILE)
    assert result.exit_code == 0
    assert not any(ch in result.stdout for ch in "\u202e\u2066\u2069")
    assert "<U+202E>" in result.stdout and "<U+2069>" in result.stdout
    assert "bidirectional control characters" in result.stderr and "line(s) 10" in result.stderr
    branches = local(repo, "branches", "v1.2", "target_fn", "--file", FILE)
    assert "\u202e" not in branches.stdout and "<U+202E>" in branches.stdout
    site = repo.parent / "site"
    report = local(repo, "report", "--tags", "v1.1,v1.2", "--function", "target_fn",
                   "--file", FILE, "--out", str(site))  # fmt: skip
    assert report.exit_code == 0, report.output
    assert "bidirectional control characters" in report.stderr
    for page in site.glob("*.html"):
        text = page.read_text()
        assert not any(
            ch in text for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        )
    tag_page = (site / "tag-v1.2.html").read_text()
    assert 'class="bidi" title="RIGHT-TO-LEFT OVERRIDE (U+202E)">&lt;U+202E&gt;' in tag_page
    assert "Trojan Source" in tag_page  # the page's warning note
    # The analysis still sees the original text: the condition keeps the raw characters.
    data = json.loads(local(repo, "branches", "v1.2", "target_fn", "--file", FILE, "--json").stdout)
    assert "\u202e" in json.dumps(data, ensure_ascii=False)


# An ESC sequence (it would clear the screen and recolour it) and a zero-width space inside an
# identifier: neither may reach a terminal or a page unseen.
INVISIBLE_C = SIMPLE_C.replace(b"int ret = 0;", "int re\u200bt = 0; /* \x1b[2J\x1b[31m */".encode())


def test_controls_and_zero_width_characters_are_made_visible(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "src.git", {"v1.0": {FILE: SIMPLE_C}, "v1.1": {FILE: INVISIBLE_C}})
    runs = {
        "show": ("show", "v1.1"),
        "branches": ("branches", "v1.1"),
        "diff": ("diff", "v1.0", "v1.1"),
        "diff-colour": ("diff", "v1.0", "v1.1", "--color=always"),
    }
    for name, args in runs.items():
        result = local(repo, *args, "target_fn", "--file", FILE)
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert "\u200b" not in out and "\x1b[2J" not in out, name
        if name != "diff-colour":  # kvdiff's own colour codes are the only ESC it may print
            assert "\x1b" not in out, name
        if name != "branches":  # the branch tree shows conditions, not the declaration
            assert "re<U+200B>t" in out and "<U+001B>[2J<U+001B>[31m" in out, name
    site = tmp_path / "site"
    report = local(repo, "report", "--tags", "v1.0,v1.1", "--function", "target_fn",
                   "--file", FILE, "--out", str(site))  # fmt: skip
    assert report.exit_code == 0, report.output
    page = (site / "tag-v1.1.html").read_text()
    assert "\x1b" not in page and "\u200b" not in page
    assert 'title="invisible character (U+001B)">&lt;U+001B&gt;' in page
