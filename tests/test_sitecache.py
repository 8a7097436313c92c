"""The site cache: a repeated `kvdiff report` with nothing changed writes the same bytes from
the pages of the previous run; any changed input is a miss; a damaged entry is a miss."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from kvdiff.analyzers.analyze.resultcache import kvdiff_version as _version
from kvdiff.analyzers.jobs.sitecache import SiteCache, _package_entries, package_digest
from kvdiff.main import cli


def report(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["report", *args])
    return result.exit_code, result.output


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "kvdiff-results" / "sites").rglob("*.site"))


@pytest.fixture
def args(corpus_repo_args: list[str], tmp_path: Path) -> list[str]:
    return [*corpus_repo_args, "--cache", str(tmp_path / "c.git"), "--tags", "v5.1,v5.10.37"]


def test_repeated_report_is_served_from_the_cache_byte_identically(
    args: list[str], tmp_path: Path
) -> None:
    cache = tmp_path / "c.git"
    code, output = report(*args, "--out", str(tmp_path / "a"))
    assert code == 0, output
    [entry] = entries(cache)
    code, output = report(*args, "--out", str(tmp_path / "b"))
    assert code == 0, output
    assert files(tmp_path / "a") == files(tmp_path / "b")  # the manifest included
    assert entries(cache) == [entry]
    # The second run did use the entry: a page changed in it comes out as stored.
    store = SiteCache(entry.parent.parent)
    hit = store.get(entry.stem)
    assert hit is not None
    pages, warnings = hit
    pages["index.html"] += b"<!-- from the cache -->"
    store.put(entry.stem, pages, warnings)
    code, output = report(*args, "--out", str(tmp_path / "b"))
    assert code == 0, output
    assert (tmp_path / "b" / "index.html").read_text().endswith("<!-- from the cache -->")


def test_a_damaged_entry_is_rendered_again(args: list[str], tmp_path: Path) -> None:
    code, output = report(*args, "--out", str(tmp_path / "a"))
    assert code == 0, output
    [entry] = entries(tmp_path / "c.git")
    whole = entry.read_bytes()
    head, _, body = whole.partition(b"\n")[2].partition(b"\n")
    flipped = bytearray(whole)
    flipped[-100] ^= 0x20  # one character of a page changed: the CRC no longer matches
    damages = (
        b"",
        b"{not json",
        whole[:-1],  # cut off
        whole + b"x",  # longer than the header says
        bytes(flipped),
        whole.replace(entry.stem.encode(), b"0" * 64),  # another key's entry
        b"kvdiff-site 2\n" + head.replace(b'"files":[[', b'"files":[["x",1],[') + b"\n" + body,
    )
    for damage in damages:
        entry.write_bytes(damage)
        code, output = report(*args, "--out", str(tmp_path / "b"))
        assert code == 0, output
        assert files(tmp_path / "a") == files(tmp_path / "b")
        assert entry.read_bytes() == whole  # rewritten whole


def test_every_input_is_in_the_key(args: list[str], tmp_path: Path) -> None:
    code, _ = report(*args, "--out", str(tmp_path / "a"))
    code2, _ = report(*args, "--out", str(tmp_path / "ko"), "--lang", "ko")
    code3, _ = report(*args, "--out", str(tmp_path / "p"), "--function", "page_referenced")
    assert (code, code2, code3) == (0, 0, 0)
    assert len(entries(tmp_path / "c.git")) == 3
    assert files(tmp_path / "a") != files(tmp_path / "ko")
    # The history page depends on every tag the sources hold: not cached.
    code, output = report(*args, "--out", str(tmp_path / "h"), "--history")
    assert code == 0, output
    assert len(entries(tmp_path / "c.git")) == 3


def test_the_package_digest_covers_code_rules_strings_and_templates() -> None:
    names = {Path(path).name for path, _ in _package_entries()}
    assert {"highlight.py", "try_to_unmap_one.toml", "en.toml", "ko.toml"} <= names
    assert {"pair.html.j2", "style.css", "site.js", "favicon.svg", "helpers.toml"} <= names
    assert len(package_digest()) == 64


def test_the_version_is_the_installed_metadatas() -> None:
    from importlib import metadata

    assert _version() == metadata.version("kvdiff")


def test_the_site_writers_rules_hold_on_a_cache_hit(args: list[str], tmp_path: Path) -> None:
    code, output = report(*args, "--out", str(tmp_path / "a"))
    assert code == 0, output
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    code, output = report(*args, "--out", str(foreign))
    assert code != 0 and "kvdiff: error:" in output
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_compiled_templates_are_kept_and_a_damaged_one_is_compiled_again(
    args: list[str], tmp_path: Path
) -> None:
    cache = tmp_path / "c.git"
    code, output = report(*args, "--out", str(tmp_path / "a"))
    assert code == 0, output
    compiled = sorted((cache / "kvdiff-results" / "templates").iterdir())
    assert len(compiled) >= 5  # the page templates and the macros they import
    for n, path in enumerate(compiled):
        # Garbage, a cut-off entry, an empty file: each reads as a miss.
        path.write_bytes([b"garbage", path.read_bytes()[:12], b""][n % 3])
    for entry in entries(cache):
        entry.unlink()  # render again, through the damaged templates
    code, output = report(*args, "--out", str(tmp_path / "b"))
    assert code == 0, output
    assert files(tmp_path / "a") == files(tmp_path / "b")
