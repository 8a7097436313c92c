"""Issue 13, the cache: damaged objects, refs and metadata give one line naming the damaged tag
and `kvdiff fetch --repair` fixes them in place; history never drops a tag silently; unusable
cache paths and full disks are one line with a hint that matches the cause; the provenance file
is never lost. Upstreams are our own synthetic repositories served by `git daemon` on loopback."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import GitDaemon
from kvdiff.analyzers.source import cachelock
from kvdiff.analyzers.source import repo as repo_module
from synthrepo import SIMPLE_C, make_repo, one_error_line, run

FILE = "src/target.c"
TAGS = ("v1.0", "v1.1", "v1.2")


def _version(i: int) -> bytes:
    # Each version has a blob of its own, ~64 KB of hashes that deflate barely: a pack of it
    # outgrows the 16 KB file-size limit of the full-disk test.
    digest, lines = hashlib.sha256(str(i).encode()).hexdigest(), []
    for _ in range(1000):
        digest = hashlib.sha256(digest.encode()).hexdigest()
        lines.append(f"/* {digest} */")
    return SIMPLE_C.replace(b"b > 10", f"b > {10 + i}".encode()) + "\n".join(lines).encode()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitDaemon]:
    base = tmp_path_factory.mktemp("upstreams")
    make_repo(base / "mainline.git", {t: {FILE: _version(i)} for i, t in enumerate(TAGS)})
    make_repo(base / "stable.git", {"v1.1.1": {FILE: _version(9)}})
    make_repo(base / "history.git", {"v0.9": {FILE: _version(8)}})
    served = GitDaemon(base).start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture()
def cache(tmp_path: Path, daemon: GitDaemon) -> Path:
    cache = tmp_path / "cache.git"
    result = kv(daemon, cache, "fetch", *TAGS, "--file", FILE)  # the file at hand offline
    assert result.exit_code == 0, result.output
    return cache


def kv(daemon: GitDaemon, cache: Path, *args: str):
    return run(*args, "--cache", str(cache), "-q", *daemon.upstream_args())


def offline(cache: Path, *args: str):
    return run(*args, "--cache", str(cache), "--offline")


def show(cache: Path, tag: str = "v1.1"):
    return offline(cache, "show", tag, "target_fn", "--file", FILE)


def packs(cache: Path) -> list[Path]:
    return sorted((cache / "objects" / "pack").glob("*.pack"))


def _pack_of(cache: Path, oid: str) -> tuple[Path, int]:
    for pack in packs(cache):
        out = subprocess.run(
            ["git", "verify-pack", "-v", str(pack.with_suffix(".idx"))],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0] == oid:
                return pack, int(parts[4])
    raise AssertionError(f"{oid} in no pack")


def _repaired(daemon: GitDaemon, cache: Path, *tags: str) -> None:
    result = kv(daemon, cache, "fetch", "--repair", *tags)
    assert result.exit_code == 0, result.output
    assert "re-fetched from mainline" in result.stdout, result.stdout
    # Online: what the removed pack held and the side fetch did not bring is fetched on demand.
    good = kv(daemon, cache, "show", "v1.1", "target_fn", "--file", FILE)
    assert good.exit_code == 0, good.output
    assert "b > 11" in good.stdout
    for tag in TAGS:  # nothing else lost
        assert kv(daemon, cache, "show", tag, "target_fn", "--file", FILE).exit_code == 0, tag


def test_bit_flipped_blob_names_the_tag_and_repairs(daemon: GitDaemon, cache: Path) -> None:
    blob = json.loads(_json(cache))["blob_id"]
    pack, offset = _pack_of(cache, blob)
    data = bytearray(pack.read_bytes())
    data[offset + 8] ^= 0x55  # inside the deflated blob, past its header
    os.chmod(pack, 0o644)
    pack.write_bytes(bytes(data))
    for args in (
        ("show", "v1.1", "target_fn", "--file", FILE),
        ("branches", "v1.1", "target_fn", "--file", FILE),
        ("report", "--tags", "v1.0,v1.1", "--function", "target_fn", "--file", FILE,
         "--out", str(cache.parent / "site")),
        ("history", "target_fn", "--file", FILE, "--no-result-cache"),
    ):  # fmt: skip
        line = one_error_line(offline(cache, *args))
        # Blobs of one batch are deltas of each other: a neighbour tag may be the one named.
        assert "damaged at tag v1." in line and "kvdiff fetch --repair v1." in line, args
        assert "URL" not in line
    assert "damaged at tag v1.1" in one_error_line(show(cache))
    _repaired(daemon, cache, "v1.1")


def _json(cache: Path) -> str:
    return offline(cache, "show", "v1.1", "target_fn", "--file", FILE, "--json").stdout


@pytest.mark.parametrize("how", ["truncate", "delete"])
def test_truncated_or_deleted_pack(daemon: GitDaemon, cache: Path, how: str) -> None:
    blob = json.loads(_json(cache))["blob_id"]
    pack, _ = _pack_of(cache, blob)
    if how == "truncate":
        os.chmod(pack, 0o644)
        pack.write_bytes(pack.read_bytes()[: pack.stat().st_size // 2])
    else:
        pack.unlink()
    # In a new process: libgit2 keeps packs it has opened in this one open.
    proc = subprocess.run(
        [sys.executable, "-m", "kvdiff", "show", "v1.1", "target_fn", "--file", FILE,
         "--cache", str(cache), "--offline"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    line = proc.stderr
    assert "damaged at tag v1.1" in line and "--repair" in line, line
    result = kv(daemon, cache, "fetch", "--repair")  # no tag: finds the damage itself
    assert result.exit_code == 0, result.output
    assert "repaired: damaged pack" in result.stdout, result.stdout
    # The blobs of the removed pack come back on demand, from the upstream that served the tag.
    for tag in TAGS:
        assert kv(daemon, cache, "show", tag, "target_fn", "--file", FILE).exit_code == 0, tag


def test_garbage_tag_ref(daemon: GitDaemon, cache: Path) -> None:
    ref = cache / "refs" / "tags" / "v1.1"
    ref.parent.mkdir(parents=True, exist_ok=True)
    ref.write_text("this is no object id\n")
    line = one_error_line(show(cache))
    assert "damaged at tag v1.1" in line and "kvdiff fetch --repair v1.1" in line
    _repaired(daemon, cache, "v1.1")


def test_history_never_drops_a_tag_silently(daemon: GitDaemon, cache: Path) -> None:
    (cache / "refs" / "tags").mkdir(parents=True, exist_ok=True)
    (cache / "refs" / "tags" / "v1.1").write_text("garbage\n")
    result = offline(cache, "history", "target_fn", "--file", FILE, "--no-result-cache")
    assert result.exit_code == 2, result.output
    assert "v1.0" in result.stdout and "v1.2" in result.stdout  # the readable tags are shown
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("kvdiff: error: ") and "v1.1" in line and "--repair" in line


@pytest.mark.parametrize("name", ["shallow", "config", "packed-refs"])
def test_garbage_metadata_file(daemon: GitDaemon, cache: Path, name: str) -> None:
    subprocess.run(["git", "-C", str(cache), "pack-refs", "--all"], check=True)
    path = cache / name
    if name == "packed-refs":
        lines = path.read_text().split("\n")
        lines = ["z" * 40 + x[40:] if x.endswith(" refs/tags/v1.1") else x for x in lines]
        path.write_text("\n".join(lines))
    else:
        path.write_text("[core\n\tnot = = a config\n" if name == "config" else "not a sha\n")
    for result in (
        show(cache),
        offline(cache, "history", "target_fn", "--file", FILE, "--no-result-cache"),
    ):
        line = result.stderr.strip().splitlines()[-1]
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert line.startswith("kvdiff: error: ") and "--repair" in line, line
    assert "delete" not in line or "only holds fetched tags" in line
    fixed = kv(daemon, cache, "fetch", "--repair")
    assert fixed.exit_code == 0, fixed.output
    assert f"repaired: {name}" in fixed.stdout
    for tag in TAGS:
        again = kv(daemon, cache, "show", tag, "target_fn", "--file", FILE)
        assert again.exit_code == 0, (tag, again.output)


def test_a_directory_that_is_no_kvdiff_cache_is_never_called_deletable(tmp_path: Path) -> None:
    other = tmp_path / "my-project"
    other.mkdir()
    (other / "notes.txt").write_text("mine\n")
    line = one_error_line(show(other))
    assert "not a kvdiff cache" in line and "only holds fetched tags" not in line
    line = one_error_line(run("fetch", "--repair", "--cache", str(other)))
    assert "not a kvdiff cache" in line
    assert (other / "notes.txt").read_text() == "mine\n"


def test_uncreatable_cache_path(tmp_path: Path, daemon: GitDaemon) -> None:
    """A cache path under a regular file cannot be created (ENOTDIR), even for root."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    line = one_error_line(kv(daemon, blocker / "cache.git", "fetch", "v1.0"))
    assert "cannot use cache" in line and "Not a directory" in line
    assert "URL" not in line


def test_read_only_cache(
    tmp_path: Path, daemon: GitDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests run as root, which ignores mode bits, and a read-only bind mount needs privileges:
    EROFS is injected in-process by making the cache lock's open() raise it."""
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith(cachelock.LOCK_NAME):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(cachelock.os, "open", read_only)
    line = one_error_line(kv(daemon, tmp_path / "cache.git", "fetch", "v1.0"))
    assert "Read-only file system" in line and "not writable" in line and "URL" not in line


def test_full_disk_while_fetching(tmp_path: Path, daemon: GitDaemon) -> None:
    """A real write failure in a subprocess: RLIMIT_FSIZE (SIGXFSZ ignored, inherited by the
    system git that fetches) makes the pack write fail with EFBIG, as a full disk would; the hint
    is about the disk, not the URL."""
    cache = tmp_path / "cache.git"
    assert kv(daemon, cache, "fetch", "v1.0", "--file", FILE).exit_code == 0

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    proc = subprocess.run(
        [sys.executable, "-m", "kvdiff", "fetch", "v1.1", "--file", FILE, "--cache", str(cache),
         "-q", *daemon.upstream_args()],
        capture_output=True, text=True, preexec_fn=limit, check=False,
    )  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("kvdiff: error: "), lines[0]
    assert "free disk space" in lines[0], lines[0]
    assert "check the URL" not in lines[0]
    # The earlier tag and its provenance are intact.
    assert "from mainline" in show(cache, "v1.0").stdout


def test_origins_survive_a_full_disk(
    tmp_path: Path, daemon: GitDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC injected in-process into the provenance file's atomic write: the fetch stops
    before fetching, and the file (and its previous version) still name every earlier tag."""
    cache = tmp_path / "cache.git"
    assert kv(daemon, cache, "fetch", "v1.0", "--file", FILE).exit_code == 0

    def full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(repo_module, "_write_atomic", full)
    line = one_error_line(kv(daemon, cache, "fetch", "v1.1"))
    assert "No space left on device" in line and "free some disk space" in line
    assert "URL" not in line
    origins = json.loads((cache / repo_module.ORIGINS_NAME).read_text())
    assert origins == {"v1.0": "mainline"}
    monkeypatch.undo()
    assert kv(daemon, cache, "fetch", "v1.1").exit_code == 0
    (cache / repo_module.ORIGINS_NAME).write_text("{ damaged")  # e.g. a crash of another tool
    assert "from mainline" in show(cache, "v1.0").stdout  # read from the kept previous version


def test_five_thousand_digit_tag_asked_of_the_upstreams(tmp_path: Path, daemon: GitDaemon) -> None:
    """The upstreams' listing is searched for the closest tags: no int() ValueError."""
    line = one_error_line(kv(daemon, tmp_path / "cache.git", "fetch", "v1." + "1" * 5000))
    assert "not found in mainline, stable, history" in line
