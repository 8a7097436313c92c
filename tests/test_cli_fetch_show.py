"""``kvdiff fetch`` and ``kvdiff show`` as real processes: one-line errors, concurrency, a fetch
killed halfway, parse-error warnings and #ifdef arms. Repositories are built here (no corpus)."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest

from tests.conftest import FIXTURES, REPO_ROOT, GitDaemon, free_port
from tests.test_source_local import FILES_A, FILES_B, make_repo

SHAPES = (FIXTURES / "c" / "extract_shapes.c").read_bytes()


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kvdiff", *args],
        cwd=REPO_ROOT,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def clean_env() -> dict[str, str]:
    # No user kvdiff.toml or cache can leak into the test.
    env = {**os.environ, "XDG_CONFIG_HOME": "/nonexistent", "XDG_CACHE_HOME": "/nonexistent"}
    env.pop("KVDIFF_CACHE", None)
    return env


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("kvdiff: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[GitDaemon]:
    base = tmp_path / "served"
    base.mkdir()
    make_repo(base / "up.git", {"v1.0": FILES_A, "v1.1": FILES_B, "v1.2": {"k/x.c": SHAPES}})
    daemon = GitDaemon(base).start()
    try:
        yield daemon
    finally:
        daemon.stop()


def test_fetch_then_show_with_parse_error_warning_and_ifdef_arms(
    tmp_path: Path, served: GitDaemon
) -> None:
    cache = str(tmp_path / "cache")
    up = ["--upstream", f"mainline={served.url('up')}"]
    fetched = run("fetch", "v1.2", "--cache", cache, *up)
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.startswith("v1.2: fetched from mainline (")
    assert fetched.stderr == ""  # not a TTY: no progress bar

    broken = run("show", "v1.2", "fx_split_branches", "--file", "k/x.c", "--cache", cache)
    assert broken.returncode == 0
    warning = broken.stderr.splitlines()
    assert len(warning) == 1 and warning[0].startswith("kvdiff: warning: fx_split_branches in")
    source = SHAPES.decode().split("\n")
    else_lines = [i + 1 for i, line in enumerate(source) if line.strip() == "} else"]
    assert f"line(s) {else_lines[0]} (ERROR), {else_lines[1]} (ERROR)" in warning[0]
    assert "} else" in broken.stdout

    arms = run("show", "v1.2", "fx_pick_arm", "--file", "k/x.c", "--cache", cache, "--offline")
    header, *body = arms.stdout.splitlines()
    assert header.startswith("v1.2 k/x.c blob ") and header.endswith(" from mainline")
    assert body.count("") == 1  # two definitions, separated by one blank line
    assert sum("static int fx_pick_arm(" in line for line in body) == 2

    doc = json.loads(
        run(
            "show",
            "v1.2",
            "fx_pick_arm",
            "--file",
            "k/x.c",
            "--cache",
            cache,
            "--offline",
            "--json",
        ).stdout
    )
    assert sorted(doc) == [
        "blob_id",
        "definitions",
        "function",
        "origin",
        "path",
        "schema_version",
        "tag",
    ]
    assert [sorted(d) for d in doc["definitions"]] == [
        [
            "end_byte",
            "end_line",
            "errors",
            "has_errors",
            "signature",
            "start_byte",
            "start_line",
            "text",
        ]
    ] * 2
    assert doc["blob_id"] == str(pygit2.hash(SHAPES))


def test_json_is_deterministic(tmp_path: Path) -> None:
    make_repo(tmp_path / "r.git", {"v1.2": {"k/x.c": SHAPES}})
    args = (
        "show",
        "v1.2",
        "fx_split_branches",
        "--file",
        "k/x.c",
        "--json",
        "--repo",
        str(tmp_path / "r.git"),
        "--offline",
    )
    first, second = run(*args), run(*args)
    assert first.returncode == 0 and first.stdout == second.stdout
    errors = json.loads(first.stdout)["definitions"][0]["errors"]
    assert [e["kind"] for e in errors] == ["ERROR", "ERROR"]


def test_bad_inputs_give_one_line_and_exit_2(tmp_path: Path, served: GitDaemon) -> None:
    cache = str(tmp_path / "cache")
    up = [f"--upstream={name}={served.url('up')}" for name in ("mainline", "stable", "history")]
    assert_one_line_error(
        run("fetch", "v1.3", "--cache", cache, *up),
        "tag v1.3 not found in mainline, stable, history; closest: v1.2, v1.1, v1.0",
    )
    dead = f"git://127.0.0.1:{free_port()}/gone.git"
    assert_one_line_error(
        run("fetch", "v1.0", "--cache", cache, "--upstream", f"mainline={dead}"),
        f"cannot reach upstream mainline ({dead}): ",
        "--upstream NAME=URL or [upstreams] in kvdiff.toml), or use --repo PATH / --offline",
    )
    assert_one_line_error(
        run("fetch", "v1.0", "v7", "v8", "--cache", cache, "--offline"),
        "not available offline: v1.0, v7, v8",
    )
    assert_one_line_error(
        run("show", "v1.0", "--file", "mm/nope.c", "--cache", cache, *up),
        "mm/nope.c does not exist at v1.0",
    )
    assert_one_line_error(
        run("show", "v1.0", "nosuch", "--cache", cache, *up),
        "function nosuch not found in mm/rmap.c at v1.0",
    )
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "HEAD").write_bytes(b"\x00\xffjunk")
    assert_one_line_error(
        run("show", "v1.0", "--cache", str(garbage), *up),
        f"cache {garbage} is not a git repository",
        "--cache",
    )
    config_dir = tmp_path / "cfg"
    (config_dir / "kvdiff").mkdir(parents=True)
    (config_dir / "kvdiff" / "kvdiff.toml").write_text("[upstreams\n")
    assert_one_line_error(
        run("fetch", "v1.0", env={**clean_env(), "XDG_CONFIG_HOME": str(config_dir)}),
        "is not valid TOML",
    )


def test_two_concurrent_fetches_share_one_cache(tmp_path: Path, served: GitDaemon) -> None:
    cache = str(tmp_path / "cache")  # does not exist yet: both race to create it
    up = ["--upstream", f"mainline={served.url('up')}"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "kvdiff", "fetch", tag, "--cache", cache, *up],
            cwd=REPO_ROOT,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("v1.0", "v1.1")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    repo = pygit2.Repository(cache)
    assert sorted(r for r in repo.references if r.startswith("refs/tags/")) == [
        "refs/tags/v1.0",
        "refs/tags/v1.1",
    ]
    origins = json.loads((Path(cache) / "kvdiff-origins.json").read_text())
    assert origins == {"v1.0": "mainline", "v1.1": "mainline"}
    for tag, files in (("v1.0", FILES_A), ("v1.1", FILES_B)):
        shown = run("show", tag, "a" if tag == "v1.0" else "b", "--cache", cache, "--offline")
        assert shown.returncode == 0
        assert shown.stdout.splitlines()[2] == "2  {"
        assert str(pygit2.hash(files["mm/rmap.c"])) in shown.stdout.splitlines()[0]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # a finished pack is renamed away
        return 0


@pytest.mark.parametrize("filters", [True, False], ids=["partial", "full"])
def test_fetch_killed_halfway_leaves_cache_usable(tmp_path: Path, filters: bool) -> None:
    """SIGKILL while a pack streams in: on the partial path that is the by-id blob fetch
    (the tag's commit and trees are already in), on the full path the snapshot itself."""
    base = tmp_path / "served"
    base.mkdir()
    big = os.urandom(60 * 1024 * 1024)  # incompressible, so the transfer takes a while
    make_repo(base / "big.git", {"v9.0": {"mm/rmap.c": FILES_A["mm/rmap.c"], "big.bin": big}})
    daemon = GitDaemon(base, filters=filters).start()
    cache = tmp_path / "cache"
    up = ["--upstream", f"mainline={daemon.url('big')}"]
    args = ["fetch", "v9.0", "--file", "big.bin", "--file", "mm/rmap.c", "--cache", str(cache), *up]
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kvdiff", *args],
            cwd=REPO_ROOT,
            env=clean_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pack_dir = cache / "objects" / "pack"
        deadline = time.monotonic() + 60
        partial: list[Path] = []
        while time.monotonic() < deadline and proc.poll() is None:
            if pack_dir.is_dir():
                partial = [p for p in pack_dir.iterdir() if p.name.startswith("tmp_pack_")]
                if any(_size(p) > 1 << 20 for p in partial):  # the big blob is streaming
                    break
            time.sleep(0.005)
        assert partial, "the fetch finished before a temporary pack appeared"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        repo = pygit2.Repository(str(cache))
        tag_arrived = "refs/tags/v9.0" in repo.references
        assert tag_arrived is filters  # partial: trees came first; full: nothing arrived

        again = run(*args)
        assert again.returncode == 0, again.stderr
        expected = "v9.0: already cached (from mainline)" if filters else "v9.0: fetched from"
        assert again.stdout.startswith(expected), again.stdout
        assert not [p for p in pack_dir.iterdir() if p.name.startswith("tmp_")]
        daemon.stop()
        shown = run("show", "v9.0", "a", "--cache", str(cache), "--offline")
        assert shown.returncode == 0 and "return 1;" in shown.stdout
        repo = pygit2.Repository(str(cache))
        assert repo.revparse_single("v9.0^{tree}")["big.bin"].size == len(big)
        assert repo.revparse_single("v9.0^{tree}")["big.bin"].read_raw() == big
        fsck = subprocess.run(["git", f"--git-dir={cache}", "fsck"], capture_output=True)
        assert fsck.returncode == 0, fsck.stderr
    finally:
        daemon.stop()


def _fetch_with_tty_stderr(args: list[str]) -> str:
    """Run ``kvdiff fetch`` with stderr on a pseudo-terminal; return what it drew there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kvdiff", "fetch", *args],
        cwd=REPO_ROOT,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    return b"".join(chunks).decode()


def test_progress_only_on_a_terminal_and_not_quiet(tmp_path: Path, served: GitDaemon) -> None:
    up = ["--upstream", f"mainline={served.url('up')}"]
    drawn = _fetch_with_tty_stderr(["v1.0", "--cache", str(tmp_path / "c1"), *up])
    assert "trees (partial): 1 tag(s) from mainline: " in drawn and " objects, " in drawn
    assert "blobs: 1 object(s) from mainline: " in drawn
    quiet = _fetch_with_tty_stderr(["v1.0", "--quiet", "--cache", str(tmp_path / "c2"), *up])
    assert quiet == ""


def test_fetch_reports_repo_tags_as_available_there(tmp_path: Path) -> None:
    make_repo(tmp_path / "r.git", {"v1.0": FILES_A})
    proc = run("fetch", "v1.0", "--repo", str(tmp_path / "r.git"), "--offline")
    assert proc.returncode == 0
    assert proc.stdout == f"v1.0: available in --repo {tmp_path / 'r.git'}\n"
