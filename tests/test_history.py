"""kvdiff history: grouping by content, concept changes, the result cache, and the real corpus.

The synthetic repository is built here with pygit2 from our own C (shaped like mm/rmap.c), so
the truth of every grouping is known and the tests run without the kernel corpus.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import kvdiff.analyzers.analyze.blobwork as blobwork
import kvdiff.analyzers.analyze.summaries as summaries_module
import pygit2
import pytest
from click.testing import CliRunner
from kvdiff.analyzers.analyze.ruleset import rules_dir
from kvdiff.analyzers.compare.timeline import NO_FILE, NO_FUNCTION, PRESENT, History
from kvdiff.analyzers.errors import KvdiffError
from kvdiff.analyzers.jobs.history import build_history
from kvdiff.analyzers.source.repo import SourceConfig, Sources
from kvdiff.analyzers.versions import parse_range, select_tags
from kvdiff.main import cli

FN_A = """\
static int try_to_unmap_one(struct page *page, struct vm_area_struct *vma)
{
\tstruct mm_struct *mm = vma->vm_mm;
\tunsigned long address;
\tpte_t *pte;
\tpte_t pteval;
\tint ret = SWAP_AGAIN;

\taddress = vma_address(page, vma);
\tpte = page_check_address(page, mm, address);
\tif (!pte)
\t\tgoto out;

\tif (vma->vm_flags & VM_LOCKED) {
\t\tret = SWAP_FAIL;
\t\tgoto out_unmap;
\t}
\tif (ptep_clear_flush_young(vma, address, pte)) {
\t\tret = SWAP_FAIL;
\t\tgoto out_unmap;
\t}

\tpteval = ptep_clear_flush(vma, address, pte);
\tif (PageAnon(page)) {
\t\tswp_entry_t entry = { .val = page_private(page) };
\t\tswap_duplicate(entry);
\t\tset_pte_at(mm, address, pte, swp_entry_to_pte(entry));
\t}
\tpage_remove_rmap(page);

out_unmap:
\tpte_unmap(pte);
out:
\treturn ret;
}
"""

# B: the anon branch learns migration entries (3 lines become 6: +5 -2 by line diff).
FN_B = FN_A.replace(
    "\t\tswap_duplicate(entry);\n",
    "\t\tif (PageSwapCache(page)) {\n"
    "\t\t\tswap_duplicate(entry);\n"
    "\t\t} else if (flags & TTU_MIGRATION) {\n"
    "\t\t\tentry = make_migration_entry(page, pte_write(pteval));\n"
    "\t\t}\n",
)
# C: the young bail-out is gone.
FN_C = FN_B.replace(
    "\tif (ptep_clear_flush_young(vma, address, pte)) {\n"
    "\t\tret = SWAP_FAIL;\n"
    "\t\tgoto out_unmap;\n"
    "\t}\n",
    "",
)
# C2: the mlock condition changes.
FN_C2 = FN_C.replace("vma->vm_flags & VM_LOCKED", "vma->vm_flags & (VM_LOCKED | VM_SPECIAL)")
assert len({FN_A, FN_B, FN_C, FN_C2}) == 4


def rmap(fn: str, comment: str = "rmap: reverse mapping", rename: bool = False) -> bytes:
    """A whole synthetic mm/rmap.c around ``fn``; the comment varies outside the function."""
    if rename:
        fn = fn.replace("try_to_unmap_one(", "try_to_unmap_other(")
    head = f"/*\n * {comment}\n */\n#include <linux/mm.h>\n\nstatic int helper(void)\n{{\n"
    head += "\treturn 0;\n}\n\n"
    return (head + fn).encode()


README = b"synthetic tree for kvdiff history tests\n"

# (tag, mm/rmap.c bytes or None for a tree without the file), in CREATION order: deliberately
# not version order, so that the timeline's order must come from versions, not from history.
TAG_FILES: list[tuple[str, bytes | None]] = [
    ("v2.6.9", rmap(FN_A)),
    ("v2.6.10", rmap(FN_A, comment="rmap: reverse mapping, reworded")),  # same function
    ("v2.6.11", rmap(FN_A, comment="rmap: reverse mapping, reworded")),  # same blob
    ("v2.6.12", rmap(FN_B)),
    ("v2.6.12-rc1", rmap(FN_B)),
    ("v2.6.13", rmap(FN_B, rename=True)),  # the file lacks the function
    ("v2.6.14", rmap(FN_B)),  # back again: same as an earlier entry
    ("v3.0", rmap(FN_C)),
    ("v3.1", None),  # the file is gone
    ("v3.2", rmap(FN_C)),
    ("v5.10.37", rmap(FN_C2)),
    ("v5.10.4", rmap(FN_C2, comment="another comment")),
]


def _tree(repo: pygit2.Repository, files: dict[str, bytes]) -> pygit2.Oid:
    """A tree (with subtrees) holding ``files`` (path -> bytes)."""
    top: dict[str, bytes] = {}
    subdirs: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        head, _, rest = path.partition("/")
        if rest:
            subdirs.setdefault(head, {})[rest] = data
        else:
            top[head] = data
    tb = repo.TreeBuilder()
    for name, data in sorted(top.items()):
        tb.insert(name, repo.create_blob(data), pygit2.GIT_FILEMODE_BLOB)
    for name, sub in sorted(subdirs.items()):
        tb.insert(name, _tree(repo, sub), pygit2.GIT_FILEMODE_TREE)
    return tb.write()


def make_repo(path: Path, tag_files: list[tuple[str, bytes | None]]) -> Path:
    """A bare repository with one commit and one annotated tag per entry, chained in order."""
    repo = pygit2.init_repository(str(path), bare=True)
    sig = pygit2.Signature("kvdiff tests", "tests@localhost", 1_000_000_000, 0)
    parents: list[pygit2.Oid] = []
    for i, (tag, data) in enumerate(tag_files):
        files = {"README": README}
        if data is not None:
            files["mm/rmap.c"] = data
        when = pygit2.Signature(sig.name, sig.email, sig.time + i * 3600, 0)
        commit = repo.create_commit(None, when, when, f"release {tag}", _tree(repo, files), parents)
        parents = [commit]
        repo.create_tag(tag, commit, pygit2.GIT_OBJECT_COMMIT, when, f"Linux {tag}")
    repo.references.create("refs/heads/master", parents[0])
    return path


@pytest.fixture(scope="module")
def synth_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("synth") / "synth.git", TAG_FILES)


def sources_for(repo: Path, cache: Path) -> Sources:
    return Sources(
        SourceConfig(cache=cache / "linux.git", upstreams=(), repos=(repo,), offline=True)
    )


def history_of(repo: Path, tmp: Path, **kwargs) -> History:
    kwargs.setdefault("result_dir", tmp / "results")
    return build_history(sources_for(repo, tmp), "try_to_unmap_one", "mm/rmap.c", **kwargs)


def changes(version) -> dict[str, str]:
    return {c.concept: c.kind for c in version.concept_changes}


# -- grouping on the synthetic repository ---------------------------------------------------


def test_grouping_follows_version_order_and_content(synth_repo: Path, tmp_path: Path) -> None:
    h = history_of(synth_repo, tmp_path)
    spans = [(v.state, v.tags) for v in h.versions]
    assert spans == [
        (PRESENT, ("v2.6.9", "v2.6.10", "v2.6.11")),
        (PRESENT, ("v2.6.12-rc1", "v2.6.12")),
        (NO_FUNCTION, ("v2.6.13",)),
        (PRESENT, ("v2.6.14",)),
        (PRESENT, ("v3.0",)),
        (NO_FILE, ("v3.1",)),
        (PRESENT, ("v3.2",)),
        (PRESENT, ("v5.10.4", "v5.10.37")),
    ]
    first = h.versions[0]
    assert (first.first_tag, first.last_tag, first.tag_count) == ("v2.6.9", "v2.6.11", 3)
    # Two blobs (the comment outside the function changed), one content.
    assert len(first.blob_ids) == 2
    assert h.versions[-1].blob_ids and len(h.versions[-1].blob_ids) == 2
    assert [v.same_as for v in h.versions] == [None, None, None, 2, None, None, 5, None]
    assert h.distinct_contents == 4
    assert h.stats.tags == 12
    # Distinct blobs: A, A', B, B-renamed, C, C2, C2' = 7 (v3.1 has none); B is analysed twice,
    # on either side of the rules' history change between v2.6.12 and v2.6.14 (gup gone in
    # v2.6.13-rc1): the states it gets differ there. So 8 slots.
    assert h.stats.distinct_blobs == 8
    assert h.stats.analysed == 8


def test_lines_and_positions(synth_repo: Path, tmp_path: Path) -> None:
    h = history_of(synth_repo, tmp_path)
    a, b, gone, b2, c, nofile, c_again, c2 = h.versions
    n_a = FN_A.count("\n")
    assert (a.lines, a.lines_added, a.lines_removed) == (n_a, n_a, 0)
    # Real file lines: the synthetic header is 10 lines, so the function starts at line 11.
    assert (a.start_line, a.end_line) == (11, 10 + n_a)
    assert (b.lines_added, b.lines_removed) == (5, 1)
    assert (gone.lines, gone.lines_added, gone.lines_removed) == (0, 0, b.lines)
    assert (b2.lines_added, b2.lines_removed) == (b.lines, 0)
    assert (c.lines_added, c.lines_removed) == (0, 4)
    assert (nofile.start_line, nofile.lines_removed) == (0, c.lines)
    assert c_again.lines_added == c.lines
    assert (c2.lines_added, c2.lines_removed) == (1, 1)


def test_concept_changes(synth_repo: Path, tmp_path: Path) -> None:
    h = history_of(synth_repo, tmp_path)
    a, b, gone, b2, c, nofile, c_again, c2 = h.versions
    assert h.rule_set == "try_to_unmap_one"
    assert changes(a) == {
        "mlock": "appeared",
        "young": "appeared",
        "anon": "appeared",
        "swapcache": "appeared",
    }
    # The swap entry moved under its own PageSwapCache test: its condition changed.
    assert changes(b) == {"migration": "appeared", "swapcache": "condition-changed"}
    swap = next(x for x in b.concept_changes if x.concept == "swapcache")
    assert (swap.before, swap.after) == (("PageAnon(page)",), ("PageSwapCache(page)",))
    assert set(changes(gone).values()) == {"vanished"}
    assert set(changes(gone)) == {"mlock", "young", "anon", "swapcache", "migration"}
    assert gone.concepts == ()
    assert changes(c) == {"young": "vanished"}
    assert dict(c.concepts)["young"] == "absent"
    assert dict(c.concepts)["migration"] == "present"
    assert set(changes(nofile).values()) == {"vanished"}
    mlock = c2.concept_changes
    assert [(x.concept, x.kind) for x in mlock] == [("mlock", "condition-changed")]
    assert mlock[0].after == ("vma->vm_flags & (VM_LOCKED | VM_SPECIAL)",)


def test_no_rule_set_gives_line_changes_only(synth_repo: Path, tmp_path: Path) -> None:
    h = history_of(synth_repo, tmp_path, use_rules=False)
    assert h.rule_set is None
    assert len(h.versions) == 8
    assert all(v.concept_changes == () and v.concepts == () for v in h.versions)
    # A function no rule set knows: needs --file, and then works on line changes alone.
    other = build_history(sources_for(synth_repo, tmp_path), "helper", "mm/rmap.c", result_dir=None)
    assert [v.state for v in other.versions] == [PRESENT, NO_FILE, PRESENT]
    assert other.versions[0].tags[-1] == "v3.0"
    with pytest.raises(KvdiffError, match="pass --file"):
        build_history(sources_for(synth_repo, tmp_path), "helper", None)


def test_tag_filters(synth_repo: Path, tmp_path: Path) -> None:
    h = history_of(synth_repo, tmp_path, tag_range="v2.6.12..v3.0")
    assert h.tags == ("v2.6.12", "v2.6.13", "v2.6.14", "v3.0")  # -rc1 precedes v2.6.12
    h = history_of(synth_repo, tmp_path, pattern="v2.6.1?")
    assert h.tags == ("v2.6.10", "v2.6.11", "v2.6.12", "v2.6.13", "v2.6.14")
    with pytest.raises(KvdiffError, match="no tags"):
        history_of(synth_repo, tmp_path, pattern="v9.*")


def test_select_tags_and_ranges() -> None:
    tags = ["v2.6.10", "v3.0", "v2.6.9", "v5.10.4", "v5.10.37", "v3.0-rc7", "v2.6.39", "mytag"]
    assert select_tags(tags) == [
        "v2.6.9",
        "v2.6.10",
        "v2.6.39",
        "v3.0-rc7",
        "v3.0",
        "v5.10.4",
        "v5.10.37",
        "mytag",
    ]
    assert select_tags(tags, tag_range="v2.6.39..v3.0") == ["v2.6.39", "v3.0-rc7", "v3.0"]
    assert select_tags(tags, tag_range="v5.10..") == ["v5.10.4", "v5.10.37"]
    assert select_tags(tags, tag_range="..v2.6.9") == ["v2.6.9"]
    assert parse_range("v2.6.7..v5.1") == ("v2.6.7", "v5.1")
    for bad in ("v5.1", "v5.1..v2.6.7", "x..v5.1", "a..b..c"):
        with pytest.raises(KvdiffError):
            parse_range(bad)


def test_history_is_deterministic(synth_repo: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["history", "--repo", str(synth_repo), "--offline", "--file", "mm/rmap.c"]
    args += ["--cache", str(tmp_path / "linux.git")]
    cold = runner.invoke(cli, [*args, "--json"])
    warm = runner.invoke(cli, [*args, "--json"])
    uncached = runner.invoke(cli, [*args, "--json", "--no-result-cache"])
    assert cold.exit_code == 0, cold.output
    assert cold.output == warm.output == uncached.output
    doc = json.loads(cold.output)
    assert doc["tag_count"] == 12 and len(doc["versions"]) == 8
    # The default result cache sits inside the source cache directory.
    assert list((tmp_path / "linux.git" / "kvdiff-results").rglob("*.json"))
    assert not (tmp_path / "results").exists()
    text = runner.invoke(cli, args)
    assert text.exit_code == 0
    lines = text.output.splitlines()
    assert lines[0].startswith("try_to_unmap_one in mm/rmap.c: 12 tags, 8 entries, 4 distinct")
    assert any("v2.6.9..v2.6.11" in line and "3 tags" in line for line in lines)
    assert any("vanished: young" in line for line in lines)


def test_cli_bad_range_is_one_line(synth_repo: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["history", "--repo", str(synth_repo), "--offline", "--range", "v5.1"]
    )
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "kvdiff: error: --range" in result.output


# -- the result cache -------------------------------------------------------------------------


def test_result_cache_is_reused(synth_repo: Path, tmp_path: Path) -> None:
    first = history_of(synth_repo, tmp_path)
    second = history_of(synth_repo, tmp_path)
    assert first == second
    assert (first.stats.analysed, second.stats.analysed) == (8, 0)
    assert second.stats.cache_hits == 8


def test_result_cache_invalidated_when_rules_change(synth_repo: Path, tmp_path: Path) -> None:
    rules = tmp_path / "try_to_unmap_one.toml"
    shutil.copy(rules_dir() / "try_to_unmap_one.toml", rules)
    before = history_of(synth_repo, tmp_path, rules_file=rules)
    assert history_of(synth_repo, tmp_path, rules_file=rules).stats.analysed == 0
    # The young bail-out is now recognised by a call no version makes.
    text = rules.read_text()
    assert '"ptep_clear_flush_young",' in text
    rules.write_text(text.replace('"ptep_clear_flush_young",', '"no_such_call",'))
    after = history_of(synth_repo, tmp_path, rules_file=rules)
    assert after.stats.analysed == 8
    assert "young" in changes(before.versions[0])
    assert "young" not in changes(after.versions[0])


@pytest.mark.parametrize(
    "damage",
    [
        b"\x00\xff garbage",
        b'{"schema": 1, "key": ',  # truncated JSON
        b'{"schema": 999, "key": "x", "payload": {}}',  # another schema
        b"[]",
        "same-envelope-bad-payload",
    ],
)
def test_damaged_cache_entries_are_rebuilt(
    synth_repo: Path, tmp_path: Path, damage: bytes | str
) -> None:
    good = history_of(synth_repo, tmp_path)
    entries = sorted((tmp_path / "results").rglob("*.json"))
    assert len(entries) == 2  # the 8 blob summaries' bundle and the timeline (historycache)
    for entry in entries:
        if damage == "same-envelope-bad-payload":
            doc = json.loads(entry.read_bytes())
            for summary in doc["payload"].get("entries", {}).values():  # the bundle
                summary["start_line"] = "twelve"
                summary["concepts"] = [["mlock", "present", [["f", 3]]]]
            doc["payload"]["start_line"] = "twelve"
            doc["payload"]["concepts"] = [["mlock", "present", [["f", 3]]]]
            entry.write_text(json.dumps(doc))
        else:
            entry.write_bytes(damage)
    again = history_of(synth_repo, tmp_path)
    assert again == good
    assert again.stats.analysed == 8
    # Rebuilt entries are good again.
    assert history_of(synth_repo, tmp_path).stats.analysed == 0


# -- the real corpus ----------------------------------------------------------------------------


def test_real_corpus_history(corpus_repo_args: list[str], tmp_path: Path) -> None:
    args = ["history", "--offline", "--cache", str(tmp_path / "linux.git"), *corpus_repo_args]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["path"] == "mm/rmap.c" and doc["rule_set"] == "try_to_unmap_one"
    versions = doc["versions"]
    assert [v["tags"] for v in versions] == [["v2.6.7"], ["v2.6.35"], ["v5.1"], ["v5.10.37"]]
    assert all(v["state"] == PRESENT and v["same_as"] is None for v in versions)

    def by_change(v: dict) -> dict[str, str]:
        return {c["concept"]: c["change"] for c in v["concept_changes"]}

    first, v2635, v51, v51037 = (by_change(v) for v in versions)
    assert {"mlock", "young", "gup", "anon", "swapcache"} <= {
        c for c, ch in first.items() if ch == "appeared"
    }
    assert v2635["migration"] == "appeared" and v2635["gup"] == "vanished"
    assert v2635["hwpoison"] == "appeared"
    assert v51["device_migration"] == "appeared" and v51["lazyfree"] == "appeared"
    assert v51037 == {"young": "vanished"}
    assert versions[3]["concepts"]["young"] == "absent"
    assert versions[2]["concepts"]["young"] == "present"
    assert (versions[3]["start_line"], versions[3]["end_line"]) == (1373, 1712)


def test_real_corpus_blob_ids(corpus_repo_args: list[str], manifest, tmp_path: Path) -> None:
    repos = tuple(Path(a) for a in corpus_repo_args[1::2])
    sources = Sources(
        SourceConfig(cache=tmp_path / "linux.git", upstreams=(), repos=repos, offline=True)
    )
    h = build_history(sources, result_dir=tmp_path / "results")
    for v in h.versions:
        assert v.blob_ids == (manifest.blob(v.first_tag, "mm/rmap.c"),)


def test_parallel_and_serial_analysis_agree(
    synth_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blobwork, "SEGMENT_MIN", 10**9)
    serial = history_of(synth_repo, tmp_path, result_dir=None)
    monkeypatch.setattr(blobwork, "SEGMENT_MIN", 2)
    monkeypatch.setattr(blobwork, "_workers", lambda: 3)  # segments of 3, 3 and 2 blobs
    parallel = history_of(synth_repo, tmp_path, result_dir=None)
    assert serial == parallel
    assert parallel.stats.analysed == 8


def test_fetch_missing_release_tags(git_daemon, tmp_path: Path) -> None:
    args = ["history", "--quiet", "--cache", str(tmp_path / "linux.git")]
    args += git_daemon.upstream_args()
    offline = CliRunner().invoke(cli, [*args, "--offline"])
    assert offline.exit_code == 2 and "no tags" in offline.output  # nothing fetched yet
    result = CliRunner().invoke(cli, [*args, "--fetch", "--range", "v2.6.35..", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [v["first_tag"] for v in doc["versions"]] == ["v2.6.35", "v5.1", "v5.10.37"]
    # Fetched tags stay in the cache: an offline run now sees them.
    again = CliRunner().invoke(cli, [*args, "--offline", "--json"])
    assert again.exit_code == 0
    assert json.loads(again.output)["tag_count"] == 3


def test_a_blob_changed_only_outside_the_function_reuses_its_analysis(monkeypatch) -> None:
    """Work follows distinct *function* content: a new blob whose function text is unchanged is
    parsed (to find the function and its lines) but not analysed again, and its summary equals a
    fresh analysis of the same bytes."""
    import kvdiff.analyzers.analyze.analysis as analysis_module
    from kvdiff.analyzers.analyze.ruleset import load_rule_set

    base = (Path(__file__).parent.parent / "fixtures" / "c" / "rules_old.c").read_bytes()
    shifted = b"/* a comment added above */\nstatic int other(void) { return 0; }\n\n" + base
    edited = base.replace(b"goto out_unmap;", b"goto out;", 1)
    assert edited != base

    calls: list[str] = []
    real = analysis_module.analyze_parsed

    def counting(source, parsed, rules, function=None):
        calls.append(source.blob_id)
        return real(source, parsed, rules, function)

    monkeypatch.setattr(analysis_module, "analyze_parsed", counting)
    rules = load_rule_set()
    summarizer = summaries_module.Summarizer("try_to_unmap_one", rules, "d")
    first = summarizer.summarize("v2.6.7", "mm/rmap.c", "a", "t", base)
    second = summarizer.summarize("v2.6.7", "mm/rmap.c", "b", "t", shifted)
    third = summarizer.summarize("v2.6.7", "mm/rmap.c", "c", "t", edited)
    assert calls == ["a", "c"]  # "b" only moved the function down three lines
    assert second.start_line == first.start_line + 3 and second.end_line == first.end_line + 3
    assert second.text == first.text and second.concepts == first.concepts
    fresh = summaries_module.Summarizer("try_to_unmap_one", rules, "d")
    assert fresh.summarize("v2.6.7", "mm/rmap.c", "b", "t", shifted) == second
    assert third.text != first.text


def test_one_damaged_summary_in_the_bundle_is_the_only_one_rebuilt(
    synth_repo: Path, tmp_path: Path
) -> None:
    good = history_of(synth_repo, tmp_path)
    (bundle,) = [
        p for p in (tmp_path / "results").rglob("*.json") if b'"entries"' in p.read_bytes()
    ]
    doc = json.loads(bundle.read_bytes())
    first, second = sorted(doc["payload"]["entries"])[:2]
    doc["payload"]["entries"][first]["end_line"] = -1.5  # not an int
    text = doc["payload"]["entries"][second]["text"]
    doc["payload"]["parts"][text] = "a text that is not the one its digest names"
    bundle.write_text(json.dumps(doc))
    for timeline in (tmp_path / "results").rglob("*.json"):
        if b'"versions"' in timeline.read_bytes():
            timeline.unlink()  # or the stored timeline answers without the bundle
    again = history_of(synth_repo, tmp_path)
    assert again.versions == good.versions
    damaged = {k for k, d in doc["payload"]["entries"].items() if d["text"] == text} | {first}
    assert again.stats.analysed == len(damaged) < len(doc["payload"]["entries"])


def test_a_bundle_stores_each_text_once_whether_or_not_summaries_share_it() -> None:
    """Summaries from workers share their text and concept objects; the bundle hashes each
    object once. Equal texts in distinct objects give the same entry, and all read back."""
    from dataclasses import replace

    from kvdiff.analyzers.analyze.ruleset import load_rule_set
    from kvdiff.analyzers.analyze.summarybundle import Bundle

    base = (Path(__file__).parent.parent / "fixtures" / "c" / "rules_old.c").read_bytes()
    summarizer = summaries_module.Summarizer("try_to_unmap_one", load_rule_set(), "d")
    one = summarizer.summarize("v2.6.7", "mm/rmap.c", "a", "t", base)
    edited = base.replace(b"goto out_unmap;", b"goto out;", 1)
    other = summarizer.summarize("v2.6.7", "mm/rmap.c", "c", "t", edited)
    moved = replace(one, start_line=one.start_line + 3, end_line=one.end_line + 3)
    copied = replace(
        moved, text="".join(list(moved.text)), concepts=tuple(list(moved.concepts or ()))
    )
    assert copied.text is not moved.text and copied == moved
    shared, distinct = Bundle({}, {}), Bundle({}, {})
    for bundle, third in ((shared, moved), (distinct, copied)):
        for key, summary in (("k1", one), ("k2", other), ("k3", third)):
            bundle.add(key, summary)
    assert shared.to_json() == distinct.to_json()
    stored = json.loads(json.dumps(shared.to_json()))
    # one part per distinct text and concept result (the goto edit changes no concept)
    assert len(stored["parts"]) == len({one.text, other.text}) + len({one.concepts, other.concepts})
    assert one.text != other.text
    back = Bundle.load(stored)
    assert [back.get(k) for k in ("k1", "k2", "k3")] == [one, other, moved]
