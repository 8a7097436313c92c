"""Issue 13, writing the site: never outside --out, never over files kvdiff did not write, stale
pages removed, all-or-nothing, unique page names. Every test runs the real CLI."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from kvdiff.analyzers.present import sitewriter
from synthrepo import SIMPLE_C, make_repo, one_error_line, run

FILE = "src/target.c"
TAGS = ("v1.0", "v1.1", "v1.2")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    versions = {
        tag: {FILE: SIMPLE_C.replace(b"b > 10", f"b > {10 + i}".encode())}
        for i, tag in enumerate(TAGS)
    }
    versions["a/b"] = {FILE: SIMPLE_C}
    versions["a_b"] = {FILE: SIMPLE_C.replace(b"ret = -1", b"ret = -2")}
    return make_repo(tmp_path / "src.git", versions)


def report(repo: Path, out: Path, tags: str = "v1.0,v1.1,v1.2", *extra: str):
    return run(
        "report", "--repo", str(repo), "--cache", str(repo.parent / "cache.git"), "--offline",
        "--function", "target_fn", "--file", FILE, "--tags", tags, "--out", str(out), *extra,
    )  # fmt: skip


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_symlink_inside_out_is_never_followed(repo: Path, tmp_path: Path) -> None:
    out, victim = tmp_path / "site", tmp_path / "victim.txt"
    victim.write_text("precious\n")
    assert report(repo, out).exit_code == 0
    # A page kvdiff wrote, swapped for a link to a file elsewhere: the link is replaced.
    (out / "tag-v1.0.html").unlink()
    (out / "tag-v1.0.html").symlink_to(victim)
    (out / "notes").symlink_to(victim)  # the user's own link: carried over untouched
    result = report(repo, out)
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious\n"
    assert not (out / "tag-v1.0.html").is_symlink()
    assert b"target_fn" in (out / "tag-v1.0.html").read_bytes()
    assert (out / "notes").is_symlink() and os.readlink(out / "notes") == str(victim)


def test_link_named_like_a_page_in_a_foreign_dir(repo: Path, tmp_path: Path) -> None:
    out, victim = tmp_path / "site", tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out.mkdir()
    (out / "index.html").symlink_to(victim)
    line = one_error_line(report(repo, out))
    assert "kvdiff did not make it" in line and "--force" in line
    result = report(repo, out, "v1.0,v1.1,v1.2", "--force")
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious\n"  # --force replaced the link, not its target
    assert not (out / "index.html").is_symlink()


def test_foreign_files_are_refused_then_forced(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("my own index\n")
    (out / "style.css").write_text("my css\n")
    (out / "notes.txt").write_text("keep me\n")
    before = snapshot(out)
    line = one_error_line(report(repo, out))
    assert str(out) in line and "--force" in line
    assert snapshot(out) == before
    result = report(repo, out, "v1.0,v1.1,v1.2", "--force")
    assert result.exit_code == 0, result.output
    assert (out / "notes.txt").read_text() == "keep me\n"
    assert b"target_fn" in (out / "index.html").read_bytes()
    # Now kvdiff's directory: a file the user adds under a page's name is refused by name.
    (out / "tag-v9.html").write_text("mine\n")
    assert report(repo, out).exit_code == 0  # not a name kvdiff writes: fine, and kept
    assert (out / "tag-v9.html").read_text() == "mine\n"


def test_user_file_replacing_a_kvdiff_name_is_refused(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert report(repo, out, "v1.0,v1.1").exit_code == 0
    (out / "tag-v1.2.html").write_text("mine, not kvdiff's\n")
    line = one_error_line(report(repo, out))
    assert "tag-v1.2.html" in line and "did not write" in line
    assert (out / "tag-v1.2.html").read_text() == "mine, not kvdiff's\n"


def test_stale_pages_are_removed(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert report(repo, out).exit_code == 0
    (out / "notes.txt").write_text("keep me\n")
    assert {"tag-v1.2.html", "diff-v1.1--v1.2.html"} <= set(os.listdir(out))
    result = report(repo, out, "v1.0,v1.1")
    assert result.exit_code == 0, result.output
    names = set(os.listdir(out))
    assert "tag-v1.2.html" not in names and "diff-v1.1--v1.2.html" not in names
    assert {"tag-v1.0.html", "tag-v1.1.html", "diff-v1.0--v1.1.html", "notes.txt"} <= names
    assert sitewriter.read_manifest(out) == sorted(names - {"notes.txt", sitewriter.MANIFEST})
    assert not [p for p in os.listdir(tmp_path) if ".kvdiff-work-" in p]


def test_full_disk_leaves_the_previous_site_whole(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC is injected in-process: the site writer's file write raises it on the 3rd file."""
    out = tmp_path / "site"
    assert report(repo, out, "v1.0,v1.1").exit_code == 0
    before = snapshot(out)
    real, calls = sitewriter._write_file, []

    def full_disk(path: Path, text: str) -> None:
        calls.append(path)
        if len(calls) == 3:  # the manifest and one page are written
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, text)

    monkeypatch.setattr(sitewriter, "_write_file", full_disk)
    line = one_error_line(report(repo, out))
    assert "No space left on device" in line and "left as it was" in line
    assert "URL" not in line
    assert snapshot(out) == before
    assert not [p for p in os.listdir(tmp_path) if ".kvdiff-work-" in p]


def _limited(limit: int):
    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # (Python ignores it anyway)

    return preexec


def _report_process(repo: Path, out: Path, limit: int) -> subprocess.CompletedProcess:
    args = ["report", "--repo", str(repo), "--cache", str(repo.parent / "cache.git"), "--offline",
            "--function", "target_fn", "--file", FILE, "--tags", "v1.0,v1.1,v1.2",
            "--out", str(out)]  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "kvdiff", *args],
        capture_output=True,
        text=True,
        preexec_fn=_limited(limit),
        check=False,
    )


_KILL_ON_THIRD_FILE = """
import os, signal, sys
from kvdiff.analyzers.present import sitewriter
from kvdiff.main import cli
real, calls = sitewriter._write_file, []
def write(path, text):
    calls.append(path)
    if len(calls) == 3:  # the manifest and one page are written
        os.kill(os.getpid(), signal.SIGKILL)
    real(path, text)
sitewriter._write_file = write
sys.argv = ["kvdiff", *sys.argv[1:]]
cli()
"""


def test_killed_midway_leaves_the_previous_site_whole(repo: Path, tmp_path: Path) -> None:
    """A real SIGKILL mid-write: a subprocess runs the CLI with the site writer's file write
    wrapped to SIGKILL its own process at the 3rd file (Python ignores SIGXFSZ, so an
    RLIMIT_FSIZE cannot kill it). The next run cleans up the killed run's work directory."""
    out = tmp_path / "site"
    assert report(repo, out, "v1.0,v1.1").exit_code == 0
    before = snapshot(out)
    args = ["report", "--repo", str(repo), "--cache", str(repo.parent / "cache.git"),
            "--offline", "--function", "target_fn", "--file", FILE, "--tags", "v1.0,v1.1,v1.2",
            "--out", str(out)]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_ON_THIRD_FILE, *args], capture_output=True, check=False
    )
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr)
    assert snapshot(out) == before
    assert [p for p in os.listdir(tmp_path) if ".kvdiff-work-" in p]  # the killed run's leftovers
    assert report(repo, out).exit_code == 0
    assert not [p for p in os.listdir(tmp_path) if ".kvdiff-work-" in p]
    assert "tag-v1.2.html" in os.listdir(out)


def test_file_size_limit_is_one_line(repo: Path, tmp_path: Path) -> None:
    """RLIMIT_FSIZE with SIGXFSZ ignored: writes fail with EFBIG, as on a full disk."""
    out = tmp_path / "site"
    assert report(repo, out, "v1.0,v1.1").exit_code == 0
    before = snapshot(out)
    proc = _report_process(repo, out, 4096)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kvdiff: error: "), proc.stderr
    assert "File too large" in lines[0] and "left as it was" in lines[0]
    assert snapshot(out) == before


def test_page_names_are_unique(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = report(repo, out, "a/b,a_b")
    assert result.exit_code == 0, result.output
    pages = sorted(p.name for p in out.glob("tag-*.html"))
    assert len(pages) == 2, pages
    titles = sorted(
        (out / name).read_text().split("<title>")[1].split("<")[0].split(" at ")[1]
        for name in pages
    )
    assert titles == ["a/b", "a_b"]  # one page per tag, neither overwritten
    assert f"wrote {len(sitewriter.read_manifest(out))} files" in result.stdout
    from test_report import check_links

    check_links(out)
