"""The report's per-tag entries in the result cache: a warm report (site cache removed) reads
each tag's span, concepts, highlighted lines and cross-references from them instead of parsing,
and writes the same bytes as a run that parsed; a damaged or partial entry is computed again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TAGS
from kvdiff.analyzers.analyze.analysis import analyze_source, load_rule_set
from kvdiff.analyzers.analyze.resultcache import ResultCache
from kvdiff.analyzers.jobs.reportcache import entry_from_plain, entry_plain, load_entry, tag_key
from kvdiff.analyzers.present.site.code import LineStore, SourceView
from kvdiff.analyzers.present.site.inputs import PageAnalysis, analysis_span
from kvdiff.analyzers.source.repo import SourceFile
from kvdiff.main import cli


def report(*args: str) -> None:
    result = CliRunner().invoke(cli, ["report", *args])
    assert result.exit_code == 0, result.output


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def tag_entries(cache: Path) -> list[Path]:
    """The result cache's per-tag report entries (the site cache and diffs live apart)."""
    out = []
    for path in sorted((cache / "kvdiff-results").glob("*/*.json")):
        doc = json.loads(path.read_bytes())
        if set(doc["payload"]) == {"span", "concepts", "chunks", "refs"}:
            out.append(path)
    return out


def drop_sites(cache: Path) -> None:
    for entry in (cache / "kvdiff-results" / "sites").rglob("*.site"):
        entry.unlink()


@pytest.fixture
def args(corpus_repo_args: list[str], tmp_path: Path) -> list[str]:
    return [*corpus_repo_args, "--cache", str(tmp_path / "c.git"), "--lang", "en,ko"]


def test_a_warm_report_from_the_tag_entries_is_byte_identical(
    args: list[str], tmp_path: Path
) -> None:
    cache = tmp_path / "c.git"
    report(*args, "--out", str(tmp_path / "cold"))
    entries = tag_entries(cache)
    assert len(entries) == len(TAGS)
    before = {p: p.read_bytes() for p in entries}
    drop_sites(cache)
    report(*args, "--out", str(tmp_path / "warm"))
    assert files(tmp_path / "cold") == files(tmp_path / "warm")
    # Nothing new was highlighted: the entries were read, not written again.
    assert {p: p.read_bytes() for p in tag_entries(cache)} == before


_PROBE = """\
import sys
from kvdiff.main import cli
try:
    cli(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(code, *sorted(sys.modules), file=sys.stderr)
"""
# What a warm report into a new --out has no use for: the fetch machinery (the tags are at
# hand), shell completion, the directory swap that replaces an existing site, the C parser
# and a TOML parser (lines, references and documents come from the result cache) and
# importlib.resources' readers.
_NOT_WARM = (
    "kvdiff.analyzers.parse.cparse",
    "kvdiff.analyzers.source.gitnet",
    "kvdiff.analyzers.source.network",
    "subprocess",
    "click.shell_completion",
    "ctypes",
    "tomllib",
    "importlib.resources.readers",
)


def test_a_warm_report_imports_none_of_what_it_does_not_use(
    args: list[str], tmp_path: Path
) -> None:
    cache = tmp_path / "c.git"
    report(*args, "--out", str(tmp_path / "cold"))
    drop_sites(cache)
    probe = [sys.executable, "-c", _PROBE, "report", *args, "--out", str(tmp_path / "warm")]
    done = subprocess.run(probe, capture_output=True, text=True, check=True)
    code, *modules = done.stderr.splitlines()[-1].split()
    assert code == "0"
    assert files(tmp_path / "cold") == files(tmp_path / "warm")
    assert [m for m in _NOT_WARM if m in modules] == []


def test_a_damaged_or_partial_entry_is_computed_again(args: list[str], tmp_path: Path) -> None:
    cache = tmp_path / "c.git"
    report(*args, "--out", str(tmp_path / "cold"))
    damaged, partial, *_ = tag_entries(cache)
    whole = partial.read_bytes()
    damaged.write_bytes(damaged.read_bytes()[:-40])  # cut off
    doc = json.loads(whole)
    chunks = doc["payload"]["chunks"]
    first = sorted(chunks, key=int)[0]
    del chunks[first]  # the pages show lines the entry no longer has
    partial.write_text(json.dumps(doc), encoding="utf-8")
    drop_sites(cache)
    report(*args, "--out", str(tmp_path / "warm"))
    assert files(tmp_path / "cold") == files(tmp_path / "warm")
    assert partial.read_bytes() == whole  # completed again, as it was
    assert json.loads(damaged.read_bytes())["payload"]["chunks"]  # rewritten whole


def test_an_entry_decodes_to_what_a_fresh_run_computes(corpus: Path, manifest) -> None:
    """Every tag: the span, the concepts and each chunk's lines and refs come back equal."""
    rules = load_rule_set()
    for tag in TAGS:
        data = (corpus / tag / "mm" / "rmap.c").read_bytes()
        src = SourceFile(tag, "mm/rmap.c", manifest.blob(tag, "mm/rmap.c"), "corpus", data)
        analysis = analyze_source(src, rules)
        span, page = analysis_span(analysis), PageAnalysis.of(analysis)
        assert page.line_concepts() == analysis.line_concepts()
        store = LineStore()
        view = SourceView(src, span, store=store)
        for n in (1, span.start_line, span.end_line, view.lines.count):
            view.html(n, resolve=lambda ref: None)
        assert store.added and len(store.chunks) >= 3 and store.refs
        plain = json.loads(json.dumps(entry_plain(span, page, store)))
        got_span, got_page, got_store = entry_from_plain(plain)
        assert (got_span, got_page) == (span, page)
        assert (got_store.chunks, got_store.refs) == (store.chunks, store.refs)
        assert not got_store.added
        # The refs of a stored chunk are the file's own, line by line.
        for first in store.chunks:
            for n in range(first, min(first + view.lines.CHUNK, view.lines.count + 1)):
                assert got_store.refs.get(n, ()) == view.refs.on(n)


def test_every_input_is_in_the_key(tmp_path: Path) -> None:
    src = SourceFile("v5.1", "mm/rmap.c", "a" * 40, "mainline", b"int x;\n")
    base = tag_key(src, "try_to_unmap_one", None, "try_to_unmap_one:mm/rmap.c")
    others = [
        tag_key(SourceFile("v5.1", "mm/rmap.c", "b" * 40, "mainline", b""), "try_to_unmap_one",
                None, "try_to_unmap_one:mm/rmap.c"),
        tag_key(SourceFile("v5.2", "mm/rmap.c", "a" * 40, "mainline", b""), "try_to_unmap_one",
                None, "try_to_unmap_one:mm/rmap.c"),
        tag_key(SourceFile("v5.1", "mm/rmap.c", "a" * 40, "stable", b""), "try_to_unmap_one",
                None, "try_to_unmap_one:mm/rmap.c"),
        tag_key(SourceFile("v5.1", "mm/rmap.c", "a" * 40, "mainline", b"", "5.1", "Makefile"),
                "try_to_unmap_one", None, "try_to_unmap_one:mm/rmap.c"),
        tag_key(src, "page_referenced_one", None, "try_to_unmap_one:mm/rmap.c"),
        tag_key(src, "try_to_unmap_one", "mm/rmap.c", "try_to_unmap_one:mm/rmap.c"),
        tag_key(src, "try_to_unmap_one", None, ""),
    ]  # fmt: skip
    assert len({base, *others}) == 1 + len(others)
    # Garbage under a key reads as a miss.
    cache = ResultCache(tmp_path)
    cache.put(base, {"span": [1, 2], "concepts": None, "chunks": {}, "refs": {}})
    assert load_entry(cache, base) is None
    bad_span = [["x", [["a", 1, "k"]]]]  # a span's start is not a number
    cache.put(base, {"span": [1, 2, "f", 0, 1], "concepts": None, "chunks": {"1": bad_span}})
    assert load_entry(cache, base) is None
    cache.put(base, {"span": [1, 2, "f", 0, 1], "concepts": None, "chunks": {}, "refs": {}})
    assert load_entry(cache, base) is not None
