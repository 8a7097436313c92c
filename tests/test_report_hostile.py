"""Source text is data: hostile comments and strings render inert, on any function of any file."""

from __future__ import annotations

from pathlib import Path

import pygit2
from click.testing import CliRunner
from conftest import FIXTURES
from kvdiff.main import cli
from test_report import check_links, parse_html

PATH = "mm/hostile.c"


def _repo(tmp_path: Path) -> Path:
    """A git repo with the two synthetic fixtures as mm/hostile.c at tags v1.0 and v1.1."""
    repo = pygit2.init_repository(str(tmp_path / "hostile.git"), bare=True)
    sig = pygit2.Signature("kvdiff tests", "tests@example.invalid", 0, 0)
    parents: list[pygit2.Oid] = []
    for tag, name in (("v1.0", "hostile_a.c"), ("v1.1", "hostile_b.c")):
        blob = repo.create_blob((FIXTURES / "c" / name).read_bytes())
        mm = repo.TreeBuilder()
        mm.insert("hostile.c", blob, pygit2.enums.FileMode.BLOB)
        root = repo.TreeBuilder()
        root.insert("mm", mm.write(), pygit2.enums.FileMode.TREE)
        commit = repo.create_commit(None, sig, sig, tag, root.write(), parents)
        repo.create_tag(tag, commit, pygit2.enums.ObjectType.COMMIT, sig, tag)
        parents = [commit]
    return tmp_path / "hostile.git"


def test_hostile_source_renders_inert(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    out = tmp_path / "site"
    result = CliRunner().invoke(
        cli,
        [
            "report",
            "--repo",
            str(repo),
            "--cache",
            str(tmp_path / "cache.git"),
            "--offline",
            "--tags",
            "v1.0,v1.1",
            "--function",
            "hostile_unmap",
            "--file",
            PATH,
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    pages = sorted(out.glob("*.html"))
    assert [p.name for p in pages] == [
        "diff-v1.0--v1.1.html",
        "index.html",
        "tag-v1.0.html",
        "tag-v1.1.html",
    ]
    for path in pages:
        page = parse_html(path)
        tags = [t for t, _ in page.elements]
        assert "img" not in tags and "iframe" not in tags and "style" not in tags
        assert "b" not in tags, path.name
        scripts = page.find("script")
        assert scripts == [{"src": "site.js"}], path.name
        assert not any(k.startswith("on") for _, a in page.elements for k in a), path.name
    tag_page = parse_html(out / "tag-v1.0.html").all_text
    assert "/* </script><img onerror=alert(1)> */" in tag_page
    assert "<!-- comment opener" not in tag_page  # outside the function: not shown
    assert '// ]]> & &amp; "quotes" <!-- --> <b>bold</b>' in tag_page
    diff_page = parse_html(out / "diff-v1.0--v1.1.html").all_text
    assert "<style>body{display:none}</style>" in diff_page
    assert "<iframe src=//evil>" in diff_page
    check_links(out)
